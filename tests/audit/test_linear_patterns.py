"""The audit's own patterns run on details and stored texts of any size and take time linear in their length:
the check that no raw e-mail address or IBAN reaches an event's details (every event passes it, inside the
writing transaction), the pseudonym index, and the erasure's replacement of a person's identifiers."""
import re

import pytest

from audit.selectors.pseudonyms import PSEUDONYM_PATTERN
from audit.services import events as services
from audit.services.erasure import PLACEHOLDER, _replace
from tests.linear_time import assert_linear

UNITS = ["a", "a@", "a.", "a.a@", "a@a.", "1", "DE12", "DE12 ", "-", "ps_", "ps_0123456789abcdef0123 "]


def _check(text: str) -> None:
    try:
        services._check_details({"note": text})
    except services.RawPersonalDataInAudit:
        pass


def test_the_raw_personal_data_check_grows_linearly():
    assert_linear(_check, UNITS, label="_check_details")


def test_the_raw_personal_data_check_still_finds_addresses_and_ibans():
    for text in ("an max.muster@example.de", "IBAN DE89 3704 0044 0532 0130 00", "a.b+c@x-y.de;"):
        with pytest.raises(services.RawPersonalDataInAudit):
            services._check_details({"note": text})
    services._check_details({"note": "ps_0123456789abcdef0123, 4711, a@b"})


def test_the_pseudonym_index_and_the_erasure_replacement_grow_linearly():
    assert_linear(PSEUDONYM_PATTERN.findall, UNITS, label="PSEUDONYM_PATTERN")
    needles = ["max.muster@example.de", "DE89370400440532013000", "Max Muster", "K-1001"]
    pattern = re.compile("|".join(re.escape(needle) for needle in needles), re.IGNORECASE)
    assert_linear(lambda text: _replace(text, pattern, None, 1), UNITS + ["max ", "Max Muster "], label="_replace")
    assert _replace("Kunde Max Muster, K-1001", pattern, None, 1) == f"Kunde {PLACEHOLDER}, {PLACEHOLDER}"
