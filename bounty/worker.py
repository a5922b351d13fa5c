"""The Celery entry point: `celery -A bounty.worker worker` and `celery -A bounty.worker beat`.

Builds the application from the `BOUNTY_*` environment, as the web server does, and
exposes its Celery instance as `app` (the name Celery looks for first; the Flask
application is `flask_app`). A worker needs a broker: without `BOUNTY_CELERY_BROKER_URL`
the jobs already run in-process (eager mode) and there is nothing for a worker to do,
so it refuses to start. See docs/worker.md.
"""

from __future__ import annotations

from celery import Celery

from bounty import create_app

flask_app = create_app()

if not flask_app.config["CELERY_BROKER_URL"]:
    raise SystemExit("BOUNTY_CELERY_BROKER_URL is not set: jobs run in-process (eager mode) and a "
                     "worker has nothing to consume; set it, e.g. redis://127.0.0.1:6379/0")

app: Celery = flask_app.extensions["celery"]
celery = app
