import json
import os

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from notes.models import Note
from notes.tasks import TICKS_KEY, broker


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def version(request):
    return JsonResponse({"version": os.environ.get("APP_VERSION", "unknown"), "secure": request.is_secure()})


def notes(request):
    return JsonResponse({"notes": list(Note.objects.values_list("title", flat=True))})


@csrf_exempt
def media(request, name):
    path = os.path.join(settings.MEDIA_ROOT, os.path.basename(name))
    if request.method == "PUT":
        with open(path, "wb") as handle:
            handle.write(request.body)
        return HttpResponse(status=201)
    try:
        with open(path, "rb") as handle:
            return JsonResponse({"content": handle.read().decode()})
    except FileNotFoundError:
        return HttpResponse(json.dumps({"error": "not found"}), status=404, content_type="application/json")


def ticks(request):
    """The beat's ticks as the worker recorded them: [sent_at, origin] in the order they were recorded."""
    recorded = (entry.decode().split(" ", 1) for entry in broker().lrange(TICKS_KEY, 0, -1))
    return JsonResponse({"ticks": [[float(sent_at), origin] for sent_at, origin in recorded]})
