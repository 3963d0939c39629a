import redis
from celery import shared_task
from django.conf import settings

TICKS_KEY = "notes:ticks"


def broker():
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@shared_task(bind=True)
def tick(self):
    """Records which beat process sent this tick and when: two beats running at once would interleave."""
    broker().rpush(TICKS_KEY, f"{self.request.sent_at} {self.request.origin}")
