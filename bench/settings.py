"""Settings for the processes `bench/throughput.py` starts: the project's, plus a bench-only
app (`bench.plain`, a plain DRF create to compare the repairs API with) and a switch,
BENCH_PUBLISH=off, under which a repair publishes nothing (no outbox rows)."""

from propmgmt.settings import *  # noqa: F403
from propmgmt.settings import INSTALLED_APPS, env

INSTALLED_APPS = [*INSTALLED_APPS, "bench.plain"]
ROOT_URLCONF = "bench.urls"
BENCH_PUBLISH = env.bool("BENCH_PUBLISH", default=True)
