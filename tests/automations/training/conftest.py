import csv
from pathlib import Path

import pytest

from tests import access
from tests.automations.factories import make_use_case

DEMO = Path(__file__).resolve().parents[3] / "demo" / "data"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Artifacts go to a fresh media folder; no model stays cached between tests, and no training
    progress either: a cache of this process only (the configured one is shared by processes, here
    parallel test workers, and outlives a test database)."""
    from django.core.cache import cache

    from automations.training import services as training

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "training-tests"}}
    training._LOADED.clear()
    cache.clear()
    yield
    training._LOADED.clear()
    cache.clear()


# Small and quick: one model, one C, no per-column features (the choices themselves are tested on
# their own in test_engine_model.py).
QUICK = {"candidates": ["linear_svm"], "c_grid": [1.0], "feature_sets": ["text"], "folds": 3}


def quick_parameters() -> dict:
    import copy

    from automations.engines.classifier.model import DEFAULT_PARAMETERS

    return {**copy.deepcopy(DEFAULT_PARAMETERS), **QUICK}


@pytest.fixture
def login(client):
    """Log `user` in with `tenant` as the session's active tenant, the pages switched to English (as the
    language switch does); returns the client."""
    return lambda user, tenant: access.login(client, user, tenant, language="en")


@pytest.fixture
def tickets(tenant, lead):
    """A draft use case like the demo's service tickets, knowing only two queues so far."""
    return make_use_case(
        tenant, lead, key="tickets",
        input_fields=[{"name": "subject", "type": "text"}, {"name": "body", "type": "long_text"}],
        output_fields=[{"name": "queue", "type": "category", "choices": ["technik", "rechnung"]},
                       {"name": "priority", "type": "category", "choices": ["hoch", "mittel", "niedrig"]},
                       {"name": "reply", "type": "long_text"}],
        quality_targets={"min_precision": {"queue": 0.9}})


def demo_rows(name: str, count: int) -> list[dict]:
    with open(DEMO / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))[:count]


def write_csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def ticket_csv(tmp_path):
    return write_csv(tmp_path / "tickets.csv", demo_rows("service_tickets.csv", 240))
