"""framelab: message-framing experiments for advocacy campaigns.

`create_app(config)` builds the Flask app. Flask and the web layer are imported
inside it, so `import framelab.domain` or `framelab.services` never pulls in Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from framelab.config import Config


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, database sessions per request, extensions, blueprints.

    `config` may be a `framelab.config.Config` object, or a mapping of overrides on
    top of the environment's config (a mapping with TESTING=True starts from the
    testing config), or None for the environment's config alone.
    """
    from flask import Flask

    from framelab import clock
    from framelab.config import CONFIGS, load_config
    from framelab.web import database, errors, input_checks, logs, security
    from framelab.web.extensions import babel, csrf, limiter, login_manager
    from framelab.web.i18n import select_locale
    from framelab.web.participant import bp as participant
    from framelab.web.studio import bp as studio

    if config is None:
        settings: Config = load_config()
        overrides: Mapping[str, Any] = {}
    elif isinstance(config, Mapping):
        overrides = config
        settings = CONFIGS["testing"]() if config.get("TESTING") else load_config()
    else:
        settings, overrides = config, {}

    app = Flask(
        __name__,
        instance_path=str(overrides.get("INSTANCE_PATH", settings.INSTANCE_PATH)),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.from_object(settings)
    # Participant pages are weighed in bytes on slow phones: drop template whitespace.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # A participant may leave a page open for hours; the session cookie, not a
    # clock, is what binds the CSRF token.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    app.config.update(overrides)

    database.init_app(app)
    clock.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    logs.init_app(app)
    errors.init_app(app)
    # Every blueprint of the app; a new feature adds one line here.
    app.register_blueprint(participant)
    app.register_blueprint(studio)
    security.init_app(app)
    # Last, so it runs first: NUL and lone surrogates are refused before any hook or view.
    input_checks.init_app(app)
    return app
