"""The worker's web surface: `/metrics`, `/health` and `/ready`, and nothing else.

Faust's built-in views (`/table/...` rows with personal data, `/router/...`, index, stats, graph)
are off, so the port serves no stored data; it binds `ORDERSTREAM_WEB_BIND` (default 127.0.0.1).
`/health` is 200 while the event loop runs; `/ready` is 200 once the worker holds an assignment,
has recovered its tables and is not rebalancing, else 503 with a short JSON reason.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.web.base import BlueprintManager

from .metrics import Metrics

QUIET_WEB: dict[str, Any] = {  # keyword arguments of faust.App: typed Any at that seam
    "web_tables_enabled": False,
    "web_router_enabled": False,
    "web_stats_enabled": False,
    "web_graph_enabled": False,
    "web_metrics_enabled": False,
}
"""Faust settings that turn each of its flagged built-in views off."""


def serve_only_ours(app: faust.App) -> None:
    """Drop every built-in blueprint Faust would mount, flagged or not (its index at `/` has
    no flag); pages registered with `app.page` are views, not blueprints, and stay."""
    app.web.blueprints = BlueprintManager()


def readiness(app: Any) -> str | None:
    """Why the worker is not ready yet, or None when it is."""
    if app.rebalancing:
        return "rebalancing"
    if app.in_recovery:
        return "recovering tables"
    if not app.tables.recovery.completed.is_set():
        return "waiting for a partition assignment"
    return None


def register(app: faust.App, metrics: Metrics) -> None:
    """Mount the worker's three pages."""

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        return web.bytes(metrics.exposition(), content_type="text/plain; version=0.0.4")

    @app.page("/health")
    async def health_page(web: Any, request: Any) -> Any:
        return web.json({"status": "alive"})

    @app.page("/ready")
    async def ready_page(web: Any, request: Any) -> Any:
        reason = readiness(app)
        if reason is not None:
            return web.json({"status": "not ready", "reason": reason}, status=503)
        return web.json({"status": "ready"})
