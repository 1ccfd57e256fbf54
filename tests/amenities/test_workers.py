"""The amenities worker from the user's seat: real relay and worker processes; who is
told what, the reminder through the outbox's delayed delivery (once, never for a
cancelled booking), and a closure that cancels bookings and tells each resident once."""

from django.utils import timezone

from apps.amenities.models import Reservation
from apps.messaging.models import OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification
from tests.amenities.helpers import amenity, days_ahead, local
from tests.conftest import wait_until as wait

R = "/api/v1/reservations/"


def wait_until(predicate):
    """The worker and relay share two cores with other test runs: be patient."""
    wait(predicate, timeout=90)


def book(api, user, room, start, end):
    body = {"amenity": room.pk, "starts_at": start.isoformat(), "ends_at": end.isoformat()}
    response = api(user).post(R, body, format="json")
    assert response.status_code == 201, response.data
    return Reservation.objects.get(pk=response.data["id"])


def notices(user, template):
    return Notification.objects.filter(user=user, template=template)


def consumed(row):
    return ProcessedMessage.objects.filter(message_id=str(row.pk)).exists()


def reminder_row(reservation):
    return OutboxMessage.objects.get(
        event="reservation.reminder_due", payload__0__data__reservation_id=reservation.pk
    )


def test_request_approval_confirmation_and_one_reminder(world, api, clean_queues, start_worker):
    start_worker("amenities")
    site, manager = world.a, world.a.staff["manager"]
    party = amenity(site.property, needs_approval=True)
    day = days_ahead(4)
    reservation = book(api, site.resident, party, local(day, 18), local(day, 21))
    # The manager is told a request waits (in-app and email); the resident nothing yet.
    wait_until(lambda: notices(manager, "reservation_requested_staff").count() == 2)
    assert not notices(site.resident, "reservation_status_resident").exists()
    r = api(manager).post(f"{R}{reservation.pk}/transition/", {"status": "approved"}, format="json")
    assert r.status_code == 200 and r.data["status"] == "confirmed"
    wait_until(lambda: notices(site.resident, "reservation_status_resident").count() == 2)
    assert "Confirmed" in notices(site.resident, "reservation_status_resident").first().subject
    # The reminder waits in the outbox until an hour before; bring that hour now.
    row = reminder_row(reservation)
    assert row.not_before == local(day, 17) and row.published_at is None
    OutboxMessage.objects.filter(pk=row.pk).update(not_before=timezone.now())
    wait_until(lambda: notices(site.resident, "reservation_reminder").exists())
    # Sent again (a relay's copy, a replay): still one reminder.
    copy = OutboxMessage.objects.get(pk=row.pk)
    copy.pk, copy.published_at, copy.not_before = None, None, None
    copy.save()
    wait_until(lambda: consumed(copy))
    assert notices(site.resident, "reservation_reminder").count() == 1
    assert notices(site.resident, "reservation_status_resident").count() == 2


def test_a_cancelled_booking_is_not_reminded(world, api, clean_queues, start_worker):
    start_worker("amenities")
    site = world.a
    gym = amenity(site.property, name="Gym", kind="gym", capacity=5)
    day = days_ahead(2)
    reservation = book(api, site.resident, gym, local(day, 9), local(day, 10))
    wait_until(lambda: notices(site.resident, "reservation_status_resident").count() == 2)
    r = api(site.resident).post(
        f"{R}{reservation.pk}/transition/", {"status": "cancelled"}, format="json"
    )
    assert r.status_code == 200
    row = reminder_row(reservation)
    OutboxMessage.objects.filter(pk=row.pk).update(not_before=timezone.now())
    wait_until(lambda: consumed(row))
    assert not notices(site.resident, "reservation_reminder").exists()
    # Cancelling one's own booking tells nobody more.
    cancel = OutboxMessage.objects.get(
        event="reservation.status_changed", payload__0__data__status="cancelled"
    )
    wait_until(lambda: consumed(cancel))
    assert notices(site.resident, "reservation_status_resident").count() == 2


def test_a_closure_cancels_covered_bookings_and_tells_each_resident_once(
    world, api, clean_queues, start_worker
):
    start_worker("amenities")
    site, manager = world.a, world.a.staff["manager"]
    gym = amenity(site.property, name="Gym", kind="gym", capacity=5)
    closed, open_day = days_ahead(6), days_ahead(7)
    mine = [book(api, site.resident, gym, local(closed, h), local(closed, h + 1)) for h in (9, 11)]
    theirs = book(api, world.neighbour, gym, local(closed, 9), local(closed, 10))
    kept = book(api, site.resident, gym, local(open_day, 9), local(open_day, 10))
    r = api(manager).post(
        f"/api/v1/amenities/{gym.pk}/closures/",
        {"starts_on": str(closed), "ends_on": str(closed), "reason": "Painting"},
        format="json",
    )
    assert r.status_code == 201, r.data
    wait_until(lambda: notices(world.neighbour, "amenity_closure_resident").count() == 2)
    wait_until(lambda: notices(site.resident, "amenity_closure_resident").count() == 2)
    statuses = dict(Reservation.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in [*mine, theirs]] == ["cancelled"] * 3
    assert statuses[kept.pk] == "confirmed"
    told = notices(site.resident, "amenity_closure_resident").get(channel="in_app")
    assert "Painting" in told.body_text and told.body_text.count(str(closed)) >= 2
    # A booking on the closed day is refused from now on.
    body = {
        "amenity": gym.pk,
        "starts_at": local(closed, 15).isoformat(),
        "ends_at": local(closed, 16).isoformat(),
    }
    assert api(site.resident).post(R, body, format="json").status_code == 400
