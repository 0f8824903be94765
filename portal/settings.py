"""Leitplanke settings: the one place that reads the environment (see README, "Configuration")."""
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

PORTAL_ENV = env_choice("PORTAL_ENV", ("development", "production", "test"), "development")
PRODUCTION = PORTAL_ENV == "production"
DEBUG = env_bool("DEBUG", default=PORTAL_ENV == "development")


def _development_secret_key() -> str:
    """Generated once per checkout and kept under var/, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY", required=PRODUCTION) or _development_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Fernet keys for secrets kept in the database (processor API keys): the first encrypts, all decrypt
# (rotation). Without it, development generates one under var/; production needs it once a processor
# key is stored (portal.field_keys).
FIELD_ENCRYPTION_KEYS = env_list("LEITPLANKE_FIELD_KEYS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    # Two-factor sign-in: TOTP from an authenticator app, recovery codes as static tokens (portal.services).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "simple_history",
    "django_htmx",
    "django_prometheus",
    "health_check",
    "portal",
    "audit",
    "automations",
    "reviews",
    "leitstand",
    "operations",
    # The quick start's demo data, pages and `quickstart` command; the product never imports it, and its
    # pages are mounted outside production only (portal/urls.py).
    "demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # The request id (X-Request-ID, taken or made) and one log line per request (portal.logs).
    "portal.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy of every page (CONTENT_SECURITY_POLICY); file views set a stricter one.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.TenantMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",
    "portal.middleware.SignInRequiredMiddleware",
    # After the password, the second factor: verification, or enrolment where it is required.
    "portal.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Before any view or CSRF check reads the body.
    "portal.middleware.RequestSizeLimitMiddleware",
    # Turns a sign-in refused for a lock into the lockout answer (portal.views.login_locked_out).
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
            "libraries": {"quality_tags": "automations.quality.templatetags"},
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# Embedded default: SQLite under var/ in WAL mode with immediate transactions, so that writers queue
# for the lock at BEGIN instead of failing half-way through a transaction.
SQLITE_DEFAULT = f"sqlite:///{VAR_DIR / 'leitplanke.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", required=PRODUCTION) or SQLITE_DEFAULT


def _database(url: str) -> dj_database_url.DBConfig:
    config = dj_database_url.parse(url, conn_max_age=0 if url.startswith("sqlite") else 60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            # secure_delete: deleted content is overwritten in the file, not left in free pages (erasure,
            # GDPR Art. 17; audit.services.erasure also checkpoints the WAL and vacuums afterwards).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                            "PRAGMA secure_delete=ON;",
        }
    else:
        # Django's backend with a health check that polls the socket before it sends `SELECT 1` (portal.db).
        config["ENGINE"] = "portal.db.postgresql"
        config["CONN_HEALTH_CHECKS"] = True
        # An unreachable server fails a request within seconds (JSON 503 on /api/) instead of hanging it.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    return config


DATABASES = {"default": _database(DATABASE_URL)}
# The owner role (migrations, database roles, anchored audit purge). Without it, the default
# connection is the owner, as on the embedded default.
DATABASE_ADMIN_URL = env_str("DATABASE_ADMIN_URL")
if DATABASE_ADMIN_URL:
    DATABASES["admin"] = _database(DATABASE_ADMIN_URL) | {"TEST": {"MIRROR": "default"}}
DATABASE_RUNTIME_ROLE = env_str("DATABASE_RUNTIME_ROLE", "leitplanke_app")
# The pipeline's and the ingest's fixed statements prepared on the server once per connection (portal.db.postgresql);
# off for a connection pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication and permissions ---------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in while django-axes holds a lock on the user name or the address.
    "portal.backends.SignInLockoutBackend",
    "portal.backends.TenantRoleBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if PORTAL_ENV == "test":
    # Tests create many users; the production hasher's deliberate slowness would dominate the suite.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one user name, or from one
# address, sign-in is refused for LOGIN_LOCKOUT_MINUTES (the cool-off) or until an administrator lifts it
# (`manage.py unlock_login`). A successful login clears the user's count.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.views.login_locked_out"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "portal.backends.client_address"
# How django-axes names a client in its log lines: keyed digests, never the user name or the address.
AXES_CLIENT_STR_CALLABLE = "portal.services.login_client_name"
# Behind a reverse proxy every request comes from the proxy: then the client is the address the proxy
# appended last to X-Forwarded-For (README, "Production").
CLIENT_ADDRESS_FROM_PROXY = env_bool("CLIENT_ADDRESS_FROM_PROXY", env_bool("SECURE_PROXY_SSL_HEADER", False))
# Two-factor sign-in (django-otp): whoever has set up a second factor enters a code after the password.
# Automation leads, ISB, DSB, IT and superusers must have one before any page (portal.roles.SECOND_FACTOR_ROLES):
# always in production; elsewhere only when TWO_FACTOR_ENFORCED is set, and the pages say that it is not.
TWO_FACTOR_ENFORCED = PRODUCTION or env_bool("TWO_FACTOR_ENFORCED", False)
OTP_TOTP_ISSUER = "Leitplanke"
# Recovery codes issued at enrolment and on request (each works once).
TWO_FACTOR_RECOVERY_CODES = 10
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous object permissions
API_TOKEN_DEFAULT_DAYS = env_int("API_TOKEN_DEFAULT_DAYS", 90)
# The longest lifetime a token may be given (a token that never expires is a standing credential).
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 366)
# API requests allowed per API token and per client address (DRF rate syntax: N/second|minute|hour|day).
API_THROTTLE_RATES = {"token": env_str("API_RATE_PER_TOKEN", "3000/minute"),
                      "address": env_str("API_RATE_PER_ADDRESS", "6000/minute")}

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
TIME_ZONE = "Europe/Berlin"  # shown; stored in UTC
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request without it (collectstatic fills it in production)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Work item files live outside the web root and are served only through permission-checked views.
MEDIA_ROOT = Path(env_str("PORTAL_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = None
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Request and input limits ---------------------------------------------------------------------
# A request body larger than this is refused with 413 before it is read (an upload of several files included).
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_MB", 100) * 1024 * 1024
# Everything but files: form fields, and JSON bodies of the API (Django applies it to forms, the portal's
# middleware to JSON as well).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_DATA_MB", 5) * 1024 * 1024
# One file of a work item.
UPLOAD_MAX_FILE_BYTES = env_int("UPLOAD_MAX_FILE_MB", 25) * 1024 * 1024
# Text the engines read from one item's files; an item with more goes to clarification instead. Text input
# fields have their own limits in the use case's field schema (automations.engines.limits).
PIPELINE_MAX_TEXT_CHARS = env_int("PIPELINE_MAX_TEXT_CHARS", 1_000_000)

# --- E-mail ---------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    # Without a mail server, messages are written to var/mail/ so they can be read in the quick start.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "leitplanke@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.TenantMember"],
    # Per API token (or signed-in user) and per client address; 429 with Retry-After beyond the rate.
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.ApiRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["portal.api.filters.ListFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error as problem details (RFC 9457, portal.problems); JSON only, also when a browser asks.
    "EXCEPTION_HANDLER": "portal.problems.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON without NUL characters and nested at most 32 levels (400 otherwise), forms and files as DRF reads them.
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Leitplanke API",
    "DESCRIPTION": "Registry, execution, review and audit of AI automation.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A PATCH body is documented as its serializer declares it: partial updates declare their optional
    # fields themselves and keep what is always required (the reason of a use case's edit) required.
    "COMPONENT_SPLIT_PATCH": False,
    # Choice sets that share a field name (`kind`, `role`) get one stable component name each.
    "ENUM_NAME_OVERRIDES": {
        "ChangeKindEnum": "automations.choices.ChangeKind",
        "CatalogueKindEnum": "automations.choices.CatalogueKind",
        "ConnectorTypeEnum": "automations.choices.ConnectorType",
        "RoleEnum": "portal.choices.Role",
        "TaskStateEnum": "reviews.choices.TaskState",
    },
    # Every operation documents its error statuses as problem details (portal.api.schema).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "portal.api.schema.problem_responses",
                             "portal.api.schema.query_strings_without_nul"],
}

# --- Audit ----------------------------------------------------------------------------------------
# Ed25519 key that signs checkpoints of the audit chains, purge anchors and exports (audit.signing): PEM or
# base64 of the 32 raw bytes. Without it, development and test generate one under var/; production signs
# nothing until it is set. Earlier keys' public keys (base64) keep their signatures valid after a rotation.
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY")
AUDIT_TRUSTED_PUBLIC_KEYS = env_list("AUDIT_TRUSTED_PUBLIC_KEYS")
# Signed checkpoints are written outside the database, so that whoever can rewrite the database cannot
# rewrite them as well; put the folder on other storage in production.
AUDIT_CHECKPOINT_DIR = Path(env_str("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "checkpoints")))
AUDIT_CHECKPOINT_SECONDS = env_int("AUDIT_CHECKPOINT_SECONDS", 900)
# Audit events are kept at least six months (EU AI Act Art. 19, 26(6)); purge_audit refuses younger ones.
# How events join their chain on PostgreSQL (audit.sequencer): "on_commit" — written pending, linked right after
# the writing transaction commits (and by the maintenance sweep), so that no request waits for a chain lock;
# "inline" — linked inside the writing transaction (the lock held until its commit, and inline writers one at a
# time so that two of them never wait for each other's chains; the test default, so that tests see sequence
# numbers at once). SQLite always links inline.
AUDIT_SEQUENCER = env_choice("AUDIT_SEQUENCER", ("on_commit", "inline"),
                             "inline" if PORTAL_ENV == "test" else "on_commit")
# "on_commit": how long after a commit a process links its events — one round for every commit of that
# window (0: at once, in the committing thread).
AUDIT_SEQUENCE_DELAY_SECONDS = env_float("AUDIT_SEQUENCE_DELAY_SECONDS", 0.0 if PORTAL_ENV == "test" else 0.2)
# The sweep that links events whose writer stopped between its commit and linking them (seconds).
AUDIT_SEQUENCE_SWEEP_SECONDS = env_int("AUDIT_SEQUENCE_SWEEP_SECONDS", 5)
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 183)
if AUDIT_RETENTION_DAYS < 183:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 183 (six months).")

# --- Cache ----------------------------------------------------------------------------------------
# Shared by the web and worker processes (a training run's progress is written by the worker and read by
# the pages): files under var/ on one host; Redis (redis://...) when CACHE_URL is set, for several hosts.
CACHE_URL = env_str("CACHE_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL} if CACHE_URL
          else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}}

# --- Celery ---------------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport under var/, so a real worker runs without a server.
CELERY_FOLDER = VAR_DIR / "celery"
for _sub in ("queue", "processed", "control"):
    (CELERY_FOLDER / _sub).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", required=PRODUCTION) or "filesystem://"
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
if CELERY_BROKER_URL.startswith("filesystem"):
    # kombu's transport lets a worker read a message file its writer has not finished, and the worker then stops
    # with the message lost (celery/kombu#1551): ours writes atomically and skips what it cannot read yet.
    CELERY_BROKER_TRANSPORT = "leitplanke-filesystem"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FOLDER / "queue"),
        "data_folder_out": str(CELERY_FOLDER / "queue"),
        "processed_folder": str(CELERY_FOLDER / "processed"),
        "control_folder": str(CELERY_FOLDER / "control"),
        "store_processed": False,
        # kombu polls a folder once a second by default: with one message per poll and thread that capped the
        # quick start at two items a second whatever the work cost. A listing of the folder every 20 ms costs
        # next to nothing.
        "polling_interval": env_float("CELERY_FILESYSTEM_POLLING_SECONDS", 0.02),
    }
else:
    # Longer than any task may run, so an unacknowledged task is never handed out twice while alive.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT}
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Celery's Django fix-up closes the database connection before and after every task unless this is set: a
# new PostgreSQL backend per task (its connection set-up and an empty catalogue cache) cost a pipeline run more
# than all its statements. Workers keep their connection across tasks instead and close it as Django closes a
# request's (CONN_MAX_AGE, health check before first use, errors); a task that did not succeed closes it
# (portal.celery). The fix-up still recycles the connection after this many tasks.
CELERY_DB_REUSE_MAX = 1000
# Beat's tasks run on a queue of their own, consumed by a worker of its own (quickstart starts one; the
# systemd units include one): recovery (the run reaper), claim expiry and checkpoint signing never wait
# behind a backlog of pipeline work. Each expires after its own interval, so an outage leaves no pile of
# them. The daily long tasks (verification, retention) stay on the default queue.
CELERY_TASK_DEFAULT_QUEUE = "celery"
MAINTENANCE_QUEUE = "maintenance"
RUN_REAP_SECONDS = env_int("RUN_REAP_SECONDS", 60)
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 15)


def _maintenance(task: str, seconds: float) -> dict:
    return {"task": task, "schedule": seconds, "options": {"queue": MAINTENANCE_QUEUE, "expires": seconds}}


# Delivery outbox (automations.connectors): beat sends due deliveries that have no task on its way.
DELIVERY_SWEEP_SECONDS = env_int("DELIVERY_SWEEP_SECONDS", 10)
DELIVERY_DISPATCH_SECONDS = env_int("DELIVERY_DISPATCH_SECONDS", 30)

# Watched folders (automations.connectors.services.folders): polled by beat; a file is taken once its size
# and time stood still this long. The embedded default's inbox: <var>/inbox/<tenant>/<use case>/.
FOLDER_POLL_SECONDS = env_int("FOLDER_POLL_SECONDS", 10)
FOLDER_STABLE_SECONDS = env_int("FOLDER_STABLE_SECONDS", 2)
FOLDER_INBOX_DIR = env_str("FOLDER_INBOX_DIR", str(VAR_DIR / "inbox"))

# The quality circuit breaker (automations.quality): the window its figures cover and the fewest decided
# reviews / routed items it judges by; a use case's quality targets may set their own
# (breaker_window_days, breaker_min_checked, breaker_min_routed).
QUALITY_BREAKER_WINDOW_DAYS = env_int("QUALITY_BREAKER_WINDOW_DAYS", 7)
QUALITY_BREAKER_MIN_CHECKED = env_int("QUALITY_BREAKER_MIN_CHECKED", 20)
QUALITY_BREAKER_MIN_ROUTED = env_int("QUALITY_BREAKER_MIN_ROUTED", 20)
QUALITY_BREAKER_SECONDS = env_int("QUALITY_BREAKER_SECONDS", 15 * 60)

CELERY_BEAT_SCHEDULE: dict = {
    "poll-folders": _maintenance("automations.poll_folders", float(FOLDER_POLL_SECONDS)),
    "poll-mailboxes": _maintenance("automations.poll_mailboxes", float(env_int("MAIL_POLL_SECONDS", 30))),
    "sweep-deliveries": _maintenance("automations.sweep_deliveries", float(DELIVERY_SWEEP_SECONDS)),
    "reap-runs": _maintenance("automations.reap_runs", float(RUN_REAP_SECONDS)),
    "expire-change-requests": _maintenance("automations.expire_change_requests", 3600.0),
    "expire-review-claims": _maintenance("reviews.expire_claims", 60.0),
    "sign-audit-checkpoints": _maintenance("audit.sign_checkpoints", float(AUDIT_CHECKPOINT_SECONDS)),
    "sequence-audit-events": _maintenance("audit.sequence_pending", float(AUDIT_SEQUENCE_SWEEP_SECONDS)),
    "beat-heartbeat": _maintenance("operations.beat_heartbeat", 60.0),
    # The Leitstand's daily figures of today and yesterday (leitstand.services).
    "leitstand-daily-figures": _maintenance("leitstand.refresh_daily_figures",
                                            float(env_int("LEITSTAND_REFRESH_SECONDS", 900))),
    "verify-audit-chains": {"task": "audit.verify_chains", "schedule": 24 * 3600.0},
    "work-item-retention": {"task": "audit.retention_sweep", "schedule": 24 * 3600.0},
    "data-subject-request-reminders": {"task": "audit.request_reminders", "schedule": 6 * 3600.0},
    "quality-breakers": _maintenance("automations.quality_breakers_evaluate", float(QUALITY_BREAKER_SECONDS)),
    "use-case-reviews-due": {"task": "automations.use_case_reviews_schedule", "schedule": 3600.0},
}
CELERY_TASK_ROUTES = {entry["task"]: {"queue": MAINTENANCE_QUEUE} for entry in CELERY_BEAT_SCHEDULE.values()
                      if entry.get("options", {}).get("queue") == MAINTENANCE_QUEUE}
# A lost broker connection is retried for ever (the default gives up after 100 tries and the worker exits).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Publishing from a request or a task while the broker is down fails fast: the item stays `received`
# and the reaper sends it (DESIGN, "API errors"), instead of the request hanging in retries.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 4)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
REVIEW_CLAIM_MINUTES = env_int("REVIEW_CLAIM_MINUTES", 15)
# Pipeline runs: a run not finished within its lease is picked up by the reaper (the embedded broker
# gives no crash safety of its own); a queued run not started within the dispatch grace is re-sent.
RUN_LEASE_SECONDS = env_int("RUN_LEASE_SECONDS", 20 * 60)
RUN_DISPATCH_SECONDS = env_int("RUN_DISPATCH_SECONDS", 5 * 60)
RUN_MAX_ATTEMPTS = env_int("RUN_MAX_ATTEMPTS", 3)

# --- Monitoring -----------------------------------------------------------------------------------
# Bearer token for /metrics and the detailed health report /health/ (Prometheus, monitoring). Without it
# only superusers signed in to the portal see them; /health/live/ answers anyone.
MONITORING_TOKEN = env_str("MONITORING_TOKEN")
# Disk usage (percent) above which the disk health check fails.
HEALTH_DISK_MAX_PERCENT = env_int("HEALTH_DISK_MAX_PERCENT", 90)
PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Production hardening (manage.py check --deploy) ----------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF token from the cookie: forms carry it in a hidden field, htmx only sends GETs.
CSRF_COOKIE_HTTPONLY = True
# Absolute timeout: a session ends this long after sign-in, active or not (portal.middleware).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 10 * 60 * 60)
# Idle timeout: a session ends after this many seconds without a request.
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
X_FRAME_OPTIONS = "DENY"
# Every page: scripts, styles, images, fonts and connections from the portal itself only; no inline script
# or style, no plug-ins, no framing (a document view sets its own policy, portal.files), forms post home.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Logs -----------------------------------------------------------------------------------------
# One line per record on standard error: JSON objects (timestamp, level, logger, message, request id, tenant,
# pseudonymous actor) in production, readable text elsewhere (portal.logs). E-mail addresses and IBANs that
# reach a message are masked.
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "text"), "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "portal.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "portal.logs.JsonFormatter"},
        "text": {"()": "portal.logs.TextFormatter",
                 "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(tenant)s %(actor)s]: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"},
                # The portal writes its own line per request (portal.request) with the request id.
                "django.server": {"level": "WARNING"}},
}
