"""Structured logging: one JSON object per line. Only the CLI calls :func:`configure`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

# Attributes every LogRecord has; anything else came in through ``extra=`` and is data.
# uvicorn's color_message duplicates msg with terminal escapes.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """Format a record as JSON with its ``extra`` fields at top level.

    Examples
    --------
    >>> rec = logging.makeLogRecord({"msg": "snapshot saved", "levelname": "INFO",
    ...                              "name": "learner", "created": 0, "version": 3})
    >>> print(JsonFormatter().format(rec))
    {"ts": "1970-01-01T00:00:00.000Z", "level": "INFO", "logger": "learner",
     "msg": "snapshot saved", "version": 3}
    """

    def format(self, record: logging.LogRecord) -> str:
        ts = dt.datetime.fromtimestamp(record.created, dt.UTC)
        out: dict[str, object] = {
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class _PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        return f"{base} {extra}" if extra else base


def configure(level: str = "INFO", as_json: bool = True) -> None:
    """Send every log line to stderr, as JSON or as readable text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else _PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python logs every connection attempt at INFO; keep its warnings.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, root.level))
