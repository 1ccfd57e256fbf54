"""Reads of the messaging app: the outbox's health, for operators, metrics and checks."""

from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.messaging.models import OutboxMessage


def outbox_stats(*, now=None):
    """Unpublished rows waiting (parked ones apart), the age in seconds of the oldest
    one that is due (0 when none), and how many are parked for an operator."""
    now = now or timezone.now()
    unpublished = OutboxMessage.objects.filter(published_at__isnull=True)
    due_since = Coalesce("not_before", "created_at")
    figures = unpublished.aggregate(
        waiting=Count("id", filter=Q(parked_at__isnull=True)),
        parked=Count("id", filter=Q(parked_at__isnull=False)),
    )
    oldest = (
        unpublished.filter(parked_at__isnull=True)
        .annotate(due_since=due_since)
        .filter(due_since__lte=now)
        .aggregate(oldest=Min("due_since"))["oldest"]
    )
    return {
        "unpublished": figures["waiting"],
        "oldest_unpublished_age": (now - oldest).total_seconds() if oldest else 0.0,
        "parked": figures["parked"],
    }
