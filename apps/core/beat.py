"""The beat scheduler: django-celery-beat's database scheduler that installs the
celeryconfig.beat_schedule entries only where missing, so an entry edited or disabled in
the admin keeps its edits across beat restarts (the stock one overwrites them)."""

from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler


class InstallOnceScheduler(DatabaseScheduler):
    def update_from_dict(self, mapping):
        existing = set(
            PeriodicTask.objects.filter(name__in=list(mapping)).values_list("name", flat=True)
        )
        super().update_from_dict({n: e for n, e in mapping.items() if n not in existing})
