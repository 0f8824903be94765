"""The quick start's open proposal for the works council: the automation lead proposes to record the works
agreement the demo use cases' worker information names ("Betriebsvereinbarung KI-Einsatz 2026") in the
tenant's policy. Recorded there, it lets oversight and the works council's view show figures per person instead
of over groups only — co-determination (BetrVG § 87 (1) 6), so the works council approves it besides the DSB,
the ISB and the second automation lead. It stays open: on first login `works_council` (and each of the others)
finds it waiting for their decision. Idempotent: a proposal made once (whatever became of it) is not made
again, nor one the policy already holds."""
from django.db import transaction

from automations.choices import ChangeKind
from automations.models import ChangeRequest
from automations.registry.selectors import tenant_policy_get
from automations.registry.services import changes

AGREEMENT = "Betriebsvereinbarung KI-Einsatz 2026"
TITLE = "Betriebsvereinbarung KI-Einsatz 2026 hinterlegen"


def seed(tenant, users) -> None:
    lead = users.get("automation_lead")
    if lead is None or "works_council" not in users:
        return
    if tenant_policy_get(tenant=tenant).works_agreement_reference.strip():
        return
    if ChangeRequest.objects.for_tenant(tenant).filter(kind=ChangeKind.TENANT_POLICY, title=TITLE).exists():
        return
    with transaction.atomic():
        changes.change_request_create(
            actor=lead, tenant=tenant, kind=ChangeKind.TENANT_POLICY, title=TITLE,
            description="Die Betriebsvereinbarung KI-Einsatz 2026 regelt, welche Kennzahlen je Person die "
                        "Prüfungen der Anwendungsfälle zeigen dürfen (Anlagen 1 bis 4). Hinterlegt, zeigen die "
                        "Aufsicht und die Seite des Betriebsrats Kennzahlen je Person; bis dahin nur über "
                        "Gruppen von mindestens fünf Personen. Der Betriebsrat stimmt mit (§ 87 Abs. 1 Nr. 6 "
                        "BetrVG).",
            payload={"works_agreement_reference": AGREEMENT})
