"""The registry over the API, under the same rules as the browser: use cases (documenting, editing drafts,
suspending), versions (creating, submitting), releases, change requests (proposing, withdrawing — never
approving: that needs a person in a browser session), the catalogue, and export/import of the whole
registry. Rows come from the tenant-scoped selectors; writes go through the services."""
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from audit.actors import actor_from_request
from automations.choices import ChangeKind
from automations.registry import selectors
from automations.registry.api.filters import (
    ChangeRequestFilterSet,
    ReleaseFilterSet,
    UseCaseFilterSet,
    VersionFilterSet,
)
from automations.registry.api.serializers import (
    VERSION_SERIALIZERS,
    CatalogueEntrySerializer,
    ChangeRequestCreateInputSerializer,
    ChangeRequestSerializer,
    RegistryImportReportSerializer,
    ReleaseCreateInputSerializer,
    ReleaseSerializer,
    UseCaseCreateInputSerializer,
    UseCaseSerializer,
    UseCaseSuspendInputSerializer,
    UseCaseUpdateInputSerializer,
)
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.changes import ChangeRequest
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import VERSION_MODELS, Release, ReleaseLabel
from automations.registry.services import changes, use_cases, versions
from automations.registry.services.registry_io import (
    EXPORT_PERMISSIONS,
    IMPORT_PERMISSIONS,
    registry_export,
    registry_import,
)
from portal.api.permissions import HasTenantPermissions, TenantModelPermissions, TenantObjectPermissions, request_tenant
from portal.api.schema import problem
from portal.choices import TokenScope
from portal.selectors import membership_list


def _use_case_or_400(tenant, key: str, field: str = "use_case") -> UseCase:
    try:
        return selectors.use_case_get(tenant=tenant, key=key)
    except ObjectDoesNotExist:
        raise ApiValidationError({field: ["Unknown use case."]}) from None


# --- use cases ----------------------------------------------------------------------------------------

class UseCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Documented use cases of the request's tenant, addressed by key."""

    permission_classes = [TenantModelPermissions]
    token_scopes = {"create": TokenScope.REGISTRY_WRITE, "partial_update": TokenScope.REGISTRY_WRITE,
                    "suspend": TokenScope.REGISTRY_WRITE}
    serializer_class = UseCaseSerializer
    queryset = UseCase.objects.none()
    lookup_field = "key"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    filterset_class = UseCaseFilterSet

    def get_permissions(self):
        if self.action == "suspend":
            self.required_permissions = ("automations.view_usecase", "automations.suspend_usecase")
            return [HasTenantPermissions()]
        if self.action == "partial_update":
            return [TenantObjectPermissions()]  # change_usecase by role, or granted on this use case
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return UseCase.objects.none()
        labels = Prefetch("labels", queryset=ReleaseLabel.objects.select_related("release"))
        return selectors.use_case_list(tenant=request_tenant(self.request)).select_related(
            "it_contact", "security_officer", "data_protection_officer").prefetch_related(
            "catalogue_entries", labels)

    def _input_context(self) -> dict:
        tenant = request_tenant(self.request)
        return {
            "members": {m.user.username: m.user for m in membership_list(tenant=tenant).filter(is_active=True)},
            "catalogue": {e.key: e for e in selectors.catalogue_list(tenant=tenant, active_only=True)},
        }

    def _output(self, use_case, code=status.HTTP_200_OK):
        use_case = self.get_queryset().get(pk=use_case.pk)
        return Response(UseCaseSerializer(use_case).data, status=code)

    @extend_schema(request=UseCaseCreateInputSerializer, responses={201: UseCaseSerializer})
    def create(self, request):
        """Document a new use case; it starts as a draft."""
        body = UseCaseCreateInputSerializer(data=request.data, **self._input_context())
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        tenant = request_tenant(request)
        if selectors.use_case_list(tenant=tenant).filter(key=values["key"]).exists():
            raise ApiValidationError({"key": ["A use case with this key exists already."]})
        use_case = use_cases.use_case_create(actor=actor_from_request(request), tenant=tenant, **values)
        return self._output(use_case, status.HTTP_201_CREATED)

    @extend_schema(request=UseCaseUpdateInputSerializer, responses={
        200: UseCaseSerializer, 409: problem("The use case runs: propose a change request (`needs_change_request`).")})
    def partial_update(self, request, key=None):
        """Edit the documentation of a draft (or retired) use case; a running one answers 409: propose a
        change request of the kind `documentation` instead."""
        use_case = self.get_object()
        body = UseCaseUpdateInputSerializer(data=request.data, **self._input_context())
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        reason = values.pop("reason")
        use_case = use_cases.use_case_update(actor=actor_from_request(request), use_case=use_case, values=values,
                                             reason=reason)
        return self._output(use_case)

    @extend_schema(request=UseCaseSuspendInputSerializer, responses={200: UseCaseSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, key=None):
        """The kill switch: immediate, audited; resuming is a change request."""
        use_case = self.get_object()
        body = UseCaseSuspendInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        use_case = use_cases.use_case_suspend(actor=actor_from_request(request), use_case=use_case,
                                              reason=body.validated_data["reason"])
        return self._output(use_case)


# --- versions ----------------------------------------------------------------------------------------------

class VersionViewSetBase(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Versions of one kind in the request's tenant (`?use_case=KEY` narrows to one use case)."""

    permission_classes = [TenantModelPermissions]
    token_scopes = {"create": TokenScope.REGISTRY_WRITE, "submit": TokenScope.REGISTRY_WRITE}
    kind = ""
    refusal_status = {"submit": status.HTTP_409_CONFLICT}  # submitted already, or not the author's

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return VERSION_MODELS[self.kind].objects.none()
        return selectors.version_list_for_tenant(tenant=request_tenant(self.request), kind=self.kind)

    def create(self, request):
        serializer, input_serializer = VERSION_SERIALIZERS[self.kind]
        body = input_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        use_case = _use_case_or_400(request_tenant(request), values.pop("use_case"))
        submit, note = values.pop("submit", False), values.pop("change_note", "")
        actor = actor_from_request(request)
        version = versions.version_create(actor=actor, use_case=use_case, kind=self.kind, content=values,
                                          change_note=note)
        if submit:
            version = versions.version_submit(actor=actor, version=version)
        return Response(serializer(version).data, status=status.HTTP_201_CREATED)

    def submit(self, request, pk=None):  # exposed per kind by _version_viewset
        """Freeze the draft: from now on it never changes and may be bundled into a release. Only its
        author submits it."""
        version = versions.version_submit(actor=actor_from_request(request), version=self.get_object())
        return Response(self.get_serializer(version).data)


def _version_viewset(kind: str):
    """One viewset class per kind, so that each has its own model permission and schema."""
    serializer, input_serializer = VERSION_SERIALIZERS[kind]
    model = VERSION_MODELS[kind]

    # Fresh functions per class: the schema decorators annotate the function object itself.
    @extend_schema(request=input_serializer, responses={201: serializer})
    def create(self, request):
        return VersionViewSetBase.create(self, request)

    @extend_schema(request=None, responses={200: serializer, 409: problem("Submitted already (`conflict`).")})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return VersionViewSetBase.submit(self, request, pk=pk)

    create.__doc__ = "Create a draft version (`submit: true` freezes it at once)."
    submit.__doc__ = VersionViewSetBase.submit.__doc__
    return type(f"{model.__name__}ViewSet", (VersionViewSetBase,), {
        "__module__": __name__,
        "__doc__": f"{str(model._meta.verbose_name_plural).capitalize()} (`?use_case=KEY` narrows to one use case).",
        "kind": kind, "serializer_class": serializer, "queryset": model.objects.none(),
        "create": create, "submit": submit,
        "filterset_class": type(f"{model.__name__}FilterSet", (VersionFilterSet,), {
            "Meta": type("Meta", (), {"model": model, "fields": ["use_case"]})}),
    })


VERSION_VIEWSETS = {kind: _version_viewset(kind) for kind in VERSION_MODELS}


# --- releases ------------------------------------------------------------------------------------------------

class ReleaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Releases: immutable bundles of exact versions (`?use_case=KEY` narrows to one use case)."""

    permission_classes = [TenantModelPermissions]
    token_scopes = {"create": TokenScope.REGISTRY_WRITE}
    serializer_class = ReleaseSerializer
    queryset = Release.objects.none()
    filterset_class = ReleaseFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Release.objects.none()
        return selectors.release_list_for_tenant(tenant=request_tenant(self.request))

    @extend_schema(request=ReleaseCreateInputSerializer, responses={201: ReleaseSerializer})
    def create(self, request):
        """Bundle submitted versions, named by their numbers within the use case."""
        body = ReleaseCreateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        use_case = _use_case_or_400(request_tenant(request), data["use_case"])

        def pick(kind, number, field):
            if number is None:
                return None
            try:
                return selectors.version_get(use_case=use_case, kind=kind, number=number)
            except ObjectDoesNotExist:
                raise ApiValidationError({field: [f"No version {number}."]}) from None

        release = versions.release_create(
            actor=actor_from_request(request), use_case=use_case, note=data["note"],
            threshold_set=pick("threshold_set", data["threshold_set"], "threshold_set"),
            prompt_template=pick("prompt_template", data.get("prompt_template"), "prompt_template"),
            guardrail_set=pick("guardrail_set", data.get("guardrail_set"), "guardrail_set"),
            engine_configs=[pick("engine_config", n, "engine_configs") for n in data["engine_configs"]])
        return Response(ReleaseSerializer(self.get_queryset().get(pk=release.pk)).data,
                        status=status.HTTP_201_CREATED)


# --- change requests -----------------------------------------------------------------------------------------

class ChangeRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Change requests of the request's tenant. Programs may propose and withdraw; approving needs a
    person in a browser session, so there is no approve endpoint."""

    permission_classes = [TenantModelPermissions]
    token_scopes = {"create": TokenScope.REGISTRY_WRITE, "withdraw": TokenScope.REGISTRY_WRITE}
    serializer_class = ChangeRequestSerializer
    queryset = ChangeRequest.objects.none()
    filterset_class = ChangeRequestFilterSet
    refusal_status = {"withdraw": status.HTTP_409_CONFLICT}  # no longer open

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ChangeRequest.objects.none()
        return selectors.change_request_list(tenant=request_tenant(self.request))

    @extend_schema(request=ChangeRequestCreateInputSerializer, responses={201: ChangeRequestSerializer})
    def create(self, request):
        """Propose a change; the required approvers are notified and decide in their browser inbox."""
        body = ChangeRequestCreateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant = request_tenant(request)
        use_case = _use_case_or_400(tenant, data["use_case"]) if data.get("use_case") else None
        payload = dict(data["payload"])
        if data["kind"] == ChangeKind.LABEL_MOVE and "release_id" not in payload and use_case is not None \
                and "release" in payload:
            try:
                payload["release_id"] = selectors.release_get(use_case=use_case, number=int(payload.pop("release"))).pk
            except (ObjectDoesNotExist, TypeError, ValueError):
                raise ApiValidationError({"payload": ["Unknown release number."]}) from None
        cr = changes.change_request_create(actor=actor_from_request(request), tenant=tenant, kind=data["kind"],
                                           title=data["title"], description=data["description"],
                                           payload=payload, use_case=use_case)
        return Response(ChangeRequestSerializer(self.get_queryset().get(pk=cr.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ChangeRequestSerializer,
                                            409: problem("The request is no longer open (`conflict`).")})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The author withdraws an open request; it is kept as `withdrawn`."""
        cr = changes.change_request_withdraw(actor=actor_from_request(request), change_request=self.get_object())
        return Response(ChangeRequestSerializer(self.get_queryset().get(pk=cr.pk)).data)


# --- catalogue --------------------------------------------------------------------------------------------

class CatalogueEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The tenant's approved processors and connectors (changes are change requests of the kind
    `catalogue`)."""

    permission_classes = [TenantModelPermissions]
    serializer_class = CatalogueEntrySerializer
    queryset = CatalogueEntry.objects.none()
    lookup_field = "key"
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CatalogueEntry.objects.none()
        return selectors.catalogue_list(tenant=request_tenant(self.request)).order_by("kind", "key")


# --- registry as code ------------------------------------------------------------------------------------

class RegistryExportView(GenericAPIView):
    """The tenant's whole registry as JSON; ids, times and authors sit under `instance_specific`."""

    permission_classes = [HasTenantPermissions]
    required_permissions = EXPORT_PERMISSIONS

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(registry_export(tenant=request_tenant(request)))


class RegistryImportView(GenericAPIView):
    """Bring the tenant towards a registry file (an export) through drafts and change requests; call it
    again after the approvals until `in_sync`."""

    permission_classes = [HasTenantPermissions]
    token_scopes = {"post": TokenScope.REGISTRY_WRITE}
    required_permissions = IMPORT_PERMISSIONS
    serializer_class = RegistryImportReportSerializer

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: RegistryImportReportSerializer})
    def post(self, request):
        report = registry_import(actor=actor_from_request(request), tenant=request_tenant(request),
                                 data=request.data)
        return Response(report.as_dict())


router = SimpleRouter()
router.register("use-cases", UseCaseViewSet, basename="use-case")
router.register("prompt-template-versions", VERSION_VIEWSETS["prompt_template"], basename="prompt-template-version")
router.register("threshold-set-versions", VERSION_VIEWSETS["threshold_set"], basename="threshold-set-version")
router.register("guardrail-set-versions", VERSION_VIEWSETS["guardrail_set"], basename="guardrail-set-version")
router.register("engine-config-versions", VERSION_VIEWSETS["engine_config"], basename="engine-config-version")
router.register("releases", ReleaseViewSet, basename="release")
router.register("change-requests", ChangeRequestViewSet, basename="change-request")
router.register("catalogue", CatalogueEntryViewSet, basename="catalogue-entry")

urlpatterns = [
    *router.urls,
    path("registry/export/", RegistryExportView.as_view(), name="registry-export"),
    path("registry/import/", RegistryImportView.as_view(), name="registry-import"),
]
