"""The hours pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("hours", __name__)
