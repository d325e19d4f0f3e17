"""Push logs to Sluice's Loki API with two Loki client libraries from PyPI,
each through its own code path, authenticating with HTTP Basic (the key as
password), as promtail and most Loki clients do:

- loki-logger-handler: gzip-compressed JSON, JSON lines, labels;
- python-logging-loki: JSON (Loki API v1), `severity` label, expects 204.

Usage: loki_push.py BASE_URL API_KEY
Exits non-zero if either library reported an error.
"""

import logging
import sys

import logging_loki
from loki_logger_handler.loki_logger_handler import LokiLoggerHandler

base, key = sys.argv[1], sys.argv[2]
url = f"{base}/loki/api/v1/push"
errors = []

handler = LokiLoggerHandler(
    url=url,
    labels={"service_name": "billing", "env": "test"},
    auth=("sluice", key),
    compressed=True,
    timeout=3600,  # no timed flush: this script sends once, below
)
handler.handle_unexpected_error = errors.append
modern = logging.getLogger("billing")
modern.propagate = False
modern.addHandler(handler)
modern.warning("invoice %s overdue", 17, extra={"customer": "c-9"})
handler._send()  # what the library's own atexit hook calls

legacy_handler = logging_loki.LokiHandler(url=url, tags={"app": "legacy"}, auth=("sluice", key), version="1")
legacy_handler.handleError = lambda record: errors.append(sys.exc_info()[1])
legacy = logging.getLogger("legacy")
legacy.propagate = False
legacy.addHandler(legacy_handler)
legacy.error("nightly export failed")

if errors:
    sys.exit(f"errors: {errors!r}")
