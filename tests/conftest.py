"""Shared fixtures: build state through the real services, as a user of the portal would."""
import copy
import hashlib
import itertools
import pickle
import shutil

import pytest
from django.contrib.auth import get_user_model

from audit.actors import SYSTEM
from portal import services
from portal.choices import Role
from tests import access
from tests.automations.factories import make_team

_counter = itertools.count(1)


@pytest.fixture
def make_tenant(db):
    def make(slug: str | None = None, name: str | None = None):
        n = next(_counter)
        return services.tenant_create(actor=SYSTEM, slug=slug or f"mandant-{n}", name=name or f"Mandant {n} GmbH")

    return make


@pytest.fixture
def tenant(make_tenant):
    return make_tenant("muster", "Muster GmbH")


@pytest.fixture
def make_user(db):
    def make(username: str | None = None, *, tenant=None, roles: list[str] | None = None, password="Geheim-12345"):
        user = get_user_model().objects.create_user(username or f"user{next(_counter)}", password=password)
        if tenant is not None:
            services.membership_create(actor=SYSTEM, tenant=tenant, user=user, roles=roles or [Role.CLERK])
        return user

    return make


@pytest.fixture
def member(make_user, tenant):
    """A user with the given roles in the default tenant: member(Role.CLERK)."""

    def make(*roles: str, username: str | None = None):
        return make_user(username, tenant=tenant, roles=list(roles) or [Role.CLERK])

    return make


@pytest.fixture
def team(member):
    """One member per role plus a second automation lead, named after their roles (as the quick start seeds
    them): team["automation_lead"], team["clerk"], ..."""
    return make_team(member)


@pytest.fixture
def lead(team):
    return team["automation_lead"]


@pytest.fixture
def login(client):
    """login(user, tenant): `user` signed in with `tenant` as the session's active tenant (tests/access.py);
    returns the client. The pages speak German, the default."""
    return lambda user, tenant: access.login(client, user, tenant)


def in_tenant(user, tenant):
    """Make the permission backend see `tenant` as the user's active tenant, as the middleware does."""
    user.active_tenant = tenant
    if hasattr(user, "_tenant_role_perm_cache"):
        del user._tenant_role_perm_cache
    return user


@pytest.fixture
def eager_tasks(settings, tmp_path):
    """Celery tasks run in the calling process (the pipeline in unit tests), with files in a temporary
    media root; tests/integration runs a real worker instead."""
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


@pytest.fixture(scope="session", autouse=True)
def training_once_per_run():
    """A classifier trained with the product's default parameters on examples already trained on in this run
    comes from that first training: many tests seed the demo in process (demo.seed trains the two demo
    classifiers, half of each seed), and training is deterministic (fixed split, seeds and folds). The
    service still builds, stores and audits its version as always; only the fit itself is reused. Training
    with given parameters or a progress callback (the training tests, the worker's task) always fits."""
    from automations.training import services as training_services

    fit = training_services.train
    fitted: dict[str, tuple] = {}

    def train(examples, *, progress=None, parameters=None, **kwargs):
        if progress is not None or parameters is not None:
            return fit(examples, progress=progress, parameters=parameters, **kwargs)
        key = hashlib.sha256(pickle.dumps((examples, sorted(kwargs.items())))).hexdigest()
        if key not in fitted:
            fitted[key] = fit(examples, **kwargs)
        return copy.deepcopy(fitted[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training_services, "train", train)
        yield


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """A var/ folder of the embedded default (SQLite, no configuration) after `manage.py migrate` and nothing
    else. Migrating takes half a minute or more (SQLite rebuilds tables), so it is made once per test run;
    tests that start from an empty installation work on copies of it (migrated_var), never on it."""
    import subprocess
    import sys

    from django.conf import settings

    from tests.demo.test_quickstart import embedded_env

    var_dir = tmp_path_factory.mktemp("migrated") / "var"
    done = subprocess.run([sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate", "--no-input", "-v", "0"],
                          env=embedded_env(var_dir), cwd=settings.BASE_DIR, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return var_dir


@pytest.fixture
def migrated_var(migrated_sqlite, tmp_path):
    """The test's own copy of a freshly migrated embedded installation's var/ folder, at tmp_path / "var"
    (its SQLite database is var/leitplanke.sqlite3; no absolute path of the folder is stored in it)."""
    var_dir = tmp_path / "var"
    shutil.copytree(migrated_sqlite, var_dir, symlinks=True)
    return var_dir


@pytest.fixture(scope="session")
def quickstart_pristine(tmp_path_factory):
    """A var/ folder after `quickstart --no-serve` ran twice as on a fresh machine (the first run migrates and
    seeds the demo: minutes), with both runs' results. Made once per test run; tests that need a set-up portal
    work on copies of it (quickstart_var), never on it."""
    from tests.demo.test_quickstart import embedded_env, quickstart

    var_dir = tmp_path_factory.mktemp("quickstart") / "var"
    env = embedded_env(var_dir)
    first = quickstart(env, "--no-serve")
    second = quickstart(env, "--no-serve")
    return var_dir, first, second


@pytest.fixture
def quickstart_var(quickstart_pristine, tmp_path):
    """The test's own copy of a set-up embedded portal's var/ folder (database, files, keys): what a user has
    after the first `quickstart`. No absolute path of the folder is stored in it."""
    pristine, first, _second = quickstart_pristine
    assert first.returncode == 0, first.stderr
    var_dir = tmp_path / "var"
    shutil.copytree(pristine, var_dir, symlinks=True)
    return var_dir
