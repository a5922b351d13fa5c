"""The API of hours."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_hours", __name__, description="Contribution hours: log, list, review.")
