import pytest

from apps.ops import selectors
from apps.ops.health import dead_letter_history

ALL_QUEUES = (
    "user_registration",
    "asset_management",
    "visitor_management",
    "repair_requests",
    "complaints",
    "reporting",
    "notifications",
    "notifications_email",
    "notifications_sms",
    "notifications_in_app",
    "announcements",
    "amenities",
    "front_desk",
)


@pytest.fixture(autouse=True)
def fresh_ops_state():
    """Each test sees the broker as it is now, not a cached or sampled earlier state."""
    selectors.queue_status_cache_clear()
    dead_letter_history.clear()
    yield
    selectors.queue_status_cache_clear()
    dead_letter_history.clear()


@pytest.fixture(autouse=True)
def probes_subscribed(probe_events):
    """Every ops test has the probe consumers (tests/fixtures/probes.py)."""
