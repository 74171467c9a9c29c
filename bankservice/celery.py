"""Celery application: broker and schedules come from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankservice.settings")

app = Celery("bankservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
