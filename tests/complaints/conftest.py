from tests.fixtures_b import api, world  # noqa: F401
