"""Deleting old rows in bounded chunks, each in a short transaction of its own.

One `DELETE ... WHERE created < cutoff` over millions of rows holds its locks and its
snapshot for minutes, bloats at once and cannot be stopped halfway; chunks of at most
PRUNE_CHUNK_ROWS rows commit as they go, and a run that reaches its deadline stops
where it is (the next run goes on from there).
"""

import time

from django.conf import settings
from django.db import transaction


def delete_in_chunks(queryset, *, deadline=None, chunk_rows=None):
    """Delete the rows `queryset` selects, `chunk_rows` at a time; return how many.

    Each chunk is `DELETE ... WHERE pk IN (SELECT pk ... LIMIT n)` in its own
    transaction (related rows go as their foreign keys say, in the same one). Stops
    when a chunk comes back short or at `deadline` (a time.monotonic() value)."""
    chunk_rows = chunk_rows or settings.PRUNE_CHUNK_ROWS
    model = queryset.model
    chunk_ids = queryset.order_by().values("pk")[:chunk_rows]
    deleted = 0
    while deadline is None or time.monotonic() < deadline:
        with transaction.atomic():
            _, by_model = model.objects.filter(pk__in=chunk_ids).delete()
        count = by_model.get(model._meta.label, 0)
        deleted += count
        if count < chunk_rows:
            break
    return deleted


def prune_deadline():
    """When a pruning run stops: PRUNE_MAX_SECONDS from now, inside the task's soft limit."""
    return time.monotonic() + settings.PRUNE_MAX_SECONDS
