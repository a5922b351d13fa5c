"""Background jobs on Celery: the application's Celery instance and its tasks.

Follows the Flask documentation's pattern: every task runs inside an application
context. With no broker configured the jobs run in-process (eager).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Bind a Celery instance to `app` (kept in app.extensions["celery"])."""
