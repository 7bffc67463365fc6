"""Celery application: Redis broker, JSON only, late acknowledgement.

All configuration lives in lending/settings.py under the CELERY_ prefix; the
static beat schedule is settings.CELERY_BEAT_SCHEDULE, which the
django-celery-beat DatabaseScheduler syncs into its tables at start. With no
REDIS_URL, settings make every task run eagerly in the calling process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lending.settings")

app = Celery("lending")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
