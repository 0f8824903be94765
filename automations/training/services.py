"""Labelled examples, classifier training and thresholds from evidence.

Rules chosen here (and why):
- An example's identity is the hash of its texts (whitespace collapsed). The same texts with the same
  labels as an example stored before is a duplicate (the file imported again) and is skipped; repeated
  within one file, they are kept and reported, and training counts the text as often as it occurs (a
  ticket that comes in fifty times weighs fifty times, as in any plain training on the file). The same
  texts with other labels is a conflict: it is kept and reported; training takes a clerk's newest
  correction where there is one (it supersedes an import), else the most frequent label of the text.
- A row needs at least one text and at least one label; a row missing a label for some fields is kept
  for the others and counted per field. Bad rows are reported with their line number and skipped.
- Unseen values of a category field: while the use case is a draft, a pilot (which applies nothing
  automatically) or retired, they are added to the field's choices at once (audited, historised). In
  production or suspended, the documentation changes only through a change request: the examples are
  stored, the values are reported as pending, and the report says a documentation change request is
  needed. A trained model may suggest such a value; routing and review treat it like any other value.
- Training never blocks a transaction: examples are read, the model is fitted outside any transaction,
  and only the finished version is written (with its audit event) in a short one.
"""
import csv
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.services.events import audit_event_record
from automations.choices import ExampleSource, FieldType, UseCaseStatus
from automations.engines.classifier import artifact as artifact_io
from automations.engines.classifier.evaluation import automation_at_precision
from automations.engines.classifier.text import text_hash
from automations.engines.classifier.training import (
    DEFAULT_TARGET_PRECISION,
    NotEnoughExamples,
    train,
    weighted_examples,
)
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import version_list
from automations.registry.services.versions import version_create
from automations.training.models import ClassifierVersion, LabelledExample
from automations.training.selectors import (
    PROGRESS_KEY,
    classifier_version_latest,
    example_hashes,
    training_examples,
    training_progress_get,
)
from portal.history import stamp
from portal.jobs import task_send_on_commit
from portal.permissions import require_perm

logger = logging.getLogger(__name__)

CHOICES_ADDED_DIRECTLY = (UseCaseStatus.DRAFT, UseCaseStatus.PILOT, UseCaseStatus.RETIRED)
MAX_REPORTED_LINES = 200


# --- reading files ------------------------------------------------------------------------------------

class RowError(ValueError):
    """A row that cannot be read; carries its line number."""


@dataclass
class Row:
    line: int
    values: dict | None  # None: unreadable, see error
    error: str = ""


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _looks_like_jsonl(name: str, text: str) -> bool:
    if name.lower().endswith((".jsonl", ".ndjson", ".json")):
        return True
    if name.lower().endswith((".csv", ".txt", ".tsv")):
        return False
    return text.lstrip().startswith("{")


def read_rows(source, *, name: str = "") -> tuple[list[str] | None, Iterable[Row]]:
    """(CSV header or None for JSON Lines, rows with their line numbers) from a path, bytes, text or a
    file object. CSV: UTF-8 (a BOM is fine, Windows-1252 is accepted), delimiter , or ; detected from
    the header line; quoted fields may span lines (a row's line is where it starts)."""
    if isinstance(source, (str, Path)) and Path(source).exists():
        name = name or str(source)
        data = Path(source).read_bytes()
    elif isinstance(source, bytes):
        data = source
    elif isinstance(source, str):
        data = source.encode("utf-8")
    else:
        name = name or getattr(source, "name", "") or ""
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
    text = _decode(data)
    if _looks_like_jsonl(name, text):
        return None, _jsonl_rows(text)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], iter(())
    return header, _csv_rows(reader, header)


def _csv_rows(reader, header: list[str]) -> Iterable[Row]:
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(start, None, _("unreadable CSV: %(e)s") % {"e": exc})
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line (a line of empty cells is a row: `predict` answers it, an import reports it)
        if len(cells) > len(header):
            yield Row(line, None, _("%(n)s cells but %(h)s columns (a delimiter inside an unquoted text?)")
                      % {"n": len(cells), "h": len(header)})
            continue
        yield Row(line, dict(zip(header, cells)))


def _jsonl_rows(text: str) -> Iterable[Row]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield Row(number, None, _("malformed JSON: %(e)s") % {"e": exc.msg})
            continue
        if not isinstance(value, dict):
            yield Row(number, None, _("a JSON line must be an object"))
            continue
        yield Row(number, value)


# --- labelled examples ----------------------------------------------------------------------------------

def category_fields(use_case: UseCase) -> dict[str, dict]:
    return {f["name"]: f for f in use_case.output_fields if f.get("type") == FieldType.CATEGORY}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    repeated: list[tuple[int, str]] = field(default_factory=list)
    conflicts: list[tuple[int, str]] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    added_choices: dict[str, list[str]] = field(default_factory=dict)
    pending_choices: dict[str, list[str]] = field(default_factory=dict)
    missing_labels: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"rows": self.rows, "created": self.created, "duplicates": len(self.duplicates),
                "repeated": len(self.repeated), "conflicts": len(self.conflicts), "bad": len(self.bad),
                "added_choices": self.added_choices, "pending_choices": self.pending_choices,
                "missing_labels": self.missing_labels}


def _columns(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [c.strip() for c in value or [] if c and c.strip()]


def examples_import(*, actor, use_case: UseCase, text_columns, label_columns, file=None,
                    rows_iter: Iterable[dict] | None = None, name: str = "", source: str = ExampleSource.IMPORT,
                    source_ref: str = "", progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import labelled examples from a CSV or JSON Lines file (or from rows given as dicts, numbered from
    1). Label columns must be output fields of the use case. Never raises for a bad row: it is reported
    with its line number and skipped."""
    tenant = use_case.tenant
    require_perm(actor, tenant, "automations.add_labelledexample", use_case)
    text_columns, label_columns = _columns(text_columns), _columns(label_columns)
    if not text_columns:
        raise ValidationError(_("Name at least one text column."))
    if not label_columns:
        raise ValidationError(_("Name at least one label column."))
    outputs = {f["name"] for f in use_case.output_fields}
    unknown = [c for c in label_columns if c not in outputs]
    if unknown:
        raise ValidationError(_("Label columns must be output fields of %(uc)s (%(known)s); unknown: %(cols)s")
                              % {"uc": use_case.key, "known": ", ".join(sorted(outputs)) or "-",
                                 "cols": ", ".join(unknown)})
    if source not in ExampleSource.values:
        raise ValidationError(_("Unknown source of examples."))
    if (file is None) == (rows_iter is None):
        raise ValidationError(_("Give either a file or rows."))

    report = ImportReport()
    inputs = {f["name"] for f in use_case.input_fields}
    outside = [c for c in text_columns if inputs and c not in inputs]
    if outside:
        report.warnings.append(_("Text columns that are not input fields of the use case (the pipeline will not "
                                 "find them in work items): %(cols)s") % {"cols": ", ".join(outside)})
    if file is not None:
        header, rows = read_rows(file, name=name)
        if header is not None:
            missing = [c for c in text_columns + label_columns if c not in header]
            if missing:
                raise ValidationError(_("Columns not in the file: %(cols)s (found: %(found)s)")
                                      % {"cols": ", ".join(missing), "found": ", ".join(header)})
    else:
        rows = (Row(i, dict(r)) if isinstance(r, dict) else Row(i, None, _("not an object"))
                for i, r in enumerate(rows_iter or (), start=1))

    categories = category_fields(use_case)
    known_choices = {n: [str(c) for c in f.get("choices") or []] for n, f in categories.items()}
    unseen: dict[str, list[str]] = {}
    pending: list[tuple[Row, dict, dict, str]] = []
    for row in rows:
        report.rows += 1
        if progress and report.rows % 1000 == 0:
            progress(report.rows)
        if row.values is None:
            report.bad.append((row.line, row.error))
            continue
        texts = {c: str(row.values.get(c) if row.values.get(c) is not None else "").strip() for c in text_columns}
        if not any(texts.values()):
            report.bad.append((row.line, _("no text in %(cols)s") % {"cols": ", ".join(text_columns)}))
            continue
        labels = {}
        for column in label_columns:
            value = row.values.get(column)
            value = "" if value is None else str(value).strip()
            if value:
                labels[column] = value
            else:
                report.missing_labels[column] = report.missing_labels.get(column, 0) + 1
        if not labels:
            report.bad.append((row.line, _("empty label in %(cols)s") % {"cols": ", ".join(label_columns)}))
            continue
        for name_, value in labels.items():
            if name_ in known_choices and value not in known_choices[name_] and value not in unseen.get(name_, []):
                unseen.setdefault(name_, []).append(value)
        pending.append((row, texts, labels, text_hash(texts)))

    with transaction.atomic():
        use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
        seen = example_hashes(use_case=use_case)
        before = {digest: list(labels) for digest, labels in seen.items()}
        first_line: dict[str, int] = {}
        new = []
        for row, texts, labels, digest in pending:
            stored = seen.get(digest, [])
            if labels in before.get(digest, []):  # already there before this import: imported again
                report.duplicates.append((row.line, _("same text and labels as %(where)s")
                                          % {"where": _("an existing example")}))
                continue
            if labels in stored:  # repeated within this file: kept, so that it counts as often as it occurs
                report.repeated.append((row.line, _("same text and labels as line %(n)s: kept, it counts as often "
                                                    "as it occurs") % {"n": first_line[digest]}))
            elif stored:
                where = (_("line %(n)s") % {"n": first_line[digest]}) if digest in first_line \
                    else _("an existing example")
                report.conflicts.append((row.line, _("same text as %(where)s with other labels (%(a)s / %(b)s)")
                                         % {"where": where, "a": _labels_text(stored[-1]), "b": _labels_text(labels)}))
            seen.setdefault(digest, []).append(labels)
            first_line.setdefault(digest, row.line)
            new.append(LabelledExample(tenant=tenant, use_case=use_case, texts=texts, labels=labels, source=source,
                                       source_ref=(source_ref or name)[:160] + f":{row.line}"[:40],
                                       content_hash=digest))
        LabelledExample.objects.bulk_create(new, batch_size=1000)
        report.created = len(new)
        if unseen:
            _extend_choices(actor, use_case, unseen, report)
        audit_event_record(actor=actor, tenant=tenant, event_type="labelled_examples.imported", obj=use_case,
                           details={"source": source, **report.as_dict()})
    return report


def _labels_text(labels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _extend_choices(actor, use_case: UseCase, unseen: dict[str, list[str]], report: ImportReport) -> None:
    """Inside the import's transaction, on the locked use case: add or report unseen category values."""
    if use_case.status not in CHOICES_ADDED_DIRECTLY:
        report.pending_choices = unseen
        report.warnings.append(
            _("%(uc)s is in %(status)s: new values are kept with the examples but become choices only through a "
              "documentation change request (%(values)s).")
            % {"uc": use_case.key, "status": use_case.get_status_display(),
               "values": "; ".join(f"{k}: {', '.join(v)}" for k, v in unseen.items())})
        return
    specs = []
    for spec in use_case.output_fields:
        spec = dict(spec)
        if spec.get("name") in unseen:
            spec["choices"] = list(spec.get("choices") or []) + unseen[spec["name"]]
        specs.append(spec)
    use_case.output_fields = specs
    stamp(use_case, actor=actor, reason=_("category values found in imported examples"))
    use_case.save(update_fields=["output_fields"])
    report.added_choices = unseen
    audit_event_record(actor=actor, tenant=use_case.tenant, event_type="use_case.choices_added", obj=use_case,
                       details={"added": unseen})


def _correction_columns(use_case: UseCase) -> list[str]:
    latest = classifier_version_latest(use_case=use_case)
    if latest and latest.text_columns:
        return list(latest.text_columns)
    return [f["name"] for f in use_case.input_fields if f.get("type", FieldType.TEXT) in (FieldType.TEXT,
                                                                                           FieldType.LONG_TEXT)]


def example_from_correction(*, item, final_fields: dict, actor) -> LabelledExample | None:
    """A clerk's decision on an item becomes a labelled example — only when the use case's purpose and
    legal basis allow reusing corrected items for training (UseCase.training_reuse_allowed). Called from
    the review decision, inside its transaction. Returns None when nothing is to be kept."""
    use_case = item.use_case
    if not use_case.training_reuse_allowed or item.is_dry_run:
        return None
    columns = _correction_columns(use_case)
    texts = {c: str(item.payload.get(c) or "").strip() for c in columns}
    categories = category_fields(use_case)
    labels = {}
    for name, value in (final_fields or {}).items():
        if isinstance(value, dict):  # {"value": ..., "decided_by": ...}
            value = value.get("value")
        if name in categories and value not in (None, ""):
            labels[name] = str(value)
    if not any(texts.values()) or not labels:
        return None
    digest = text_hash(texts)
    with transaction.atomic():
        existing = (LabelledExample.objects.for_tenant(item.tenant)
                    .filter(use_case=use_case, content_hash=digest, labels=labels).first())
        if existing is not None:
            return existing
        example = LabelledExample.objects.create(tenant=item.tenant, use_case=use_case, texts=texts, labels=labels,
                                                 source=ExampleSource.CORRECTION, source_ref=str(item.pk),
                                                 content_hash=digest, item=item)
        audit_event_record(actor=actor, tenant=item.tenant, event_type="labelled_example.created", obj=example,
                           details={"source": ExampleSource.CORRECTION, "item": str(item.pk),
                                    "fields": sorted(labels)})
    return example


# --- training -------------------------------------------------------------------------------------------

def _training_set(use_case: UseCase) -> tuple[list[tuple[dict, dict, dict]], list[str], str, int]:
    """(examples as (texts, labels, weights per field), text columns, training-data hash, example count):
    one entry a distinct text, see weighted_examples."""
    rows = list(training_examples(use_case=use_case).values_list("texts", "labels", "source"))
    columns: list[str] = []
    for texts, _labels, _source in rows:
        for column in texts:
            if column not in columns:
                columns.append(column)
    # JSON objects do not keep their key order in every database: order the columns as the use case
    # documents its input fields (subject before body), others after them alphabetically.
    documented = [f["name"] for f in use_case.input_fields]
    columns.sort(key=lambda c: (documented.index(c) if c in documented else len(documented), c))
    keyed = weighted_examples((texts, labels, source == ExampleSource.CORRECTION) for texts, labels, source in rows)
    examples = [entry for _digest, entry in keyed]
    fingerprint = hashlib.sha256(json.dumps(
        {"columns": columns, "examples": [[digest, labels] + ([weights] if any(w > 1 for w in weights.values())
                                                              else [])
                                          for digest, (_t, labels, weights) in keyed]},
        ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return examples, columns, fingerprint, len(examples)


def _targets(use_case: UseCase) -> dict[str, float]:
    wanted = (use_case.quality_targets or {}).get("min_precision") or {}
    return {name: float(wanted.get(name, DEFAULT_TARGET_PRECISION)) for name in category_fields(use_case)}


def classifier_train(*, actor, use_case: UseCase, progress: Callable[[str, float], None] | None = None,
                     parameters: dict | None = None) -> ClassifierVersion:
    """Train one model per category output field on the use case's labelled examples and store a new,
    immutable classifier version with its held-out evaluation. It reaches production only through a
    release and a change request."""
    tenant = use_case.tenant
    require_perm(actor, tenant, "automations.add_classifierversion", use_case)
    fields = list(category_fields(use_case))
    if not fields:
        raise ValidationError(_("%(uc)s has no category output field to train a classifier for.")
                              % {"uc": use_case.key})
    examples, columns, data_hash, count = _training_set(use_case)
    if not examples:
        raise ValidationError(_("%(uc)s has no labelled examples yet: import some first.") % {"uc": use_case.key})
    try:
        bundle, evaluation, used = train(examples, text_columns=columns, fields=fields,
                                         targets=_targets(use_case), parameters=parameters, progress=progress)
    except NotEnoughExamples:
        raise ValidationError(_("No category field has examples of at least two different values.")) from None
    data, sha = artifact_io.dump(bundle)
    trained = [name for name in fields if name in bundle["fields"]]
    with transaction.atomic():
        UseCase.objects.select_for_update().get(pk=use_case.pk)
        number = (ClassifierVersion.objects.for_tenant(tenant).filter(use_case=use_case)
                  .aggregate(n=Max("number"))["n"] or 0) + 1
        version = ClassifierVersion(
            tenant=tenant, use_case=use_case, number=number, author=as_actor(actor).user, text_columns=columns,
            fields=trained, training_data_hash=data_hash, example_count=count,
            library_versions=artifact_io.library_versions(), parameters=used, evaluation=evaluation,
            format_version=artifact_io.FORMAT_VERSION, artifact_sha256=sha)
        version.artifact.save(f"{tenant.slug}-{use_case.key}-v{number}-{sha[:12]}.joblib", ContentFile(data),
                              save=False)
        try:
            version.save()
            audit_event_record(actor=actor, tenant=tenant, event_type="classifier_version.trained", obj=version,
                               details={"use_case": use_case.key, "number": number, "examples": count,
                                        "training_data_hash": data_hash, "artifact_sha256": sha,
                                        "fields": {n: {"macro_f1": e.get("macro_f1"),
                                                       "automation_share": e["automation"]["share"]}
                                                   for n, e in evaluation["fields"].items()}})
        except Exception:
            version.artifact.delete(save=False)
            raise
    return version


_LOADED: dict[tuple[int, str], dict] = {}


def classifier_load(*, version: ClassifierVersion) -> dict:
    """The version's models, checked: the file's SHA-256 must match the recorded one and its format
    version must be this code's; anything else is refused with ArtifactError. Cached per process."""
    if version.format_version not in artifact_io.READABLE_FORMATS:
        raise artifact_io.ArtifactError(
            _("Classifier version %(n)s was stored in artifact format %(f)s; this portal reads format %(g)s. "
              "Train a new version.") % {"n": version.number, "f": version.format_version,
                                         "g": ", ".join(map(str, artifact_io.READABLE_FORMATS))})
    key = (version.pk, version.artifact_sha256)
    if key in _LOADED:
        return _LOADED[key]
    try:
        with version.artifact.open("rb") as fh:
            data = fh.read()
    except (FileNotFoundError, ValueError) as exc:
        raise artifact_io.ArtifactError(_("The artifact of classifier version %(n)s is missing (%(e)s).")
                                        % {"n": version.number, "e": exc}) from None
    bundle = artifact_io.load(data, sha256=version.artifact_sha256, format_version=version.format_version)
    if len(_LOADED) >= 4:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[key] = bundle
    return bundle


# --- thresholds from evidence ---------------------------------------------------------------------------

def threshold_set_propose(*, actor, classifier_version: ClassifierVersion, change_note: str = ""):
    """A DRAFT threshold set whose `auto` thresholds meet the use case's target precision on the version's
    held-out evaluation (1.0, i.e. nothing automatic, where no threshold reaches it). `reject` is the
    confidence of a blind guess among the field's values. Fields the classifier does not serve keep the
    values of the newest threshold set. It still goes through the registry's change control."""
    use_case = classifier_version.use_case
    targets = _targets(use_case)
    latest = version_list(use_case=use_case, kind="threshold_set").first()
    thresholds = dict(latest.thresholds) if latest else {}
    lines = []
    for name, e in (classifier_version.evaluation or {}).get("fields", {}).items():
        if not use_case.output_field(name):
            continue
        target = targets.get(name, DEFAULT_TARGET_PRECISION)
        points = e.get("points") or []
        result = automation_at_precision([p[0] for p in points], [bool(p[1]) for p in points], target)
        auto = result["threshold"] if result["threshold"] is not None else 1.0
        reject = min(auto, round(1.0 / max(2, len(e.get("classes") or [])), 4))
        thresholds[name] = {"auto": auto, "reject": reject}
        lines.append(_("%(f)s: auto from %(a).4f (held-out precision %(p)s on %(s).1f %% of items, target %(t).2f)")
                     % {"f": name, "a": auto, "p": result["precision"] if result["precision"] is not None else "-",
                        "s": result["share"] * 100, "t": target})
    if not lines:
        raise ValidationError(_("This classifier version has no held-out evaluation to derive thresholds from."))
    note = change_note or (_("Proposed from the evaluation of classifier v%(n)s.") % {"n": classifier_version.number}
                           + "\n" + "\n".join(lines))
    return version_create(actor=actor, use_case=use_case, kind="threshold_set", content={"thresholds": thresholds},
                          change_note=note)


# --- training in the background (the core team's button, the API) ---------------------------------------

PROGRESS_SECONDS = 24 * 3600


def training_progress_record(*, use_case: UseCase, state: str, message: str = "", fraction: float = 0.0,
                             version_id: int | None = None, version_number: int | None = None) -> dict:
    """Progress of the latest training run of a use case, kept in Django's cache, which the settings share
    between the worker and the web processes (files under var/, or Redis). The outcome itself is never
    only here: it is the version row and its audit event."""
    value = {"state": state, "message": message, "fraction": round(float(fraction), 3), "version_id": version_id,
             "version_number": version_number, "updated_at": timezone.now().isoformat()}
    cache.set(PROGRESS_KEY.format(tenant=use_case.tenant_id, use_case=use_case.pk), value, PROGRESS_SECONDS)
    return value


def classifier_training_start(*, actor, use_case: UseCase) -> None:
    """Queue a training run (Celery) after commit; the task reports progress (training_progress_record)."""
    require_perm(actor, use_case.tenant, "automations.add_classifierversion", use_case)
    if not training_examples(use_case=use_case).exists():
        raise ValidationError(_("%(uc)s has no labelled examples yet: import some first.") % {"uc": use_case.key})
    if (training_progress_get(use_case=use_case) or {}).get("active"):
        raise ValidationError(_("A training run of %(uc)s is already queued or running.") % {"uc": use_case.key})
    user_id = as_actor(actor).user_id
    training_progress_record(use_case=use_case, state="queued", message=_("waiting for a worker"))

    task_send_on_commit("automations.train_classifier", use_case.pk, user_id)
