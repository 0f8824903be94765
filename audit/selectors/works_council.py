"""What the works council sees (BetrVG § 87(1) no. 6): per use case, what the portal records and shows about
employees, whether figures per person are enabled, and under which works agreement.

The portal records about the people who work with it: who decided a review task and when, how long they
took, whether they changed the suggestion, who claimed or released a task, and every action in the audit
log. Figures per person are shown only when the tenant names a works agreement (TenantPolicy.
works_agreement_reference); otherwise only over groups of at least `min_group_size` people."""
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from automations.choices import UseCaseStatus
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import tenant_policy_get
from reviews.models import ReviewQueue


def measures_for(use_case, *, has_review_queue: bool) -> list[str]:
    measured = [_("Actions in the audit log with the acting user (e.g. approvals, changes, suspensions).")]
    if has_review_queue:
        measured += [
            _("Review decisions: who decided, when, which decision, and which fields they corrected."),
            _("Time on task per review decision."),
            _("Claims: who took or gave back which task, and when a claim expired."),
            _("Sample checks of automatically applied items and their results."),
        ]
    if use_case.store_masked_prompts or use_case.catalogue_entries.filter(kind="processor").exists():
        measured.append(_("Language model calls with the user who started them (playground, dry runs)."))
    return measured


@dataclass
class EmployeeMeasures:
    key: str
    title: str
    status: str
    affects_employees: bool
    risk_tier: str
    worker_information: str
    measured: list[str] = field(default_factory=list)
    # Documented in the use case (BetrVG co-determination); False while the page measures people all the same.
    documented: bool = True


@dataclass
class WorksCouncilReport:
    works_agreement: str
    per_person_enabled: bool
    min_group_size: int
    use_cases: list[EmployeeMeasures]


def works_council_report(*, tenant) -> WorksCouncilReport:
    policy = tenant_policy_get(tenant=tenant)
    with_queue = set(ReviewQueue.objects.for_tenant(tenant).values_list("use_cases", flat=True))
    rows = []
    for use_case in UseCase.objects.for_tenant(tenant).exclude(status=UseCaseStatus.RETIRED).order_by("title"):
        # People who review its items are measured (decisions, time on task): that affects employees whatever
        # the documentation says, and the page says so instead of "no".
        measured_people = use_case.pk in with_queue
        rows.append(EmployeeMeasures(
            key=use_case.key, title=use_case.title, status=use_case.get_status_display(),
            affects_employees=use_case.affects_employees or measured_people,
            documented=use_case.affects_employees or not measured_people, risk_tier=use_case.get_risk_tier_display(),
            worker_information=use_case.worker_information_reference,
            measured=measures_for(use_case, has_review_queue=use_case.pk in with_queue)))
    agreement = policy.works_agreement_reference.strip()
    return WorksCouncilReport(works_agreement=agreement, per_person_enabled=bool(agreement),
                              min_group_size=policy.min_group_size, use_cases=rows)
