"""GitLab webhooks: verify the token, record the delivery once, enqueue the work."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("hooks", __name__)
