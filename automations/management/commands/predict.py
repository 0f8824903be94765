"""`manage.py predict USE_CASE FILE --classifier-version ID --output OUT.jsonl [--text-columns a,b]`:
a dry run, one JSON line per input row in order; no work items are created."""
import json
import time

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from automations.engines.classifier.artifact import ArtifactError
from automations.engines.classifier.training import predict
from automations.management.commands._training_common import add_common_arguments, columns, existing_file, resolve
from automations.training.models import ClassifierVersion
from automations.training.selectors import classifier_version_get
from automations.training.services import classifier_load, read_rows
from portal.permissions import actor_has_perm


class Command(BaseCommand):
    help = _("Dry run of a classifier version on a CSV or JSON Lines file: one JSON line per row, in order.")

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--classifier-version", required=True, type=int, metavar="ID")
        parser.add_argument("--output", required=True, metavar="OUT.jsonl")
        parser.add_argument("--text-columns", default="",
                            help=_("Comma-separated input columns; default: those the examples were imported with."))

    @no_translations
    def handle(self, *args, **options):
        tenant, use_case, actor = resolve(options)
        if not actor_has_perm(actor, tenant, "automations.view_classifierversion"):
            raise CommandError(_("%(user)s may not use classifier versions in %(tenant)s.")
                               % {"user": options["actor"], "tenant": tenant.slug})
        try:
            version = classifier_version_get(tenant=tenant, pk=options["classifier_version"])
        except ClassifierVersion.DoesNotExist:
            raise CommandError(_("No classifier version %(id)s in %(tenant)s.")
                               % {"id": options["classifier_version"], "tenant": tenant.slug}) from None
        if version.use_case_id != use_case.pk:
            raise CommandError(_("Classifier version %(id)s belongs to %(other)s, not %(uc)s.")
                               % {"id": version.pk, "other": version.use_case.key, "uc": use_case.key})
        path = existing_file(options["file"])
        try:
            bundle = classifier_load(version=version)
        except ArtifactError as exc:
            raise CommandError(str(exc)) from None
        text_columns = columns(options["text_columns"]) or list(version.text_columns)
        header, rows = read_rows(path, name=path.name)
        if header is not None:
            missing = [c for c in text_columns if c not in header]
            if missing:
                raise CommandError(_("Columns not in the file: %(cols)s (found: %(found)s)")
                                   % {"cols": ", ".join(missing), "found": ", ".join(header)})
        rows = list(rows)
        start = time.monotonic()
        readable = [r for r in rows if r.values is not None]
        results = iter(predict(bundle, [r.values for r in readable], text_columns=text_columns))
        with open(options["output"], "w", encoding="utf-8") as out:
            for row in rows:
                if row.values is None:  # keeps one line per input row; the reason instead of fields
                    line = {"fields": {}, "error": row.error, "line": row.line}
                else:
                    line = {"fields": next(results)}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.stdout.write(_("%(n)s rows predicted with %(uc)s classifier v%(v)s in %(s).2f s -> %(out)s")
                          % {"n": len(rows), "uc": use_case.key, "v": version.number,
                             "s": time.monotonic() - start, "out": options["output"]})
