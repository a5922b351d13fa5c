"""Adapter over python-gitlab: merged merge requests and their commits as plain dataclasses."""
