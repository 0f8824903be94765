"""Demo test cases for the quick start's use cases, so that each live release carries a real evaluation:
the demo invoices with the values printed on them, and fresh document and ticket texts made by the same
generator as the training data but with another seed (never seen in training). Idempotent: a use case that
has test cases keeps them."""
import random

from automations.evaluation.selectors import quality_test_case_list
from automations.evaluation.services.evaluations import evaluation_run_now
from automations.evaluation.services.test_cases import test_case_create
from demo.data import generate
from demo.invoices import DEMO_INVOICES, render_invoice

CASES_PER_CLASSIFIER = 40
TEST_SEED = generate.SEED + 1000


def _invoice_cases():
    for invoice in DEMO_INVOICES:
        if invoice.gross_misprint:
            continue  # its printed sum is wrong on purpose: a case for clarification, not for a value
        yield {"title": invoice.filename, "file_name": invoice.filename, "file_content": render_invoice(invoice),
               "tags": ["typical"] if invoice.with_xml else ["edge_case"],
               "expected": {"invoice_number": invoice.number, "issue_date": invoice.issue_date,
                            "gross_total": f"{invoice.gross():.2f}", "currency": "EUR"}}


def _document_cases():
    rng = random.Random(TEST_SEED)
    for n in range(CASES_PER_CLASSIFIER):
        row = generate.document(rng)
        yield {"title": f"Beleg {n + 1}", "payload": {"text": row["text"]},
               "expected": {"document_class": row["document_class"]}}


def _ticket_cases():
    rng = random.Random(TEST_SEED + 1)
    for n in range(CASES_PER_CLASSIFIER):
        row = generate.ticket(rng)
        yield {"title": row["subject"][:200] or f"Ticket {n + 1}", "payload": {"subject": row["subject"],
                                                                             "body": row["body"]},
               "expected": {"queue": row["queue"], "priority": row["priority"]}}


APPLICATION_CASES = [
    ("Bewerbung Vertrieb Innendienst und Außendienst, Erfahrung in der Kundenakquise", "vertrieb"),
    ("Ich möchte Ihr Verkaufsgebiet Nord im Vertrieb übernehmen", "vertrieb"),
    ("Bewerbung als Elektroniker für Betriebstechnik", "technik"),
    ("Als Servicetechniker kenne ich die Instandhaltung von Anlagen", "technik"),
    ("Bewerbung für die Debitoren- und Kreditorenbuchhaltung", "buchhaltung"),
    ("Geprüfte Bilanzbuchhalterin sucht neue Aufgabe", "buchhaltung"),
    ("Initiativbewerbung: ich bin offen für jede Aufgabe", "initiativ"),
    ("Hiermit bewerbe ich mich bei Ihnen, gern auch in Teilzeit", "initiativ"),
]


def _application_cases():
    for n, (text, position) in enumerate(APPLICATION_CASES):
        yield {"title": f"Bewerbung {n + 1}", "payload": {"anschreiben": text}, "expected": {"stelle": position}}


CASES = {"eingangsrechnungen": _invoice_cases, "belegklassifizierung": _document_cases,
         "service-tickets": _ticket_cases, "bewerbungseingang": _application_cases}


def seed_test_cases(use_case, actor) -> int:
    """The use case's demo test cases (once); returns how many it has."""
    if not quality_test_case_list(use_case=use_case).exists() and use_case.key in CASES:
        for case in CASES[use_case.key]():
            test_case_create(actor=actor, use_case=use_case, reason="Demo-Testfälle", **case)
    return quality_test_case_list(use_case=use_case).count()


def evaluate_for_production(release, actor):
    """Test cases and an evaluation of the release, carried out in this process (the worker is not running
    yet while the quick start seeds)."""
    seed_test_cases(release.use_case, actor)
    return evaluation_run_now(actor=actor, release=release)
