"""The Celery app as Celery's Django guide sets it up: settings under the CELERY_ namespace, tasks from each app."""

import os
import time

from celery import Celery
from celery.signals import before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")

app = Celery("site_config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def stamp_sending_time(headers=None, **_):
    """Ticks are recorded by whichever worker takes them, possibly late: the time the beat sent one travels with it."""
    headers["sent_at"] = time.time()
