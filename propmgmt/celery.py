import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")

app = Celery("propmgmt")
app.config_from_object("celeryconfig")
