"""A per-process cache of public pages as anonymous visitors see them.

The public bounty board is the page the whole world reads; rendering it (queries, Babel
formatting of every amount and date, the filter form) costs far more than checking whether
anything it shows has changed. A page is served from the cache only to a visitor with an
empty session (not signed in, no message waiting), for the same path, query string and
locale, and only while the change stamp (`bounty.services.freshness`) read on this request
equals the one the page was rendered under. Every worker process keeps its own cache and
checks the shared database, so no worker serves a page older than the last write.
Signed-in viewers, whose pages depend on their roles and claims, are always rendered.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec

from flask import Flask, current_app, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from werkzeug.wrappers import Response

from bounty.extensions import db
from bounty.services.freshness import ChangeStamp, change_stamp

P = ParamSpec("P")
EXTENSION_KEY = "bounty.page_cache"


@dataclass(frozen=True, slots=True)
class CachedPage:
    """A rendered page and the change stamp it was rendered under."""

    stamp: ChangeStamp
    body: bytes
    content_type: str


class PageCache:
    """A bounded least-recently-used map of rendered pages, safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str], CachedPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], stamp: ChangeStamp) -> CachedPage | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.stamp != stamp:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], entry: CachedPage) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask) -> None:
    """Give `app` its own cache (PAGE_CACHE_SIZE pages; 0 turns caching off)."""
    app.extensions[EXTENSION_KEY] = PageCache(app.config["PAGE_CACHE_SIZE"])


def cache_of(app: Flask) -> PageCache:
    cache: PageCache = app.extensions[EXTENSION_KEY]
    return cache


def public_page(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Serve `view` from the cache to anonymous visitors while nothing it shows has changed."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        cache = cache_of(current_app)
        if cache.size == 0 or request.method != "GET" or session:
            return view(*args, **kwargs)
        key = (request.full_path, str(get_locale()))
        stamp = change_stamp(db.session)
        entry = cache.get(key, stamp)
        if entry is not None:
            return Response(entry.body, content_type=entry.content_type)
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not session.modified and not response.direct_passthrough:
            cache.put(key, CachedPage(stamp, response.get_data(), response.content_type or "text/html"))
        return response

    return wrapper

