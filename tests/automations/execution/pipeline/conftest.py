import pytest


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py)."""
