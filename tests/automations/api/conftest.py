import pytest


@pytest.fixture(autouse=True)
def eager_celery(settings, tmp_path):
    """The pipeline runs in-process when a request commits; tests/integration runs a real worker."""
    from portal.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
