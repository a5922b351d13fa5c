"""The finance pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("finance", __name__)
