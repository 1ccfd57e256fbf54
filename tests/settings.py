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

TEST_BROKER_VHOST = env.str("TEST_BROKER_VHOST", default="propmgmt_test")
# host:port of each broker node, `;`-separated: several make a failover list, as
# CELERY_BROKER_URL takes for a cluster (tests/messaging/test_cluster_failover.py).
TEST_BROKER_HOSTS = env.str("TEST_BROKER_HOSTS", default="127.0.0.1:5672")
CELERY_BROKER_URL = ";".join(
    f"amqp://guest:guest@{host}/{quote(TEST_BROKER_VHOST, safe='')}"
    for host in TEST_BROKER_HOSTS.split(";")
)

INSTALLED_APPS = [*INSTALLED_APPS, "tests.probe"]
# Tests flush their cache: a Redis database of their own, never the development one.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15"),
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
