"""`manage.py train_classifier USE_CASE [--tenant SLUG]`: prints the evaluation and, last, the version id."""
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from automations.engines.classifier.training import summary_lines
from automations.management.commands._training_common import add_common_arguments, resolve
from automations.training.services import classifier_train


class Command(BaseCommand):
    help = _("Train a classifier version on the use case's labelled examples; prints its evaluation and, as "
             "the last line, its id.")

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument("--quiet-progress", action="store_true", help=_("Do not report progress on stderr."))

    @no_translations
    def handle(self, *args, **options):
        _tenant, use_case, actor = resolve(options)
        start = time.monotonic()

        def progress(message: str, fraction: float) -> None:
            if not options["quiet_progress"]:
                self.stderr.write(f"[{fraction * 100:3.0f} %] {message}")

        try:
            version = classifier_train(actor=actor, use_case=use_case, progress=progress)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        self.stdout.write(_("%(uc)s: classifier v%(n)s trained on %(count)s examples in %(s).1f s "
                            "(text columns %(cols)s; training data %(hash)s)")
                          % {"uc": use_case.key, "n": version.number, "count": version.example_count,
                             "s": time.monotonic() - start, "cols": ", ".join(version.text_columns),
                             "hash": version.training_data_hash[:12]})
        for line in summary_lines(version.evaluation):
            self.stdout.write(line)
        self.stdout.write(_("It reaches production only through a release and a change request. Version id:"))
        self.stdout.write(str(version.pk))
