"""The API of grants."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_grants", __name__, description="Grants: tranches against milestones, sign-off, cancel.")
