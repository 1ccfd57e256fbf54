"""The ceiling the announcement benchmark compares with: a Celery task that does nothing,
drained by the same worker processes (loaded with `--include bench.noop`)."""

from celery import shared_task


@shared_task(name="bench.noop", ignore_result=True)
def noop():
    return None
