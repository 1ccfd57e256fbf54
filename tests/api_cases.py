"""Table-driven API tests, after NetBox's APIViewTestCases: a test class names an endpoint,
how to make an object at a site of the shared world (tests/conftest.py), what to send, and
which roles (all of them at site A) may read, create and update; the cases below check
every role against that table, and that nothing of site B leaks to site A's staff.

    class TestUnits(ListRetrieveCases, CreateCases, UpdateCases):
        url = "/api/v1/units/"
        readers = {...}; creators = {...}; updaters = {...}
        def make(self, site): ...
        def create_data(self, site): ...
        def update_data(self, site): ...
"""

import pytest

from apps.messaging.models import OutboxMessage
from tests.factories import ROLES


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


class EndpointCases:
    url = ""
    readers = frozenset()  # roles that see site A's object; admin sees every site's

    def make(self, site):
        """An object of `site` that its readers see."""
        raise NotImplementedError

    def detail(self, obj):
        return f"{self.url}{obj.pk}/"


class ListRetrieveCases(EndpointCases):
    @pytest.mark.parametrize("role", ROLES)
    def test_list_and_retrieve(self, world, api, role):
        own, other = self.make(world.a), self.make(world.b)
        client = api(world.user(role))
        listing = client.get(self.url)
        if role not in self.readers:
            assert listing.status_code == 403, listing.content
            assert client.get(self.detail(own)).status_code == 403
            return
        assert own.pk in ids(listing)
        assert (other.pk in ids(listing)) == (role == "admin")
        retrieved = client.get(self.detail(own))
        assert (retrieved.status_code, retrieved.json()["id"]) == (200, own.pk)
        assert client.get(self.detail(other)).status_code == (200 if role == "admin" else 404)

    def test_anonymous_is_401(self, world, api):
        own = self.make(world.a)
        assert api().get(self.url).status_code == 401
        assert api().get(self.detail(own)).status_code == 401


class CreateCases(EndpointCases):
    creators = frozenset()
    echoed = ()  # fields of create_data that the created object shows unchanged
    invalid = [({}, set())]  # (body, fields the 400 must name)

    def pytest_generate_tests(self, metafunc):
        if "invalid_body" in metafunc.fixturenames:
            metafunc.parametrize(("invalid_body", "fields"), metafunc.cls.invalid)

    def create_data(self, site):
        raise NotImplementedError

    @pytest.mark.parametrize("role", ROLES)
    def test_create(self, world, api, role):
        client = api(world.user(role))
        response = client.post(self.url, self.create_data(world.a), format="json")
        if role not in self.creators:
            assert response.status_code == 403, response.content
            return
        assert response.status_code == 201, response.content
        # What was created is readable by whom created it, with what was sent.
        created = client.get(f"{self.url}{response.json()['id']}/")
        assert created.status_code == 200
        sent = self.create_data(world.a)
        assert {k: created.json()[k] for k in self.echoed} == {k: sent[k] for k in self.echoed}

    def test_invalid_create_is_400_naming_the_fields(self, world, api, invalid_body, fields):
        model = type(self.make(world.a))
        before = model.objects.count()
        response = api(world.user(sorted(self.creators)[0])).post(
            self.url, invalid_body, format="json"
        )
        assert response.status_code == 400, response.content
        assert fields <= set(response.json()), response.json()
        assert model.objects.count() == before
        assert not OutboxMessage.objects.exists()


class UpdateCases(EndpointCases):
    updaters = frozenset()

    def update_data(self, site):
        raise NotImplementedError

    @pytest.mark.parametrize("role", ROLES)
    def test_update(self, world, api, role):
        own, other = self.make(world.a), self.make(world.b)
        data = self.update_data(world.a)
        client = api(world.user(role))
        response = client.patch(self.detail(own), data, format="json")
        if role not in self.updaters:
            assert response.status_code == 403, response.content
            return
        assert response.status_code == 200, response.content
        stored = client.get(self.detail(own)).json()
        assert {k: stored[k] for k in data} == data
        elsewhere = client.patch(self.detail(other), data, format="json")
        assert elsewhere.status_code == (200 if role == "admin" else 404)
