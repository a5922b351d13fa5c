"""The activity endpoints of `/api/v1`: organisation activity per period."""

from __future__ import annotations

from flask_smorest import Blueprint

from bounty.api import errors

blp = Blueprint("api_activity", __name__, description="Organisation activity per period.")
errors.register_handlers(blp)
