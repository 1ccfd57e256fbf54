from tests.messaging.conftest import start_relay  # noqa: F401 (the relay fixture)
