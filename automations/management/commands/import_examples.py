"""`manage.py import_examples USE_CASE FILE --text-columns a,b --label-columns x,y [--tenant SLUG]`"""

from django.core.management.base import BaseCommand, no_translations
from django.utils.translation import gettext as _

from automations.choices import ExampleSource
from automations.management.commands._training_common import (
    add_common_arguments,
    columns,
    existing_file,
    refusals_as_errors,
    resolve,
)
from automations.training.services import MAX_REPORTED_LINES, examples_import


class Command(BaseCommand):
    help = _("Import labelled examples (CSV or JSON Lines) into a use case; label columns are its output fields.")

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--text-columns", required=True, help=_("Comma-separated input columns, e.g. subject,body"))
        parser.add_argument("--label-columns", required=True,
                            help=_("Comma-separated output fields, e.g. queue,priority"))
        parser.add_argument("--source", default=ExampleSource.IMPORT, choices=ExampleSource.values,
                            help=_("Where the examples come from (default: import)."))

    @no_translations
    def handle(self, *args, **options):
        tenant, use_case, actor = resolve(options)
        path = existing_file(options["file"])
        with refusals_as_errors():
            report = examples_import(actor=actor, use_case=use_case, file=path, name=path.name,
                                     text_columns=columns(options["text_columns"]),
                                     label_columns=columns(options["label_columns"]), source=options["source"],
                                     source_ref=path.name,
                                     progress=lambda n: self.stderr.write(_("%(n)s rows read …") % {"n": n}))
        out = self.stdout.write
        out(_("%(uc)s in %(tenant)s: %(rows)s rows read, %(created)s examples imported, %(dup)s duplicates skipped, "
              "%(conf)s conflicting labels, %(bad)s bad rows skipped.")
            % {"uc": use_case.key, "tenant": tenant.slug, "rows": report.rows, "created": report.created,
               "dup": len(report.duplicates), "conf": len(report.conflicts), "bad": len(report.bad)})
        if report.repeated:
            out(_("Texts repeated within the file, kept (they count as often as they occur): %(n)s")
                % {"n": len(report.repeated)})
        for name, values in report.added_choices.items():
            out(_("Added choices to %(field)s: %(values)s") % {"field": name, "values": ", ".join(values)})
        for name, values in report.pending_choices.items():
            out(_("New values of %(field)s (need a documentation change request to become choices): %(values)s")
                % {"field": name, "values": ", ".join(values)})
        for name, count in report.missing_labels.items():
            out(_("Rows without a value for %(field)s: %(n)s") % {"field": name, "n": count})
        for title, entries in ((_("Bad line"), report.bad), (_("Conflict, line"), report.conflicts),
                               (_("Duplicate, line"), report.duplicates), (_("Repeated, line"), report.repeated)):
            for line, reason in entries[:MAX_REPORTED_LINES]:
                out(f"{title} {line}: {reason}")
            if len(entries) > MAX_REPORTED_LINES:
                out(_("… and %(n)s more") % {"n": len(entries) - MAX_REPORTED_LINES})
        for warning in report.warnings:
            out(_("Note: %(w)s") % {"w": warning})
