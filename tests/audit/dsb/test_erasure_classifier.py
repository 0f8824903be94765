"""A trained classifier keeps nothing an erasure would have to find: e-mail addresses, IBANs, phone and long
numbers are replaced by placeholders before vectorising, and no `stop_words_` (pruned training words) is kept."""
import io
import pickle
import random
import re

import joblib
import pytest

from automations.training.services import classifier_train, examples_import
from portal.choices import Role
from tests.automations.factories import make_use_case

pytestmark = pytest.mark.django_db

EMAILS = ["anna.schulz@firma-x.de", "b.yilmaz@praxis-yilmaz.example", "info@baeckerei-schmidt.example"]
IBANS = ["DE89370400440532013000", "DE02 1203 0000 0000 2020 51", "AT611904300234573201"]
PHONES = ["+49 711 1234567", "0171/2345678", "(089) 98 76 54-3"]
NUMBERS = ["4711081512", "1234567890123", "99887766"]


def _text(rng: random.Random, topic: str) -> str:
    words = {"technik": "Störung Fehler Drucker ausgefallen", "rechnung": "Rechnung Abbuchung Gutschrift falsch"}
    return (f"{words[topic]} bitte melden {rng.choice(EMAILS)} Konto {rng.choice(IBANS)} "
            f"Telefon {rng.choice(PHONES)} Vorgang {rng.choice(NUMBERS)}")


def test_a_trained_artifact_holds_no_identifier(tenant, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    lead = member(Role.AUTOMATION_LEAD)
    use_case = make_use_case(tenant, lead, key="tickets", input_fields=[{"name": "text", "type": "long_text"}],
                             output_fields=[{"name": "queue", "type": "category", "choices": ["technik", "rechnung"]}])
    rng = random.Random(7)
    rows = [{"text": _text(rng, topic), "queue": topic} for topic in ["technik", "rechnung"] * 40]
    examples_import(actor=lead, use_case=use_case, text_columns="text", label_columns="queue", rows_iter=rows)

    version = classifier_train(actor=lead, use_case=use_case)

    with version.artifact.open("rb") as handle:
        stored = handle.read()
    bundle = joblib.load(io.BytesIO(stored))
    readable = pickle.dumps(bundle, protocol=0).decode("latin-1").casefold()  # every string in the clear
    readable += str(version.evaluation).casefold() + stored.decode("latin-1").casefold()
    assert "technik" in readable  # the check reads what the model learnt
    digits = [run for value in IBANS + PHONES + NUMBERS for run in re.findall(r"\d{5,}", value.replace(" ", ""))]
    for value in EMAILS + IBANS + [iban.replace(" ", "") for iban in IBANS] + PHONES + NUMBERS + digits:
        assert value.casefold() not in readable, value
    for local_part in ("anna.schulz", "yilmaz@", "firma-x.de"):
        assert local_part not in readable, local_part
    assert _no_stop_words(bundle)


def _no_stop_words(bundle) -> bool:
    """Every vectoriser in the bundle has its pruned-terms set removed."""
    found = []

    def walk(value, depth=0):
        if depth > 12:
            return
        if hasattr(value, "stop_words_"):
            found.append(value.stop_words_)
        children = value.__dict__.values() if hasattr(value, "__dict__") else []
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list | tuple):
            children = value
        for child in children:
            if isinstance(child, str | bytes | int | float):
                continue
            walk(child, depth + 1)

    walk(bundle)
    return all(not words for words in found)
