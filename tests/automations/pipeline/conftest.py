import pytest


@pytest.fixture(autouse=True)
def eager_celery(settings, tmp_path):
    """In-process tasks for the pipeline's unit tests; the integration tests run a real worker."""
    from portal.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what a service sends on commit (the pipeline task), as the real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
