"""Test settings: the project's settings on a dedicated RabbitMQ vhost and database.

The vhost and database names can be changed per checkout (TEST_BROKER_VHOST,
DATABASE_URL) so that two suites on one machine never share state.
"""

import os
from urllib.parse import quote

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/propmgmt")
# Tests (and the workers they start) run the development configuration.
os.environ.setdefault("DEBUG", "true")

from propmgmt.settings import *  # noqa: F403
from propmgmt.settings import INSTALLED_APPS, env

# `make test` runs the suite in two pytest-xdist processes (gw0, gw1): pytest-django gives
# each its own database (test_<name>_gw0); here each gets its own vhost and Redis database.
# The worker processes a test starts inherit PYTEST_XDIST_WORKER and a vhost named from
# the suffixed one (itself, or e.g. `<vhost>_gw0_empty`), so the suffix is added once.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
TEST_BROKER_VHOST = env.str("TEST_BROKER_VHOST", default="propmgmt_test")
if XDIST_WORKER and f"_{XDIST_WORKER}" not in TEST_BROKER_VHOST:
    TEST_BROKER_VHOST = f"{TEST_BROKER_VHOST}_{XDIST_WORKER}"
# host:port of each broker node, `;`-separated: several make a failover list, as
# CELERY_BROKER_URL takes for a cluster (tests/messaging/test_cluster_failover.py).
TEST_BROKER_HOSTS = env.str("TEST_BROKER_HOSTS", default="127.0.0.1:5672")
CELERY_BROKER_URL = ";".join(
    f"amqp://guest:guest@{host}/{quote(TEST_BROKER_VHOST, safe='')}"
    for host in TEST_BROKER_HOSTS.split(";")
)

INSTALLED_APPS = [*INSTALLED_APPS, "tests.probe"]


def _redis_location():
    """TEST_REDIS_URL, one database lower for each xdist worker after the first: a test
    flushes its cache, which must not empty another process's."""
    url = env.str("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
    if not XDIST_WORKER.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db) - int(XDIST_WORKER[2:])}"


# Tests flush their cache: a Redis database of their own, never the development one.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _redis_location(),
        "KEY_PREFIX": TEST_BROKER_VHOST,
    }
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OUTBOX_RELAY_INTERVAL = 0.2
# Worker processes started by tests use these settings too.
DEBUG = True
# Static files are not collected for tests; serve nothing rather than warn.
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
