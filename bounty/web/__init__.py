"""HTML blueprints: parse the request, authorise, call a service, render or redirect."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from bounty.web.public import bp as public_bp

    app.register_blueprint(public_bp)
