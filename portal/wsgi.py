import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()
# The URL configuration (and with it every view, serializer and API module) is imported now, while the worker
# starts, instead of inside its first request: a fresh worker would otherwise answer that request seconds late.
get_resolver().url_patterns  # noqa: B018  (the attribute's import is the point)
