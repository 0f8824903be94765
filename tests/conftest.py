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


# --- The quick start's demo, seeded once for the tests that read it ------------------------------------------
# demo.seed() writes weeks of history, documents and classifiers: a minute or more on a loaded machine. The
# non-transactional tests that start from it (fixture `demo_seeded`) share one seed, as Django's TestCase shares
# setUpTestData: the seed runs inside a transaction opened before the first of them, each test runs inside a
# savepoint of it that is rolled back after the test (pytest-django nests its atomic block), and the
# transaction is rolled back when the next test does not use the demo. The tests that use it run one after the
# other (pytest_collection_modifyitems below), so the suite seeds once. A transactional test (its data is
# committed) seeds inside the test itself.


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    flagged = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
    return flagged or bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


def _shares_demo(item) -> bool:
    return item is not None and "demo_seeded" in getattr(item, "fixturenames", ()) and not _transactional(item)


class _SharedDemo:
    """The demo seeded inside an open transaction, its var/ and media folders, and the settings naming them."""

    def __init__(self):
        self.atomic = None
        self.override = None
        self.blocker = None
        self.ids: tuple | None = None

    @property
    def open(self) -> bool:
        return self.atomic is not None

    def start(self, blocker, folder) -> None:
        from django.db import transaction
        from django.test.utils import override_settings

        from demo import seed as demo

        (folder / "var").mkdir(parents=True)
        self.blocker = blocker
        self.override = override_settings(VAR_DIR=folder / "var", MEDIA_ROOT=folder / "media")
        self.override.enable()
        with blocker.unblock():
            self.atomic = transaction.atomic()
            self.atomic._from_testcase = True  # as Django's TestCase marks its class-wide block
            self.atomic.__enter__()
            try:
                result = demo.seed()
            except BaseException:
                self.stop()
                raise
        self.ids = (result.tenant.pk, {name: user.pk for name, user in result.users.items()},
                    copy.deepcopy(result.logins), list(result.seeders))

    def result(self):
        """A DemoResult of the shared seed with its own instances, read from the database."""
        from demo.seed import DemoResult
        from portal.models import Tenant

        tenant_pk, user_pks, logins, seeders = self.ids
        users = get_user_model().objects.in_bulk(list(user_pks.values()))
        return DemoResult(tenant=Tenant.objects.get(pk=tenant_pk), users={n: users[pk] for n, pk in user_pks.items()},
                          logins=copy.deepcopy(logins), seeders=list(seeders))

    def stop(self) -> None:
        from django.db import transaction

        if self.atomic is not None:
            with self.blocker.unblock():
                transaction.set_rollback(True)
                self.atomic.__exit__(None, None, None)
            self.atomic = None
        if self.override is not None:
            self.override.disable()
            self.override = None
        self.ids = None


_shared_demo = _SharedDemo()


def pytest_collection_modifyitems(items):
    """The tests that share the demo run one after the other, where the first of them stood (pytest-django has
    already put the non-transactional tests first; this keeps them there)."""
    sharing = [item for item in items if _shares_demo(item)]
    if len(sharing) < 2:
        return
    first = items.index(sharing[0])
    rest = [item for item in items if not _shares_demo(item)]
    items[:] = rest[:first] + sharing + rest[first:]


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Open the shared demo's transaction before pytest-django opens the test's own (nested) block."""
    if fixturedef.argname == "_django_db_helper" and _shares_demo(request.node) and not _shared_demo.open:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("demo")
        _shared_demo.start(request.getfixturevalue("django_db_blocker"), folder)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the test's own teardown: roll the shared demo back unless the next test uses it too."""
    try:
        return (yield)
    finally:
        if _shared_demo.open and not _shares_demo(nextitem):
            _shared_demo.stop()


@pytest.fixture
def demo_seeded(request, settings, tmp_path):
    """The quick start's demo (demo.seed(): tenant, users, use cases, history, ...) as a DemoResult. Shared with
    the other non-transactional tests that use it (see above); a transactional test seeds its own, with var/ and
    media folders of its own."""
    if _shared_demo.open and _shares_demo(request.node):
        return _shared_demo.result()
    from demo import seed as demo

    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR.mkdir(exist_ok=True)
    return demo.seed()
