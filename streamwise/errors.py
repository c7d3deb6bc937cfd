"""Every deliberate streamwise error. Nothing else in the project defines exceptions."""

from __future__ import annotations


class StreamwiseError(Exception):
    """Base class: a failure streamwise detected and can explain."""


class ConfigError(StreamwiseError):
    """Settings or a model spec are invalid; the message says which value and why."""


class SpecError(ConfigError):
    """A model spec failed validation or names something outside the allow-list."""


class InvalidEvent(StreamwiseError):
    """A message could not be accepted as an event.

    Parameters
    ----------
    reason
        Stable machine-readable code: ``schema``, ``size`` or ``type``.
    detail
        Human-readable explanation.
    raw
        The original bytes, kept so the dead-letter topic loses nothing.
    """

    def __init__(self, reason: str, detail: str, raw: bytes = b"") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.raw = raw


class SnapshotRejected(StreamwiseError):
    """A stored snapshot failed verification and was not unpickled."""


class SnapshotConflict(StreamwiseError):
    """Another writer moved the latest snapshot first; this writer must not overwrite it."""


class SpecMismatch(StreamwiseError):
    """The stored snapshot was trained from a different spec than the one given."""


class OffsetsOutOfRange(StreamwiseError):
    """Stored offsets point past the end of a partition: the topic was recreated or truncated."""


class BusError(StreamwiseError):
    """The event bus failed (unreachable broker, send failure, timeout)."""


class StoreError(StreamwiseError):
    """The snapshot store failed (unreachable, timeout)."""


class ModelNotReady(StreamwiseError):
    """No snapshot of the requested model has been loaded yet."""


class UnknownModel(StreamwiseError):
    """The requested model id is not served here."""


class UnknownPrediction(StreamwiseError):
    """Feedback names a prediction id this deployment never issued."""


class PredictionExpired(StreamwiseError):
    """Feedback came after the model stopped waiting for it (``delayed_labels.ttl_seconds``)."""


class Unauthorized(StreamwiseError):
    """A request without a valid API key for what it asks."""
