"""The Celery application: configuration comes from Django settings (CELERY_* keys)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("leitplanke")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The automations app keeps its tasks beside the concept they serve (registry, execution, training).
app.autodiscover_tasks(["automations.registry", "automations.execution", "automations.training"])
# Every worker reports that it consumes (operations.heartbeat); loaded by name when the worker starts.
app.steps["consumer"].add("operations.heartbeat:WorkerHeartbeat")
