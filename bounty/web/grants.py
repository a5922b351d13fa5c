"""The grants pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("grants", __name__)
