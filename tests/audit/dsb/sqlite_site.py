"""The Django side of the SQLite erasure test (test_erasure_sqlite.py), run as its own process on the embedded
default (DATABASE_URL unset, PORTAL_VAR_DIR given: a migrated var/ folder, the suite's migrated_var):

    python -m tests.audit.dsb.sqlite_site seed EMAIL    # a DSB, a customer and their ticket with a file
    python -m tests.audit.dsb.sqlite_site erase EMAIL   # erase_subject as the DSB; prints its report
    python -m tests.audit.dsb.sqlite_site guards EMAIL  # prints each change the triggers refused
"""
import os
import sys


def main(command: str, email: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from audit.actors import SYSTEM

    if command == "seed":
        from django.contrib.auth import get_user_model
        from django.core.files.uploadedfile import SimpleUploadedFile

        from automations.execution.services import intake, master_data
        from portal import services
        from tests.audit.dsb.helpers import TICKET_INPUTS
        from tests.automations.factories import make_rules_use_case, make_team

        tenant = services.tenant_create(actor=SYSTEM, slug="muster", name="Muster GmbH")

        def member(role, username):
            user = get_user_model().objects.create_user(username)
            services.membership_create(actor=SYSTEM, tenant=tenant, user=user, roles=[role])
            return user

        team = make_team(member)
        make_rules_use_case(tenant, team, key="tickets", status="pilot", input_fields=TICKET_INPUTS,
                            legal_basis="art6_1_b", data_subjects=["Kunden"])
        master_data.master_record_save(actor=team["automation_lead"], tenant=tenant, kind="customer",
                                       number="K-777", name="Susi Sorglos", email=email)
        intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="tickets",
                                payload={"text": f"Bitte zurückrufen: {email}", "sender_email": email},
                                files=[SimpleUploadedFile("brief.txt", f"Gruß, {email}".encode(), "text/plain")])
        print("seeded")
    elif command == "guards":
        from django.db import DatabaseError, connection, transaction

        from audit.choices import VerificationTrigger
        from audit.services.events import audit_verification_run

        audit_verification_run(trigger=VerificationTrigger.COMMAND, actor=SYSTEM)
        for statement in ("UPDATE audit_pseudonym SET kind = 'iban'",
                          "UPDATE audit_pseudonym SET identifier_encrypted = NULL",
                          "DELETE FROM audit_pseudonym",
                          "UPDATE audit_verificationrun SET ok = 0",
                          "UPDATE audit_datasubjectrequest SET identifier_hash = 'x'"):
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(statement)
                    changed = cursor.rowcount
            except DatabaseError:
                print(f"refused: {statement}")
            else:
                print(f"allowed ({changed} rows): {statement}")
    elif command == "erase":
        call_command("erase_subject", email, "--tenant", "muster", "--actor", "data_protection_officer")
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(*sys.argv[1:])
