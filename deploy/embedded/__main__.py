"""`python -m orderstream.deploy.embedded up|down|status`: the dev CLI without the main app."""

from __future__ import annotations

from .cli import dev_app

if __name__ == "__main__":
    dev_app(prog_name="orderstream dev")
