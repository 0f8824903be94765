"""What the API's views over a part's rows share."""
from typing import Any

from django.db.models import QuerySet
from rest_framework.generics import GenericAPIView

from portal.api.permissions import request_tenant


class TenantScopedMixin(GenericAPIView):
    """Rows come from the part's tenant-scoped selector: `scoped_queryset(tenant=, user=)` for the request's
    tenant and user (never `Model.objects`). `queryset` only names the model, for the permissions and the
    schema; the schema generator, which has no tenant, gets none of its rows. Put it first among the bases."""

    def scoped_queryset(self, *, tenant, user) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset().none()
        return self.scoped_queryset(tenant=request_tenant(self.request), user=self.request.user)
