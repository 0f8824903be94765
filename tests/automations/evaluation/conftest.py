import pytest

from tests.automations.factories import make_rules_use_case


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def belege(tenant, team, media):
    """A document classification use case on the rules engine (Rechnung, Mahnung, Lieferschein), in pilot:
    its production label is what the tests move."""
    return make_rules_use_case(tenant, team, key="belege", status="pilot", auto=0.7, reject=0.3)


def pilot_release(use_case):
    return use_case.labels.get(name="pilot").release


def set_targets(use_case, team, targets: dict):
    """The use case's quality targets changed as a running use case's documentation changes: through an
    approved change request. Returns the use case, refreshed."""
    from automations.choices import ChangeKind
    from automations.registry.services import changes
    from tests.automations.factories import approve_all

    cr = changes.change_request_create(actor=team["automation_lead"], tenant=use_case.tenant, use_case=use_case,
                                       kind=ChangeKind.DOCUMENTATION, title="Qualitätsziele",
                                       description="Ziele für die Produktion", payload={"changes": {
                                           "quality_targets": targets}})
    approve_all(cr, team)
    use_case.refresh_from_db()
    return use_case
