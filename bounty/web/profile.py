"""People's profiles (badges, standing) and one's own public-listing consent."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("profile", __name__, url_prefix="/people")
