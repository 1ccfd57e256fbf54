"""The no-op task of the Celery drain ceilings (bench/throughput.py, bench/announcements.py)."""

from celery import Task, shared_task


# A plain Celery task, not the app's task_cls (the consumers' delivery policy): the
# ceiling of Celery itself.
@shared_task(name="bench.noop", base=Task)
def noop(*args, **kwargs):
    return None
