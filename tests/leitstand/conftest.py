from datetime import date

import pytest

from tests.automations.factories import make_use_case

DAY = date(2026, 11, 10)  # a Tuesday in the past, in Berlin time
OUTPUTS = [{"name": "category", "type": "category", "choices": ["a", "b"],
            "label": {"de": "Kategorie", "en": "Category"}},
           {"name": "iban", "type": "iban", "personal_data": True, "category": "bank"}]


@pytest.fixture
def use_case(tenant, team):
    return make_use_case(tenant, team["automation_lead"], key="belege", output_fields=OUTPUTS)
