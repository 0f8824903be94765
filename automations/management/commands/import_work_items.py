"""`manage.py import_work_items USE_CASE FILE.jsonl [--tenant SLUG] [--actor USERNAME] [--batch-size N]`"""

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from automations.execution.services.imports import BATCH_SIZE, work_items_import
from automations.management.commands._training_common import (
    add_common_arguments,
    existing_file,
    refusals_as_errors,
    resolve,
)

MAX_REPORTED_LINES = 50


class Command(BaseCommand):
    help = _("Import work items from JSON Lines (one {\"payload\": {...}, \"external_id\": \"...\"} a line) into a "
             "use case, in batches; lines that cannot be taken become items in clarification.")

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help=_("Items per transaction and audit event (default %(default)s)."))

    @no_translations
    def handle(self, *args, **options):
        tenant, use_case, actor = resolve(options)
        path = existing_file(options["file"])
        if options["batch_size"] < 1:
            raise CommandError(_("The batch size must be at least 1."))
        with refusals_as_errors(), path.open(encoding="utf-8-sig", errors="replace") as lines:
            report = work_items_import(actor=actor, tenant=tenant, use_case_key=use_case.key, lines=lines,
                                       batch_size=options["batch_size"])
        self.stdout.write(_("%(uc)s in %(tenant)s: %(created)s work items imported in %(batches)s batches, "
                            "%(held)s held, %(clar)s for clarification.")
                          % {"uc": use_case.key, "tenant": tenant.slug, "created": report.created,
                             "batches": report.batches, "held": report.held, "clar": report.clarification})
        for problem in report.problems[:MAX_REPORTED_LINES]:
            self.stdout.write(problem)
        if len(report.problems) > MAX_REPORTED_LINES:
            self.stdout.write(_("… and %(n)s more") % {"n": len(report.problems) - MAX_REPORTED_LINES})
