"""How an API operation documents its error answers in the OpenAPI document: each status
with its description, all in the one error shape (`ErrorOut`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_smorest import Blueprint

from bounty.api.schemas import ErrorOut


def error_docs(blp: Blueprint, descriptions: Mapping[int, str]) -> Callable[..., Callable[[Any], Any]]:
    """A decorator maker for the operations of `blp`: `@documented(401, 404)` documents those
    answers with their description from `descriptions`."""

    def documented(*statuses: int) -> Callable[[Any], Any]:
        def decorator(view: Any) -> Any:
            for status in statuses:
                view = blp.alt_response(status, schema=ErrorOut, description=descriptions[status])(view)
            return view

        return decorator

    return documented
