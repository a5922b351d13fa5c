"""Awards: rounds, nominations, votes and the results of each year."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("awards", __name__, url_prefix="/awards")
