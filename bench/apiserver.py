"""The API as ``streamwise serve`` runs it, plus one trivial endpoint for the benchmark's baseline.

``python -m bench.apiserver PORT`` reads the same STREAMWISE_* settings as ``streamwise serve``
and builds the same app with :func:`api.app.create_app`; ``POST /trivial`` is added to that very
app instance, so both endpoints share the server, middleware and event loop.
"""

from __future__ import annotations

import sys

import uvicorn

from api.app import create_app
from streamwise.clock import SystemClock
from streamwise.settings import Settings
from streamwise.wiring import build_store


def main(port: int) -> None:
    settings = Settings.load()
    app = create_app(
        settings.model_specs(),
        build_store(settings),
        settings.snapshot_key(),
        SystemClock(),
        reload_interval_s=settings.api.reload_interval_s,
        max_batch=settings.api.max_batch,
    )

    @app.post("/trivial", include_in_schema=False)
    async def trivial() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
