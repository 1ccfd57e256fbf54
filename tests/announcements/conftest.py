# The fixtures these tests share with others: the demo installation and the outbox relay.
from tests.admin.conftest import demo, demo_once  # noqa: F401
from tests.messaging.conftest import start_relay  # noqa: F401
