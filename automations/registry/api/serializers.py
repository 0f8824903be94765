"""Serializers of the registry API: `<Model>Serializer` for what the API shows, `<Model><Action>InputSerializer`
for what it takes. People are named by user name, use cases and catalogue entries by key, versions and
releases by their number within the use case."""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as AuthUser
from rest_framework import serializers

from automations.choices import ChangeKind, LegalBasis, RiskTier
from automations.evaluation.models import EvaluationRun
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.changes import Approval, ChangeRequest
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import VERSION_MODELS, Release, ReleaseLabel
from automations.registry.services.changes import CATALOGUE_FIELDS
from automations.registry.services.use_cases import USER_FIELDS

User = get_user_model()

DOCUMENTATION_SCALARS = (
    "title", "department", "purpose", "automated_decisions", "human_decisions", "legal_basis", "legal_basis_note",
    "retention_days", "risk_tier", "risk_rationale", "dpia_reference", "worker_information_reference",
    "affects_employees", "manual_fallback", "review_interval_days", "training_reuse_allowed", "store_masked_prompts",
)
DOCUMENTATION_LISTS = ("integration_points", "input_fields", "output_fields", "data_subjects", "recipients")


class UsernameField(serializers.SlugRelatedField):
    """A person of the use case by user name; null while nobody is named."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", read_only=True, allow_null=True,
                         help_text="User name; null while nobody is named.", **kwargs)


class UseCaseSerializer(serializers.ModelSerializer):
    department_owner = UsernameField()
    it_contact = UsernameField()
    security_officer = UsernameField()
    data_protection_officer = UsernameField()
    escalation_contact = UsernameField()
    catalogue_entries: "serializers.SlugRelatedField[CatalogueEntry]" = serializers.SlugRelatedField(
        slug_field="key", many=True, read_only=True)
    integration_points = serializers.ListField(child=serializers.DictField(), read_only=True)
    input_fields = serializers.ListField(child=serializers.DictField(), read_only=True)
    output_fields = serializers.ListField(child=serializers.DictField(), read_only=True)
    data_subjects = serializers.ListField(child=serializers.CharField(), read_only=True)
    recipients = serializers.ListField(child=serializers.CharField(), read_only=True)
    quality_targets = serializers.DictField(read_only=True)
    labels = serializers.SerializerMethodField(help_text="Label name -> release number.")
    review_due_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = UseCase
        fields = ["key", "status", *DOCUMENTATION_SCALARS, *DOCUMENTATION_LISTS, "catalogue_entries", *USER_FIELDS,
                  "quality_targets", "labels", "created_at", "last_reviewed_at", "review_due_at"]
        read_only_fields = fields

    def get_labels(self, use_case) -> dict[str, int]:
        return {label.name: label.release.number for label in use_case.labels.all()}


class UseCaseDocumentationInputSerializer(serializers.Serializer):
    """The documentation standard; on update, only the fields sent change."""

    title = serializers.CharField(max_length=200)
    department = serializers.CharField(max_length=120, required=False, allow_blank=True)
    purpose = serializers.CharField()
    automated_decisions = serializers.CharField(required=False, allow_blank=True)
    human_decisions = serializers.CharField(required=False, allow_blank=True)
    integration_points = serializers.ListField(child=serializers.DictField(), required=False,
                                               help_text='[{"kind": "erp", "system": "SAP Business One"}]')
    input_fields = serializers.ListField(child=serializers.DictField(), required=False)
    output_fields = serializers.ListField(child=serializers.DictField(), required=False)
    data_subjects = serializers.ListField(child=serializers.CharField(), required=False)
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices, required=False)
    legal_basis_note = serializers.CharField(required=False, allow_blank=True)
    recipients = serializers.ListField(child=serializers.CharField(), required=False)
    catalogue_entries = serializers.ListField(child=serializers.SlugField(), required=False,
                                              help_text="Keys of active catalogue entries.")
    retention_days = serializers.IntegerField(min_value=1, required=False)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    risk_rationale = serializers.CharField(required=False, allow_blank=True)
    dpia_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    worker_information_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    affects_employees = serializers.BooleanField(required=False)
    department_owner = serializers.CharField(required=False, allow_null=True, help_text="User name of a member.")
    it_contact = serializers.CharField(required=False, allow_null=True, help_text="User name of a member.")
    security_officer = serializers.CharField(required=False, allow_null=True, help_text="User name of a member.")
    data_protection_officer = serializers.CharField(required=False, allow_null=True, help_text="User name of a member.")
    escalation_contact = serializers.CharField(required=False, allow_null=True, help_text="User name of a member.")
    manual_fallback = serializers.CharField(required=False, allow_blank=True)
    quality_targets = serializers.DictField(required=False)
    review_interval_days = serializers.IntegerField(min_value=1, required=False)
    training_reuse_allowed = serializers.BooleanField(required=False)
    store_masked_prompts = serializers.BooleanField(required=False)

    def __init__(self, *args, members: dict | None = None, catalogue: dict | None = None, **kwargs):
        self.members = members or {}
        self.catalogue = catalogue or {}
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        for name in USER_FIELDS:
            if attrs.get(name):
                if attrs[name] not in self.members:
                    raise serializers.ValidationError({name: "Not an active member of this tenant."})
                attrs[name] = self.members[attrs[name]]
        if "catalogue_entries" in attrs:
            unknown = sorted(set(attrs["catalogue_entries"]) - set(self.catalogue))
            if unknown:
                raise serializers.ValidationError(
                    {"catalogue_entries": f"Not active in the catalogue: {', '.join(unknown)}"})
            attrs["catalogue_entries"] = [self.catalogue[key] for key in attrs["catalogue_entries"]]
        return attrs


class UseCaseCreateInputSerializer(UseCaseDocumentationInputSerializer):
    key = serializers.SlugField(max_length=60)


class UseCaseUpdateInputSerializer(UseCaseDocumentationInputSerializer):
    """A PATCH: only the documentation fields sent change, and the reason is always required (so the
    serializer is not `partial`, which would make the reason optional as well)."""

    reason = serializers.CharField(help_text="Recorded in the history and the audit log.")

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            field.required = name == "reason"
        return fields


class UseCaseSuspendInputSerializer(serializers.Serializer):
    reason = serializers.CharField()


# --- versions --------------------------------------------------------------------------------------------

class _VersionSerializerBase(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    author: "serializers.SlugRelatedField[AuthUser]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True)
    is_frozen = serializers.BooleanField(read_only=True, help_text="Submitted: it can no longer change.")


class _VersionCreateInputBase(serializers.ModelSerializer):
    use_case = serializers.SlugField(help_text="The use case key.")
    submit = serializers.BooleanField(default=False, help_text="Submit at once (the version becomes immutable).")


def _version_serializers(model):
    name = model.__name__
    fields = ["id", "use_case", "number", "author", "created_at", "change_note", "content_hash", "submitted_at",
              "is_frozen", *model.CONTENT_FIELDS]
    output = type(f"{name}Serializer", (_VersionSerializerBase,), {
        "__module__": __name__,
        "Meta": type("Meta", (), {"model": model, "fields": fields, "read_only_fields": fields}),
    })
    create = type(f"{name}CreateInputSerializer", (_VersionCreateInputBase,), {
        "__module__": __name__,
        "Meta": type("Meta", (), {"model": model, "fields": ["use_case", "change_note", *model.CONTENT_FIELDS,
                                                              "submit"]}),
    })
    return output, create


VERSION_SERIALIZERS = {kind: _version_serializers(model) for kind, model in VERSION_MODELS.items()}
PromptTemplateVersionSerializer, PromptTemplateVersionCreateInputSerializer = VERSION_SERIALIZERS["prompt_template"]
ThresholdSetVersionSerializer, ThresholdSetVersionCreateInputSerializer = VERSION_SERIALIZERS["threshold_set"]
GuardrailSetVersionSerializer, GuardrailSetVersionCreateInputSerializer = VERSION_SERIALIZERS["guardrail_set"]
EngineConfigVersionSerializer, EngineConfigVersionCreateInputSerializer = VERSION_SERIALIZERS["engine_config"]


# --- releases --------------------------------------------------------------------------------------------

class ReleaseSerializer(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    author: "serializers.SlugRelatedField[AuthUser]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True)
    prompt_template = serializers.IntegerField(source="prompt_template.number", read_only=True, allow_null=True,
                                               default=None, help_text="Version number.")
    threshold_set = serializers.IntegerField(source="threshold_set.number", read_only=True)
    guardrail_set = serializers.IntegerField(source="guardrail_set.number", read_only=True, allow_null=True,
                                             default=None)
    engine_configs = serializers.SerializerMethodField()
    labels: "serializers.SlugRelatedField[ReleaseLabel]" = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True)

    class Meta:
        model = Release
        fields = ["id", "use_case", "number", "prompt_template", "threshold_set", "guardrail_set", "engine_configs",
                  "labels", "note", "content_hash", "author", "created_at"]
        read_only_fields = fields

    def get_engine_configs(self, release) -> list[int]:
        return sorted(config.number for config in release.engine_configs.all())


class ReleaseCreateInputSerializer(serializers.Serializer):
    use_case = serializers.SlugField(help_text="The use case key.")
    threshold_set = serializers.IntegerField(min_value=1, help_text="Number of a submitted threshold set version.")
    engine_configs = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False,
                                           help_text="Numbers of submitted engine configuration versions.")
    prompt_template = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    guardrail_set = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- change requests ---------------------------------------------------------------------------------------

class ApprovalSerializer(serializers.ModelSerializer):
    approver: "serializers.SlugRelatedField[AuthUser]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True)

    class Meta:
        model = Approval
        fields = ["role", "approver", "decision", "comment", "created_at"]
        read_only_fields = fields


class ChangeRequestSerializer(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    author: "serializers.SlugRelatedField[AuthUser]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True)
    payload = serializers.DictField(read_only=True)
    diff = serializers.ListField(child=serializers.DictField(), read_only=True)
    required_roles = serializers.ListField(child=serializers.CharField(), read_only=True)
    open_roles = serializers.SerializerMethodField()
    proposed_via_token = serializers.SerializerMethodField()
    approvals = ApprovalSerializer(many=True, read_only=True)
    evaluation: "serializers.PrimaryKeyRelatedField[EvaluationRun]" = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True,
        help_text="The passing evaluation a move of the production label carries (its id).")

    class Meta:
        model = ChangeRequest
        fields = ["id", "use_case", "kind", "title", "description", "payload", "diff", "required_roles", "open_roles",
                  "is_standard", "state", "author", "proposed_via_token", "created_at", "expires_at", "decided_at",
                  "approvals", "evaluation"]
        read_only_fields = fields

    def get_open_roles(self, cr) -> list[str]:
        filled = {a.role for a in cr.approvals.all() if a.decision == "approve"}
        return [role for role in cr.required_roles if role not in filled] if cr.state == "open" else []

    def get_proposed_via_token(self, cr) -> bool:
        return cr.proposed_via_token_id is not None


class ChangeRequestCreateInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    use_case = serializers.SlugField(required=False, allow_null=True,
                                     help_text="The use case key (label moves, status changes, documentation).")
    payload = serializers.DictField(
        help_text='label_move: {"label": "production", "release": 3} (release number; or "release_id"); '
                  'status_change: {"to": "production"}; documentation: {"changes": {field: value}}; '
                  'catalogue: {"key": ..., "fields": {...}}; tenant_policy: {setting: value}.')


# --- catalogue ---------------------------------------------------------------------------------------------

class CatalogueEntrySerializer(serializers.ModelSerializer):
    approved_categories = serializers.ListField(child=serializers.CharField(), read_only=True)
    settings = serializers.DictField(read_only=True)

    class Meta:
        model = CatalogueEntry
        fields = ["key", *CATALOGUE_FIELDS, "created_at"]
        read_only_fields = fields


# --- registry as code --------------------------------------------------------------------------------------

class RegistryImportReportSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.CharField())
    proposed = serializers.ListField(child=serializers.DictField())
    pending = serializers.ListField(child=serializers.DictField())
    waiting = serializers.ListField(child=serializers.CharField())
    conflicts = serializers.ListField(child=serializers.CharField())
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]  # declared fields leave the class (DRF's metaclass); the stubs see them
    in_sync = serializers.BooleanField(help_text="The tenant matches the file: nothing was or remains to be done.")
