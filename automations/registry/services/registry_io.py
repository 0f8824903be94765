"""Registry as code: a tenant's whole registry as one JSON document, and an import that brings another
tenant towards it through drafts and change requests — never by writing production state.

The export lists what the registry *is* (policy, catalogue, use cases with documentation, versions,
releases and labels). What only describes this installation (ids, times, authors, the tenant itself)
sits under the top-level key `instance_specific`, which a comparison ignores.

The import converges: each run does what is possible now and reports what waits for approvals —
documentation of drafts is written directly (drafts are not production), versions are created and
submitted, releases bundled; catalogue entries, tenant control settings, label moves, status changes and
documentation edits of live use cases are proposed as change requests. After the approvers decided, the
next run proposes what depended on those decisions (a status change needs its label, a use case its
catalogue entries). When a run finds nothing left to do, the tenant's export equals the file, apart from
`instance_specific`."""
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from automations.choices import ChangeKind, Label, UseCaseStatus
from automations.evaluation.selectors import evaluation_passing
from automations.registry import selectors
from automations.registry.models.use_cases import TenantPolicy, UseCase
from automations.registry.models.versions import VERSION_MODELS
from automations.registry.services import changes, use_cases, versions
from automations.registry.services.changes import CATALOGUE_FIELDS, TRANSITIONS
from automations.registry.services.use_cases import DETAIL_FIELDS, DOCUMENTATION_FIELDS, USER_FIELDS
from portal.permissions import require_perm
from portal.selectors import membership_get, user_get_by_username

FORMAT = "leitplanke.registry/1"
INSTANCE_SPECIFIC = "instance_specific"
POLICY_DETAILS = DETAIL_FIELDS
POLICY_CONTROLS = TenantPolicy.WEAKENING_FIELDS
DECIMAL_CONTROLS = ("standard_threshold_delta", "sample_check_share")
IMPORT_REASON = "registry import"

# Reading the whole registry needs every read permission it covers.
EXPORT_PERMISSIONS = (
    "automations.view_usecase", "automations.view_catalogueentry", "automations.view_tenantpolicy",
    "automations.view_prompttemplateversion", "automations.view_thresholdsetversion",
    "automations.view_guardrailsetversion", "automations.view_engineconfigversion", "automations.view_release",
    "automations.view_releaselabel",
)
# Importing writes drafts, versions and releases and proposes change requests.
IMPORT_PERMISSIONS = (
    "automations.add_usecase", "automations.change_usecase", "automations.add_changerequest",
    "automations.add_release", "automations.add_prompttemplateversion", "automations.add_thresholdsetversion",
    "automations.add_guardrailsetversion", "automations.add_engineconfigversion", "automations.change_tenantpolicy",
)


def _decimal(value) -> str:
    """Decimals as plain strings without trailing zeros, whether read back (0.050) or defaulted (0.05)."""
    return format(Decimal(str(value)).normalize(), "f")


def _time(value) -> str | None:
    return value.isoformat() if value else None


def _username(user) -> str | None:
    return user.username if user is not None else None


# --- export ---------------------------------------------------------------------------------------------

def documentation_of(use_case: UseCase) -> dict:
    """Every documentation field; people by user name, catalogue entries by key."""
    values: dict[str, Any] = {}
    for name in DOCUMENTATION_FIELDS:
        if name == "catalogue_entries":
            values[name] = sorted(entry.key for entry in use_case.catalogue_entries.all())
        elif name in USER_FIELDS:
            values[name] = _username(getattr(use_case, name))
        else:
            values[name] = getattr(use_case, name)
    return values


def _release_data(release) -> dict:
    return {
        "number": release.number, "note": release.note, "content_hash": release.content_hash,
        "prompt_template": release.prompt_template.number if release.prompt_template_id else None,
        "threshold_set": release.threshold_set.number,
        "guardrail_set": release.guardrail_set.number if release.guardrail_set_id else None,
        "engine_configs": sorted(config.number for config in release.engine_configs.all()),
    }


def registry_export(*, tenant) -> dict:
    policy = selectors.tenant_policy_get(tenant=tenant)
    instance: dict[str, Any] = {"exported_at": timezone.now().isoformat(),
                                "tenant": {"slug": tenant.slug, "name": tenant.name}, "catalogue": {}, "use_cases": {}}
    catalogue = []
    for entry in selectors.catalogue_list(tenant=tenant).order_by("key"):
        catalogue.append({"key": entry.key, **{name: getattr(entry, name) for name in CATALOGUE_FIELDS}})
        instance["catalogue"][entry.key] = {"id": entry.pk, "created_at": _time(entry.created_at)}
    exported = []
    for use_case in (selectors.use_case_list(tenant=tenant).select_related(*USER_FIELDS)
                     .prefetch_related("catalogue_entries").order_by("key")):
        about: dict[str, Any] = {"id": use_case.pk, "created_at": _time(use_case.created_at),
                 "last_reviewed_at": _time(use_case.last_reviewed_at), "versions": {}, "releases": {}, "labels": {}}
        version_data: dict[str, list[dict]] = {}
        for kind in VERSION_MODELS:
            listed = list(selectors.version_list(use_case=use_case, kind=kind).select_related("author")
                          .order_by("number"))
            version_data[kind] = [{"number": v.number, "content": v.content(), "content_hash": v.content_hash,
                                   "change_note": v.change_note, "submitted": v.is_frozen} for v in listed]
            about["versions"][kind] = {str(v.number): {"id": v.pk, "author": _username(v.author),
                                                       "created_at": _time(v.created_at),
                                                       "submitted_at": _time(v.submitted_at)} for v in listed}
        releases = sorted(selectors.release_list(use_case=use_case).select_related("author"), key=lambda r: r.number)
        about["releases"] = {str(r.number): {"id": r.pk, "author": _username(r.author),
                                             "created_at": _time(r.created_at)} for r in releases}
        labels: dict[str, int] = {}
        for label in selectors.release_labels_with_versions(use_case=use_case):
            labels[label.name] = label.release.number
            about["labels"][label.name] = {"moved_at": _time(label.moved_at)}
        exported.append({
            "key": use_case.key, "status": use_case.status, "documentation": documentation_of(use_case),
            "versions": version_data, "releases": [_release_data(r) for r in releases],
            "labels": dict(sorted(labels.items())),
        })
        instance["use_cases"][use_case.key] = about
    return {
        "format": FORMAT,
        "policy": {
            "details": {name: getattr(policy, name) for name in POLICY_DETAILS},
            "controls": {name: _decimal(getattr(policy, name)) if name in DECIMAL_CONTROLS else getattr(policy, name)
                         for name in POLICY_CONTROLS},
        },
        "catalogue": catalogue,
        "use_cases": exported,
        INSTANCE_SPECIFIC: instance,
    }


def without_instance_specific(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != INSTANCE_SPECIFIC}


# --- import ---------------------------------------------------------------------------------------------

@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)  # drafts, versions, releases, policy details
    proposed: list[dict] = field(default_factory=list)  # new change requests
    pending: list[dict] = field(default_factory=list)  # proposed earlier, still open
    waiting: list[str] = field(default_factory=list)  # possible only after pending approvals: run again
    conflicts: list[str] = field(default_factory=list)  # differ and cannot be reconciled by an import
    errors: list[str] = field(default_factory=list)  # refused by the registry's rules

    @property
    def in_sync(self) -> bool:
        return not (self.created or self.proposed or self.pending or self.waiting or self.conflicts or self.errors)

    def as_dict(self) -> dict:
        return {**asdict(self), "in_sync": self.in_sync}


class _Importer:
    def __init__(self, *, actor, tenant, report: ImportReport):
        self.actor, self.tenant, self.report = actor, tenant, report

    # A change request once: an identical open one is reported as pending instead.
    def propose(self, *, kind: str, title: str, payload: dict, use_case=None, description: str = "") -> None:
        existing = selectors.change_request_open_matching(tenant=self.tenant, kind=kind, use_case=use_case,
                                                          payload=payload)
        entry = {"title": title, "kind": kind, "use_case": use_case.key if use_case else None}
        if existing is not None:
            self.report.pending.append({**entry, "id": existing.pk})
            return
        cr = changes.change_request_create(
            actor=self.actor, tenant=self.tenant, kind=kind, title=title, payload=payload, use_case=use_case,
            description=description or _("Proposed by a registry import."))
        self.report.proposed.append({**entry, "id": cr.pk, "required_roles": cr.required_roles})

    def attempt(self, label: str, action) -> bool:
        """Run one step in a savepoint; a refusal by the registry's rules is reported, not raised."""
        try:
            with transaction.atomic():
                action()
            return True
        except ValidationError as error:
            self.report.errors.append(f"{label}: {' '.join(str(m) for m in error.messages)}")
            return False

    # --- policy and catalogue ------------------------------------------------------------------------

    def policy(self, data: dict) -> None:
        policy = selectors.tenant_policy_get(tenant=self.tenant)
        details = {name: value for name, value in (data.get("details") or {}).items()
                   if name in POLICY_DETAILS and getattr(policy, name) != value}
        # Files written before the works agreement and the group size became control settings carry
        # them among the details: they are proposed as control settings.
        moved = {name: value for name, value in (data.get("details") or {}).items() if name in POLICY_CONTROLS}
        if details:
            def update():
                use_cases.tenant_policy_update_details(actor=self.actor, tenant=self.tenant, values=details,
                                                       reason=IMPORT_REASON)
                self.report.created.append(_("Tenant details: %(f)s") % {"f": ", ".join(sorted(details))})
            self.attempt(_("Tenant details"), update)
        controls = {}
        for name, value in {**moved, **(data.get("controls") or {})}.items():
            if name not in POLICY_CONTROLS:
                continue
            current = getattr(policy, name)
            if name in DECIMAL_CONTROLS:
                if _decimal(current) != _decimal(value):
                    controls[name] = _decimal(value)
            elif current != value:
                controls[name] = value
        if controls:
            self.attempt(_("Tenant control settings"), lambda: self.propose(
                kind=ChangeKind.TENANT_POLICY, title=_("Tenant control settings from the registry file"),
                payload=controls))

    def catalogue(self, entries: list[dict]) -> None:
        for data in entries:
            key = data.get("key")
            existing = selectors.catalogue_list(tenant=self.tenant).filter(key=key).first()
            fields = {name: data[name] for name in CATALOGUE_FIELDS if name in data}
            if existing is not None:
                fields = {name: value for name, value in fields.items() if getattr(existing, name) != value}
                if not fields:
                    continue
            title = ((_("Catalogue entry %(key)s changed") if existing else _("New catalogue entry %(key)s"))
                     % {"key": key})
            self.attempt(title, partial(self.propose, kind=ChangeKind.CATALOGUE, title=title,
                                        payload={"key": key, "fields": fields}))

    # --- use cases -----------------------------------------------------------------------------------------

    def _resolve(self, key: str, documentation: dict) -> tuple[dict, dict]:
        """Documentation values as the services take them (objects) and as a change request names them
        (user names, keys); people who are no members here and entries not (yet) in this catalogue are
        left out and reported."""
        objects: dict[str, Any] = {}
        names: dict[str, Any] = {}
        for name, value in documentation.items():
            if name not in DOCUMENTATION_FIELDS:
                continue
            if name in USER_FIELDS:
                user = user_get_by_username(username=value) if value else None
                if value and (user is None or membership_get(user=user, tenant=self.tenant) is None):
                    # Left as it is here (empty for a new use case) rather than cleared by a proposal.
                    self.report.conflicts.append(_("%(key)s: %(user)s is no member of this tenant; %(field)s is "
                                                   "not taken over.") % {"key": key, "user": value, "field": name})
                    continue
                objects[name], names[name] = user, _username(user)
            elif name == "catalogue_entries":
                active = {e.key: e for e in selectors.catalogue_list(tenant=self.tenant, active_only=True)
                          .filter(key__in=value or [])}
                missing = sorted(set(value or []) - set(active))
                if missing:
                    self.report.waiting.append(_("%(key)s: uses catalogue entries not approved here yet (%(keys)s); "
                                                 "run the import again once they are.")
                                               % {"key": key, "keys": ", ".join(missing)})
                objects[name] = [active[k] for k in sorted(active)]
                names[name] = sorted(active)
            else:
                objects[name] = names[name] = value
        return objects, names

    def _documentation(self, data: dict) -> UseCase | None:
        key = data["key"]
        objects, names = self._resolve(key, data.get("documentation") or {})
        use_case = selectors.use_case_list(tenant=self.tenant).filter(key=key).first()
        if use_case is None:
            def create():
                values = dict(objects)
                use_cases.use_case_create(actor=self.actor, tenant=self.tenant, key=key, **values)
                self.report.created.append(_("Use case %(key)s (draft)") % {"key": key})
            self.attempt(key, create)
            return selectors.use_case_list(tenant=self.tenant).filter(key=key).first()
        current = documentation_of(use_case)
        differing = [name for name in names if current.get(name) != names[name]]
        if not differing:
            return use_case
        if use_case.status in (UseCaseStatus.DRAFT, UseCaseStatus.RETIRED):
            def update():
                use_cases.use_case_update(actor=self.actor, use_case=use_case, reason=IMPORT_REASON,
                                          values={name: objects[name] for name in differing})
                self.report.created.append(_("Use case %(key)s: documentation updated (%(f)s)")
                                           % {"key": key, "f": ", ".join(differing)})
            self.attempt(key, update)
        else:
            self.attempt(key, lambda: self.propose(
                kind=ChangeKind.DOCUMENTATION, use_case=use_case,
                title=_("Documentation of %(key)s from the registry file") % {"key": key},
                payload={"changes": {name: names[name] for name in differing}}))
        use_case.refresh_from_db()
        return use_case

    def _versions(self, use_case: UseCase, data: dict) -> dict:
        """Creates (and submits) the versions the file has and this tenant lacks, number for number.
        Returns kind -> number -> version for the versions that match the file."""
        matching: dict[str, dict] = {}
        for kind, listed in (data.get("versions") or {}).items():
            if kind not in VERSION_MODELS:
                continue
            present = {v.number: v for v in selectors.version_list(use_case=use_case, kind=kind)}
            matching[kind] = {}
            for entry in sorted(listed, key=lambda e: e["number"]):
                number = entry["number"]
                version = present.get(number)
                if version is None:
                    if number != len(present) + 1:
                        self.report.conflicts.append(_("%(key)s: %(kind)s v%(n)s cannot be numbered like the file.")
                                                     % {"key": use_case.key, "kind": kind, "n": number})
                        break
                    created: list = []

                    def create(entry=entry, kind=kind, created=created):
                        version = versions.version_create(actor=self.actor, use_case=use_case, kind=kind,
                                                          content=entry["content"],
                                                          change_note=entry.get("change_note", ""))
                        if entry.get("submitted"):
                            version = versions.version_submit(actor=self.actor, version=version)
                        created.append(version)
                    if not self.attempt(f"{use_case.key} {kind} v{number}", create):
                        break
                    version = present[number] = created[0]
                    self.report.created.append(_("%(key)s: %(kind)s v%(n)s") % {"key": use_case.key, "kind": kind,
                                                                                  "n": number})
                if version.content_hash != entry.get("content_hash", version.content_hash):
                    self.report.conflicts.append(_("%(key)s: %(kind)s v%(n)s differs from the file; versions never "
                                                   "change, so it stays.") % {"key": use_case.key, "kind": kind,
                                                                               "n": number})
                    break
                if entry.get("submitted") and not version.is_frozen:
                    if version.author_id != as_actor(self.actor).user_id:
                        self.report.conflicts.append(_("%(key)s: %(kind)s v%(n)s is another author's draft.")
                                                     % {"key": use_case.key, "kind": kind, "n": number})
                        break
                    self.attempt(f"{use_case.key} {kind} v{number}",
                                 lambda version=version: versions.version_submit(actor=self.actor, version=version))
                matching[kind][number] = version
        return matching

    def _releases(self, use_case: UseCase, data: dict, matching: dict) -> dict:
        present = {r.number: r for r in selectors.release_list(use_case=use_case)}
        result = {}
        for entry in sorted(data.get("releases") or [], key=lambda e: e["number"]):
            number = entry["number"]
            release = present.get(number)
            if release is None:
                if number != len(present) + 1:
                    self.report.conflicts.append(_("%(key)s: release R%(n)s cannot be numbered like the file.")
                                                 % {"key": use_case.key, "n": number})
                    break

                def pick(kind, n):
                    return matching.get(kind, {}).get(n) if n is not None else None
                parts = {"threshold_set": pick("threshold_set", entry.get("threshold_set")),
                         "prompt_template": pick("prompt_template", entry.get("prompt_template")),
                         "guardrail_set": pick("guardrail_set", entry.get("guardrail_set")),
                         "engine_configs": [pick("engine_config", n) for n in entry.get("engine_configs") or []]}
                wanted = [entry.get("threshold_set"), entry.get("prompt_template"), entry.get("guardrail_set")]
                found = [parts["threshold_set"], parts["prompt_template"], parts["guardrail_set"]]
                if any(w is not None and f is None for w, f in zip(wanted, found)) or None in parts["engine_configs"] \
                        or any(not v.is_frozen for v in [*found, *parts["engine_configs"]] if v is not None):
                    self.report.waiting.append(_("%(key)s: release R%(n)s waits for its versions.")
                                               % {"key": use_case.key, "n": number})
                    break
                created: list = []

                def create(parts=parts, entry=entry, created=created):
                    created.append(versions.release_create(actor=self.actor, use_case=use_case,
                                                           note=entry.get("note", ""), **parts))
                if not self.attempt(f"{use_case.key} R{number}", create):
                    break
                release = present[number] = created[0]
                self.report.created.append(_("%(key)s: release R%(n)s") % {"key": use_case.key, "n": number})
            if release.content_hash != entry.get("content_hash", release.content_hash):
                self.report.conflicts.append(_("%(key)s: release R%(n)s differs from the file.")
                                             % {"key": use_case.key, "n": number})
                break
            result[number] = release
        return result

    def _labels_and_status(self, use_case: UseCase, data: dict, releases: dict) -> None:
        current = {name: release.number for name, release in selectors.label_map(use_case=use_case).items()}
        for name, number in (data.get("labels") or {}).items():
            if name not in Label.values or current.get(name) == number:
                continue
            release = releases.get(number)
            if release is None:
                self.report.waiting.append(_("%(key)s: label %(label)s waits for release R%(n)s.")
                                           % {"key": use_case.key, "label": name, "n": number})
                continue
            if name == Label.PRODUCTION and evaluation_passing(release=release) is None:
                # Test cases and evaluations are evidence of this instance: they do not travel with the file.
                self.report.waiting.append(_("%(key)s: the production label waits for a passing evaluation of "
                                             "R%(n)s here (run one on the release's page).")
                                           % {"key": use_case.key, "n": number})
                continue
            self.attempt(f"{use_case.key} {name}", lambda name=name, release=release, number=number: self.propose(
                kind=ChangeKind.LABEL_MOVE, use_case=use_case, payload={"label": name, "release_id": release.pk},
                title=_("Label %(label)s of %(key)s to R%(n)s") % {"label": name, "key": use_case.key, "n": number}))
        for name in sorted(set(current) - set(data.get("labels") or {})):
            self.report.conflicts.append(_("%(key)s: label %(label)s exists here but not in the file; labels are "
                                           "moved, never removed.") % {"key": use_case.key, "label": name})
        wanted = data.get("status", use_case.status)
        if wanted == use_case.status:
            return
        if wanted == UseCaseStatus.SUSPENDED:
            self.report.conflicts.append(_("%(key)s: suspended in the file; suspending is a person's decision (kill "
                                           "switch), not an import's.") % {"key": use_case.key})
            return
        if wanted not in TRANSITIONS.get(use_case.status, set()):
            self.report.conflicts.append(_("%(key)s: cannot move from %(a)s to %(b)s.")
                                         % {"key": use_case.key, "a": use_case.status, "b": wanted})
            return
        if wanted in (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION) and \
                current.get(wanted) != (data.get("labels") or {}).get(wanted):
            self.report.waiting.append(_("%(key)s: the status %(status)s is proposed once the %(status)s label "
                                         "points at its release.") % {"key": use_case.key, "status": wanted})
            return
        self.attempt(f"{use_case.key} status", lambda: self.propose(
            kind=ChangeKind.STATUS_CHANGE, use_case=use_case, payload={"to": wanted},
            title=_("%(key)s to %(status)s") % {"key": use_case.key, "status": wanted}))

    def use_case(self, data: dict) -> None:
        use_case = self._documentation(data)
        if use_case is None:
            return
        matching = self._versions(use_case, data)
        releases = self._releases(use_case, data, matching)
        self._labels_and_status(use_case, data, releases)


def registry_import(*, actor, tenant, data: dict) -> ImportReport:
    """Bring `tenant` towards the registry in `data` (an export) through drafts and change requests;
    run it again after approvals until the report says it is in sync."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError(_("This is not a registry file (format %(format)s expected).") % {"format": FORMAT})
    for perm in IMPORT_PERMISSIONS:
        require_perm(actor, tenant, perm)
    report = ImportReport()
    importer = _Importer(actor=actor, tenant=tenant, report=report)
    with transaction.atomic():
        importer.policy(data.get("policy") or {})
        importer.catalogue(data.get("catalogue") or [])
        for entry in sorted(data.get("use_cases") or [], key=lambda e: e["key"]):
            importer.use_case(entry)
    return report
