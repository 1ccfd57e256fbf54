import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")

# Every task inherits the delivery policy of tasks/base.py (imported when the first task
# is created, after Django's apps are loaded); the topology is in celeryconfig.py.
app = Celery("propmgmt", task_cls="tasks.base:ConsumerTask")
app.config_from_object("celeryconfig")
