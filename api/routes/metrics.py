"""GET /metrics: Prometheus text exposition of this process's registry."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Registry

router = APIRouter(tags=["metrics"])


@router.get("/metrics", operation_id="metrics", response_class=Response)
def metrics(registry: Registry) -> Response:
    """Request counters and latencies, plus version, events and metrics of each served model."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
