"""Organisation activity per period (fast-track procurement bonus)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("activity", __name__, url_prefix="/activity")
