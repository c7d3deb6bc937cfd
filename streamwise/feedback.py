"""What the API sends back into the stream: served predictions, feedback labels, commands.

Prediction ids are signed tokens (model, issue time, nonce, HMAC), so any API replica can tell
an id it never issued (404) from one that expired (410) without shared state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from streamwise.events import Command, Label, ServedPrediction
from streamwise.ports import Bus
from streamwise.settings import TopicSettings


@dataclass(frozen=True, slots=True)
class PredictionId:
    """The decoded parts of a verified prediction id."""

    model_id: str
    issued_at: float


class PredictionIds:
    """Issues and verifies prediction ids.

    Examples
    --------
    >>> ids = PredictionIds(b"k" * 32)
    >>> token = ids.issue("fault-detector", 1_800_000_000.0)
    >>> ids.verify(token)
    PredictionId(model_id='fault-detector', issued_at=1800000000.0)
    >>> ids.verify(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    True
    """

    def __init__(self, key: bytes) -> None:
        # A key of its own, derived: a prediction id must never verify as anything else.
        self._key = hmac.new(key, b"streamwise prediction id", hashlib.sha256).digest()

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, model_id: str, now: float) -> str:
        body = f"{model_id}.{int(now * 1000)}.{secrets.token_hex(8)}"
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str) -> PredictionId | None:
        """The id's parts if this deployment issued it, else None."""
        if not token.isascii():  # every id issued here is ASCII; compare_digest needs it too
            return None
        body, _, signature = token.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        model_id, _, rest = body.rpartition(".")  # the nonce
        model_id, _, issued_ms = model_id.rpartition(".")
        try:
            return PredictionId(model_id, int(issued_ms) / 1000)
        except ValueError:
            return None


class Outbox:
    """Publishes for the API; predictions are flushed in the background, the rest at once."""

    def __init__(self, bus: Bus, topics: TopicSettings) -> None:
        self._bus = bus
        self._topics = topics
        self._lock = threading.Lock()  # the memory bus is not thread-safe; Kafka's client is
        self._unflushed = 0

    def command(self, command: Command) -> None:
        self._send(self._topics.control, command.model_id, command.encode())

    def label(self, label: Label) -> None:
        self._send(self._topics.labels, label.ref_event_id, label.encode())

    def prediction(self, served: ServedPrediction) -> None:
        # Not flushed per request: /predict must not wait for the broker's acknowledgement.
        with self._lock:
            self._bus.publish(self._topics.predictions, served.model_id, served.encode())
            self._unflushed += 1

    def flush(self) -> None:
        """Make published predictions durable (called by the API every few milliseconds)."""
        with self._lock:
            if self._unflushed:
                self._bus.flush(timeout_s=10.0)
                self._unflushed = 0

    def _send(self, topic: str, key: str, value: bytes) -> None:
        with self._lock:
            self._bus.publish(topic, key, value)
            self._bus.flush(timeout_s=10.0)
            self._unflushed = 0
