"""Free text on repairs and complaints has limits: the API answers 400 naming the field, and
the models refuse the same text to the admin and every service that validates."""

import pytest
from django.core.exceptions import ValidationError

from apps.complaints.models import ComplaintComment
from apps.core.validators import NOTE_MAX_LENGTH, TEXT_MAX_LENGTH
from tests.factories import ComplaintFactory, RepairRequestFactory

pytestmark = pytest.mark.django_db

LONG, LONG_NOTE = "x" * (TEXT_MAX_LENGTH + 1), "x" * (NOTE_MAX_LENGTH + 1)


def test_the_api_refuses_oversized_text_with_field_messages(api, world):
    resident, site = api(world.a.resident), world.a
    cases = [
        (resident, "/api/v1/repairs/", {"category": "pest", "description": LONG}, "description"),
        (
            resident,
            "/api/v1/complaints/",
            {"category": "noise", "subject": "s", "description": LONG},
            "description",
        ),
    ]
    complaint = ComplaintFactory(site=site, status="resolved")
    repair = RepairRequestFactory(site=site)
    cases += [
        (resident, f"/api/v1/complaints/{complaint.pk}/comments/", {"body": LONG}, "body"),
        (
            resident,
            f"/api/v1/complaints/{complaint.pk}/rate/",
            {"rating": 4, "comment": LONG_NOTE},
            "comment",
        ),
        (
            api(site.staff["maintenance"]),
            f"/api/v1/repairs/{repair.pk}/transition/",
            {"status": "acknowledged", "note": LONG_NOTE},
            "note",
        ),
    ]
    for client, url, body, field in cases:
        response = client.post(url, body, format="json")
        assert response.status_code == 400, (url, response.content)
        assert field in response.json(), (url, response.json())
    just_fits = resident.post(
        "/api/v1/repairs/",
        {"category": "pest", "description": "x" * TEXT_MAX_LENGTH},
        format="json",
    )
    assert just_fits.status_code == 201, just_fits.content


def test_the_models_refuse_oversized_text(world):
    complaint = ComplaintFactory(site=world.a)
    with pytest.raises(ValidationError) as refused:
        ComplaintComment(complaint=complaint, author=world.a.resident, body=LONG).full_clean()
    assert "body" in refused.value.message_dict
    repair = RepairRequestFactory.build(site=world.a, description=LONG)
    with pytest.raises(ValidationError) as refused:
        repair.full_clean()
    assert "description" in refused.value.message_dict
