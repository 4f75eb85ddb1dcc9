"""gunicorn's logger for framelab: every line scrubbed of people (framelab.web.logs).

`framelab serve` uses it (`logger_class`); with gunicorn itself, pass
`--logger-class framelab.web.gunicorn_log.ScrubbingLogger`. It installs the scrubbing
log-record factory when gunicorn sets up its logs, before the app is loaded, so the
master's and every worker's lines (gunicorn's "Invalid request from ip=...", the URI of
a request that failed, Flask's tracebacks) are scrubbed whichever handler writes them.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from framelab.web.logs import install_scrubbing


class ScrubbingLogger(Logger):
    """gunicorn's Logger with framelab's scrubbing of addresses, agents, ids, codes, queries."""

    def setup(self, cfg: Any) -> None:
        install_scrubbing()
        super().setup(cfg)
