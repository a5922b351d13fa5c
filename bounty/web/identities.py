"""Identities in the web UI: the unlinked queue for program admins, claims by contributors."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("identities", __name__)
