"""http://localhost:8000/ is a small page that links everything a newcomer needs."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_front_door_links_docs_admin_flower_and_health(settings):
    settings.FLOWER_URL = "http://flower.example:5555"
    settings.DEMO_DATA = True
    response = Client().get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for link in (
        'href="/api/v1/docs/"',
        'href="/admin/"',
        'href="http://flower.example:5555/"',
        'href="/readyz/"',
        'href="/healthz/"',
    ):
        assert link in page, link
    assert "demo-pass-2026" in page and "<code>alice</code>" in page


def test_demo_logins_only_with_demo_data(settings):
    settings.DEMO_DATA = False
    page = Client().get("/").content.decode()
    assert "demo-pass-2026" not in page and "alice" not in page
    assert 'href="/admin/"' in page
