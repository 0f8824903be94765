from django.core.management.base import BaseCommand, CommandError

from audit.actors import SYSTEM
from audit.choices import VerificationTrigger
from audit.services.events import audit_verification_run
from portal.models import Tenant


class Command(BaseCommand):
    help = (
        "Verifies the audit hash chains (and the access chains beside them): every tenant's and the system "
        "chain, or one tenant's, each held against its newest signed checkpoint and started at its signed "
        "purge anchor. Prints one line per chain; exits 1 at a broken chain, naming its first failing event, then "
        "every further failing event and a summary."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Verify only this tenant's chain.")

    def handle(self, *args, tenant=None, **options):
        if tenant is not None:
            # Any tenant, also a deactivated one: its chain must stay verifiable.
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"No tenant with the slug {tenant!r}.", returncode=2)
            tenant = found
        _run, result, problems = audit_verification_run(trigger=VerificationTrigger.COMMAND, actor=SYSTEM,
                                                       tenant=tenant)
        for problem in problems:
            self.stderr.write(f"warning: {problem.path}: {problem.reason}")
        for chain in result.chains:
            # A broken chain: its first failing event first (`CHAIN: sequence N: REASON`), then every further
            # one, then a summary.
            for line in chain.lines:
                self.stdout.write(line)
        if not result.ok:
            raise CommandError("Audit chain verification failed.", returncode=1)
