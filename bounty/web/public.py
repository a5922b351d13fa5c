"""Public pages: the health check and the landing page."""

from flask import Blueprint

bp = Blueprint("public", __name__)
