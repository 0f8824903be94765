import pytest


@pytest.fixture(autouse=True)
def english():
    """Reasons and messages are stored and raised in the active language (German by default); these
    tests read them in English. The German texts are checked by the UI tests."""
    from django.utils import translation

    with translation.override("en"):
        yield
