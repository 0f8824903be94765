from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from leitstand.api import LeitstandApiView
from portal.problems import api_not_found
from portal.views import favicon

api_v1: list[URLPattern | URLResolver] = [
    path("", include("portal.api.urls")),
    path("", include("automations.api.urls")),
    path("", include("reviews.api.urls")),
    path("", include("audit.api.urls")),
    path("leitstand/", LeitstandApiView.as_view(), name="leitstand"),
]

_inline_style = csp_update({"style-src": ["'unsafe-inline'"]})

urlpatterns = [
    path("", include("operations.urls")),
    path("", include("portal.urls_ui")),
    path("registry/", include("automations.urls")),
    path("work/", include("automations.execution.urls")),
    path("reviews/", include("reviews.urls")),
    path("audit/", include("audit.urls")),
    path("leitstand/", include("leitstand.urls")),
    # The language switch works before sign-in too (the login page offers it).
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its start script as a file of its own (the Content-Security-Policy allows no inline
    # script). Swagger UI and Redoc style their pages with generated <style> elements: these two pages alone
    # allow inline style, never inline script.
    path("api/docs/", _inline_style(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("api/redoc/", _inline_style(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    # Unknown paths and path parameters of the wrong form under /api/: a problem response, never a page.
    re_path(r"^api/", api_not_found),
]

# Database or broker unreachable: 503 with Retry-After (JSON on /api/), not a 500 page.
handler500 = "operations.outages.handler500"

# The quick start's demo pages (demo invoices to download and send), by name only and never in production.
if not settings.PRODUCTION:
    urlpatterns.append(path("demo/", include("demo.urls")))
