"""A move-out cancels the leaving resident's future bookings, through real relay and worker
processes: the amenities consumer reacts to `residency.ended` itself, cancels each of
their live bookings at the property as a workflow step by the office (a history row; no
reminder after), leaves the neighbours' alone, and tells the resident once."""

import datetime

from django.utils import timezone

from apps.amenities.models import Reservation
from apps.messaging.models import OutboxMessage
from apps.properties.services import residency_moves_process
from tests.amenities.helpers import amenity, days_ahead, local
from tests.amenities.test_workers import book, consumed, notices, reminder_row, wait_until


def test_a_move_out_cancels_the_residents_future_bookings_and_tells_them_once(
    world, api, clean_queues, start_worker
):
    start_worker("amenities")
    site = world.a
    gym = amenity(site.property, name="Gym", kind="gym", capacity=5)
    party = amenity(site.property, needs_approval=True)
    day = days_ahead(3)
    confirmed = book(api, site.resident, gym, local(day, 9), local(day, 10))
    requested = book(api, site.resident, party, local(day, 18), local(day, 20))
    theirs = book(api, world.neighbour, gym, local(day, 9), local(day, 10))
    wait_until(lambda: notices(site.resident, "reservation_status_resident").count() == 2)
    # The manager planned the move-out: yesterday was the resident's last day.
    residency = site.resident.residencies.get()
    residency.end_date = timezone.localdate() - datetime.timedelta(days=1)
    residency.save()
    assert residency_moves_process()[1] == 1

    told = notices(site.resident, "reservation_move_out_resident")
    wait_until(lambda: told.count() == 2)  # in-app and email
    statuses = dict(Reservation.objects.values_list("pk", "status"))
    assert statuses[confirmed.pk] == statuses[requested.pk] == "cancelled"
    assert statuses[theirs.pk] == "confirmed"
    step = confirmed.history.get(to_status="cancelled")
    assert step.changed_by is None and "moved out" in step.note
    body = told.get(channel="in_app").body_text
    assert "Gym" in body and "Party room" in body and body.count(str(day)) == 2
    # The cancelled booking's reminder comes due: nobody is reminded.
    row = reminder_row(confirmed)
    OutboxMessage.objects.filter(pk=row.pk).update(not_before=timezone.now())
    wait_until(lambda: consumed(row))
    assert not notices(site.resident, "reservation_reminder").exists()
    # The office's cancellations tell nothing more; the job run again ends nothing.
    cancels = OutboxMessage.objects.filter(
        event="reservation.status_changed", payload__0__data__status="cancelled"
    )
    assert cancels.count() == 2
    wait_until(lambda: all(consumed(cancel) for cancel in cancels))
    assert residency_moves_process() == (0, 0)
    assert told.count() == 2
    assert notices(site.resident, "reservation_status_resident").count() == 2
    assert not notices(world.neighbour, "reservation_move_out_resident").exists()
