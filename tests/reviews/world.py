"""A small world for the review pages: a team, a use case with personal data, cleared clerks, tasks,
and another tenant with a task of its own. Built through the real services."""
import pytest
from django.utils import timezone

from automations.choices import ItemStatus
from automations.models import WorkItem
from portal.choices import Role
from reviews.choices import QueueKind
from reviews.services import review_task_create
from tests.automations.factories import make_team, make_use_case
from tests.reviews.factories import clear, join_team

OUTPUTS = [
    {"name": "document_class", "type": "category", "required": True, "choices": ["invoice", "reminder", "other"]},
    {"name": "iban", "type": "iban", "personal_data": True, "category": "bank"},
]
INPUTS = [{"name": "text", "type": "long_text"},
          {"name": "sender_email", "type": "email", "personal_data": True, "category": "contact"}]


def make_review_item(use_case, n=0, *, fields=None, reasons=None, payload=None):
    return WorkItem.objects.create(
        tenant=use_case.tenant, use_case=use_case, content_hash=f"h{n}-{timezone.now().timestamp()}",
        payload=payload or {"text": f"Rechnung Nr. {n}\nBitte überweisen.", "sender_email": f"kunde{n}@example.org"},
        status=ItemStatus.REVIEW, reasons=reasons if reasons is not None else ["Low confidence: document_class"],
        fields=fields or {
            "document_class": {"value": "invoice", "confidence": 0.62, "engine": "rules",
                               "explanation": "Keyword “Rechnung” found.", "reasons": []},
            "iban": {"value": "DE89370400440532013000", "confidence": 0.97, "engine": "rules",
                     "explanation": "IBAN in the text.", "reasons": []},
        })


def make_review_tasks(use_case, count, *, kind=QueueKind.REVIEW, priority=3, start=0, **item_kwargs):
    return [review_task_create(item=make_review_item(use_case, start + i, **item_kwargs), kind=kind,
                               reasons=["Low confidence: document_class"], priority=priority)
            for i in range(count)]


@pytest.fixture
def world(tenant, member, make_tenant, make_user):
    team = make_team(member)
    team["clerk_2"] = member(Role.CLERK, username="clerk_2")
    team["uncleared"] = member(Role.CLERK, username="clerk_new")
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", input_fields=INPUTS,
                             output_fields=OUTPUTS, data_subjects=["Kunden"],
                             escalation_contact=team["department_owner"])
    for clerk in ("clerk", "clerk_2"):
        clear(team[clerk], use_case, team["automation_lead"])
    join_team(team["uncleared"], use_case, team["automation_lead"])  # in the team, briefing not yet confirmed
    tasks = make_review_tasks(use_case, 3)
    other = make_tenant("anderes", "Andere AG")
    other_lead = make_user("lead_anders", tenant=other, roles=[Role.AUTOMATION_LEAD])
    other_use_case = make_use_case(other, other_lead, key="fremd", input_fields=INPUTS, output_fields=OUTPUTS)
    other_task = make_review_tasks(other_use_case, 1)[0]
    return {"tenant": tenant, "team": team, "use_case": use_case, "tasks": tasks, "queue": tasks[0].queue,
            "other": other, "other_task": other_task, "other_use_case": other_use_case}


def small_pdf(text: str = "Rechnung Nr. 2025-1187", pages: int = 1) -> bytes:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for n in range(pages):
        pdf.setFont("Helvetica", 14)
        pdf.drawString(72, 760, f"{text} · Seite {n + 1}")
        pdf.drawString(72, 730, "IBAN DE89 3704 0044 0532 0130 00")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def attach_file(item, name="rechnung.pdf", data=None, content_type="application/pdf"):
    import hashlib

    from django.core.files.base import ContentFile

    from automations.models import WorkItemFile

    data = data if data is not None else small_pdf()
    item_file = WorkItemFile(tenant=item.tenant, item=item, name=name, content_type=content_type, size=len(data),
                             sha256=hashlib.sha256(data).hexdigest())
    item_file.file.save(name, ContentFile(data), save=True)
    return item_file
