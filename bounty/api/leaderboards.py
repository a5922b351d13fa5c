"""The leaderboards endpoints of `/api/v1`: leaderboards, badges and public-listing consent."""

from __future__ import annotations

from flask_smorest import Blueprint

from bounty.api import errors

blp = Blueprint("api_leaderboards", __name__, description="Leaderboards, badges and public-listing consent.")
errors.register_handlers(blp)
