"""Urgency reaches the notification; the notifications queue gets its priority by a
deliberate migration that keeps its messages."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from kombu import Producer, Queue

import celeryconfig
from apps.messaging.broker import broker_connection, queue_status
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import outbox_publish_due
from apps.notifications.models import Notification
from apps.notifications.services import notification_request
from apps.repairs.services import repair_request_submit
from tests.conftest import NOTIFICATION_QUEUES, wait_until
from tests.factories import PropertyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.broker


def test_broker_migrate_gives_an_existing_queue_new_arguments_keeping_its_messages(empty_vhost):
    # The notifications queue as an older release declared it: no x-max-priority.
    old = Queue(
        "notifications",
        celeryconfig.WORK_EXCHANGE,
        routing_key="notifications",
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": celeryconfig.DEAD_LETTER_EXCHANGE.name,
            "x-dead-letter-routing-key": "notifications.dlq",
        },
    )
    with broker_connection(confirm_publish=True) as connection:
        channel = connection.channel()
        old(channel).declare()
        producer = Producer(channel, exchange=celeryconfig.WORK_EXCHANGE)
        for i in range(100):
            producer.publish(
                {"n": i},
                routing_key="notifications",
                headers={"id": f"m{i}"},
                delivery_mode=2,
                priority=i % 10,
            )
    with pytest.raises(CommandError, match="notifications .*broker migrate"):
        call_command("broker", "declare")

    out = io.StringIO()
    call_command("broker", "migrate", stdout=out)
    assert "notifications: migrated, 100 messages kept" in out.getvalue()
    rows = {row["name"]: row for row in queue_status()}
    wanted = "x-queue-type" if celeryconfig.QUORUM else "x-max-priority"
    assert wanted in rows["notifications"]["arguments"]
    assert rows["notifications"]["arguments"] == rows["notifications"]["wanted_arguments"]
    assert "notifications.migrating" not in rows
    call_command("broker", "declare")  # now idempotent again
    with broker_connection() as connection:
        channel = connection.channel()
        kept = []
        while (message := channel.basic_get("notifications", no_ack=True)) is not None:
            kept.append((message.headers["id"], message.properties.get("priority")))
    # Every message kept, with its priority (classic queues now honour it: highest first;
    # a quorum queue keeps their order).
    assert sorted(kept) == sorted((f"m{i}", i % 10) for i in range(100))
    if not celeryconfig.QUORUM:
        priorities = [priority for _, priority in kept]
        assert priorities == sorted((i % 10 for i in range(100)), reverse=True)


def test_urgent_repair_sms_overtakes_a_backlog_of_ordinary_notifications(
    clean_queues, start_worker
):
    prop = PropertyFactory(code="urgent")
    unit = UnitFactory(property=prop, code="U-1")
    resident = UserFactory(role="resident", unit=unit)
    manager = UserFactory(role="manager", property=prop, phone="+441230000")
    UserFactory(role="maintenance", property=prop)
    # A backlog on the SMS queue, where the urgent repair's SMS goes too.
    for i in range(2000):
        notification_request(
            channel="sms",
            template="generic",
            variables={"content": f"{i}"},
            category="general",
            address=f"+1555{i:07}",
        )
    while outbox_publish_due():
        pass
    start_worker("repair_requests")
    start_worker(*NOTIFICATION_QUEUES, env={"SMS_FILE_PATH": ""})  # log only
    ordinary = Notification.objects.filter(category="general")
    wait_until(lambda: ordinary.filter(status="sent").exists(), message="backlog draining")
    submitted = timezone.now()
    repair_request_submit(
        resident=resident, category="plumbing", description="Burst pipe", urgency="urgent"
    )
    sms = wait_until(
        lambda: Notification.objects.filter(user=manager, channel="sms", status="sent").first(),
        timeout=120,
        message="urgent SMS sent",
    )
    # Measured from the moment the urgent SMS reached the SMS queue (the relay published
    # it), not from the repair's submission: the repair's own way there (its consumer, the
    # relay) takes longer on a loaded machine, while the backlog keeps draining.
    queued = max(
        OutboxMessage.objects.filter(
            created_at__gte=submitted, queue__startswith="notifications_sms"
        ).values_list("published_at", flat=True)
    )
    behind = ordinary.filter(status="sent", sent_at__lt=queued).count()
    overtaken = ordinary.filter(status="sent", sent_at__gte=queued, sent_at__lt=sms.sent_at)
    print(
        f"backlog sent when the urgent SMS was queued: {behind} of 2000; after: {overtaken.count()}"
    )
    assert behind < 1800, "the backlog was nearly gone before the urgent SMS was queued"
    assert overtaken.count() < 200
