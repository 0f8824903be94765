"""The quick start's demo classifier: demo examples imported once as `demo`, one version trained."""
from automations.choices import ExampleSource
from automations.training.selectors import example_counts, training_examples
from automations.training.services import examples_import
from demo.training import seed_classifier

# The fixtures of the training tests this moved from (English messages, media root, the team).
from tests.automations.conftest import english  # noqa: F401
from tests.automations.factories import make_use_case
from tests.automations.training.conftest import media  # noqa: F401

CLASSES = ["invoice", "credit_note", "delivery_note", "purchase_order", "reminder", "contract", "other"]


def test_seeding_is_idempotent_and_real_examples_replace_the_demo_ones(tenant, lead):
    use_case = make_use_case(tenant, lead, key="belegklassifizierung",
                             input_fields=[{"name": "text", "type": "long_text"}],
                             output_fields=[{"name": "document_class", "type": "category", "choices": CLASSES}],
                             quality_targets={"min_precision": {"document_class": 0.95}})
    version = seed_classifier(tenant, use_case, lead)

    assert seed_classifier(tenant, use_case, lead) == version
    assert example_counts(use_case=use_case) == {ExampleSource.DEMO: 560}
    evaluation = version.evaluation["fields"]["document_class"]
    assert evaluation["macro_f1"] > 0.85 and sorted(evaluation["classes"]) == sorted(CLASSES)

    examples_import(actor=lead, use_case=use_case, rows_iter=[{"text": "Rechnung 1", "document_class": "invoice"}],
                    text_columns="text", label_columns="document_class")
    assert list(training_examples(use_case=use_case).values_list("source", flat=True)) == [ExampleSource.IMPORT]
