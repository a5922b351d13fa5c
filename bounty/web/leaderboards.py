"""Public leaderboards and their charts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("leaderboards", __name__, url_prefix="/leaderboards")
