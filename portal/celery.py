"""The Celery application: configuration comes from Django settings (CELERY_* keys)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("leitplanke")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker reports that it consumes (operations.heartbeat); loaded by name when the worker starts.
app.steps["consumer"].add("operations.heartbeat:WorkerHeartbeat")
