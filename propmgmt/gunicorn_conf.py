"""gunicorn settings for the web process: prometheus_client's multiprocess mode, so that
/metrics adds up the request counters of every gunicorn worker (apps/ops/metrics.py)."""

import os
import shutil
from pathlib import Path

# Emptied when gunicorn starts: counters of a previous run would add to this one's.
METRICS_DIR = Path(
    os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    or Path(__file__).resolve().parent.parent / "var" / "prometheus-web"
)


def on_starting(server):
    shutil.rmtree(METRICS_DIR, ignore_errors=True)
    METRICS_DIR.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# What a proxy's X-Forwarded-Proto means is Django's decision (TRUSTED_PROXY_COUNT,
# SECURE_PROXY_SSL_HEADER): gunicorn must not turn a request into HTTPS on its own because
# a local peer sent the header.
secure_scheme_headers = {}
