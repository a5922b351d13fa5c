"""The documents endpoints of `/api/v1`: ask for a document, follow it, download it."""

from __future__ import annotations

from flask_smorest import Blueprint

from bounty.api import errors

blp = Blueprint("api_documents", __name__, description="Documents built on the job queue.")
errors.register_handlers(blp)
