"""The no-op task of the Celery drain ceilings (bench/throughput.py, bench/announcements.py)."""

from celery import shared_task


@shared_task(name="bench.noop")
def noop(*args, **kwargs):
    return None
