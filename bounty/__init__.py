"""bounty: the contributor incentive and bounty ledger of the sovereign-cloud cooperative.

`create_app` is the only composition root: it reads the settings, validates them, binds
the extensions and registers the blueprints. The `bounty` command (`bounty.cli`) builds
its application through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from bounty import auth, tasks
from bounty import config as config_module
from bounty.api import register_api
from bounty.extensions import babel, csrf, db
from bounty.web import page_cache, register_blueprints, security

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then `BOUNTY_*` environment, then `config`."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).resolve().parent / "static"),
    )
    settings = config_module.build(app.instance_path, config)
    config_module.validate(settings)
    app.config.update(settings)
    app.config["TESTING"] = settings["ENV"] == "testing"
    if settings["DATABASE_URL"].startswith("sqlite:///") and settings["DATABASE_URL_IS_DEFAULT"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    babel.init_app(app, default_locale=settings["DEFAULT_LOCALE"])
    auth.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    page_cache.init_app(app)
    tasks.init_app(app)

    register_blueprints(app)
    register_api(app)
    return app
