"""The awards endpoints of `/api/v1`: awards: rounds, nominations, votes, results."""

from __future__ import annotations

from flask_smorest import Blueprint

from bounty.api import errors

blp = Blueprint("api_awards", __name__, description="Awards: rounds, nominations, votes, results.")
errors.register_handlers(blp)
