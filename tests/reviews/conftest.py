import pytest

from tests.reviews.world import world  # noqa: F401  (the review pages' shared fixture)


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield
