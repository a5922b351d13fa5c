"""Tests of the background jobs: the Celery instance, its schedule, and a real worker on Redis."""
