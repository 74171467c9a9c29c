"""Settings, all read from the environment (django-environ); `.env.example` lists every variable.

Production differs from development only by environment variables: with DEBUG off, SECRET_KEY is
required and the security settings (HTTPS, HSTS, secure cookies) are on.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105
# Rotating SECRET_KEY: put the old key here for a while (sessions, password-reset links and
# signed tokens made with it stay valid), then remove it.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # The shared kernel.
    "bankservice.core",
    "bankservice.branches",
    "bankservice.customers",
    "bankservice.events",
    "bankservice.sla",
    "bankservice.notify",
    # The stages of a customer's journey.
    "reception",
    "consultation",
    "transactions",
    "complaints",
    "care",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "bankservice.core.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "bankservice.core.middleware.SessionLifetimeMiddleware",
    "bankservice.core.security_middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "bankservice.core.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bankservice.urls"
WSGI_APPLICATION = "bankservice.wsgi.application"

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
                "bankservice.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database: SQLite file by default, PostgreSQL (psycopg 3 with Django's pool) from DATABASE_URL.
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default="") or str(VAR_DIR / "bankservice.sqlite3"),
        }
    }
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db.setdefault("OPTIONS", {})
    if env.bool("DATABASE_POOL", default=True):
        # Django's pool needs CONN_MAX_AGE = 0 (it keeps the connections itself).
        _db["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=1),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            "timeout": 10,
        }
        _db["CONN_MAX_AGE"] = 0
    else:
        _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside one writer, IMMEDIATE
    # takes the write lock at BEGIN so two writers queue instead of failing mid-transaction.
    _db.setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The dashboards (KPI tables, exports, the API's /kpis) may read from a PostgreSQL replica: set
# REPLICA_DATABASE_URL. In tests the replica mirrors the default database.
REPLICA_DATABASE_URL = env.str("REPLICA_DATABASE_URL", default="")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = {
        **env.db_url_config(REPLICA_DATABASE_URL),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
DASHBOARDS_DATABASE = "replica" if REPLICA_DATABASE_URL else "default"

# --- Cache: Redis when REDIS_URL is set, files in var/cache otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "bankservice.core.cache.KeptClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="bankservice"),
            # A Redis outage must cost a request little: short timeouts, then the backend skips
            # Redis for a few seconds (reads miss, writes do nothing; bankservice/core/cache.py).
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT", default=0.25),
                "socket_timeout": env.float("CACHE_SOCKET_TIMEOUT", default=0.5),
                "outage_retry_seconds": env.float("CACHE_OUTAGE_RETRY_SECONDS", default=5),
            },
        }
    }
else:
    # Files, not local memory: web workers, the Celery worker and beat are separate processes and
    # must see the same values (display-board versions, login throttling).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Authentication, sessions, login throttling.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Idle timeout: a session expires SESSION_IDLE_MINUTES after it was last saved, and
# SessionLifetimeMiddleware saves it again at most every SESSION_REFRESH_SECONDS of activity
# (not on every request: a write per request costs a busy counter more than its own work), so it
# ends between SESSION_IDLE_MINUTES minus that refresh interval and SESSION_IDLE_MINUTES after
# the last request. Sessions are read from the cache, the database keeps them (cached_db).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_REFRESH_SECONDS = 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Absolute lifetime: a session ends this long after sign-in however active it is.
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=env.int("SESSION_ABSOLUTE_HOURS", default=10))
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Languages and time.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files, served by WhiteNoise (nothing from a CDN).
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (documents, attachments) go through Django's storage API: local files under
# MEDIA_ROOT by default; S3-compatible object storage (AWS, MinIO, Ceph) with
# STORAGE_BACKEND=storages.backends.s3.S3Storage and the `[s3]` install extra, which reads the
# AWS_* settings below (credentials from the usual AWS environment variables).
STORAGES = {
    "default": {
        "BACKEND": env.str("STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = env.str("MEDIA_ROOT", default="") or str(VAR_DIR / "media")
MEDIA_URL = "media/"
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
# Private by default: files are served through our views, which check who may see them.
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True

# --- Security. With DEBUG off every production protection is on.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# A form sent with an expired or missing CSRF token: public pages under these prefixes (each
# with a GET at the same address) send the visitor back to try again; others show a 403 page.
CSRF_FAILURE_VIEW = "bankservice.core.views.csrf_failure"
CSRF_RETRY_PATH_PREFIXES = ["/kiosk/", "/checkin/", "/book/", "/a/", "/s/", "/o/"]
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Load balancers and container health checks probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bankservice.core.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["bankservice.core.api_permissions.ScopedModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "bankservice.core.api_pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "bankservice.core.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["bankservice.core.api_renderers.ConditionalJSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [
        "bankservice.core.api_throttling.ApiClientRateThrottle",
        "bankservice.core.api_throttling.StaffRateThrottle",
        "bankservice.core.api_throttling.AnonymousRateThrottle",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# API rate limits ("<n>/<s|min|h|day>", empty: off), counted in the shared cache per API client,
# per member of staff, and per address without credentials (docs/api.md).
API_RATE_CLIENT = env.str("API_RATE_CLIENT", default="1200/min")
API_RATE_USER = env.str("API_RATE_USER", default="600/min")
API_RATE_ANON = env.str("API_RATE_ANON", default="60/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Bank branch service desk API",
    "DESCRIPTION": (
        "REST API for core banking and other channels. Authenticate with an API key "
        "(`Authorization: Api-Key <key>`) or a staff session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["bankservice.core.api_permissions.IsAuthenticatedPrincipal"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents its error responses (400/401/403/404/429) with their bodies.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "bankservice.core.api_schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        # Consultations and appointments both have a "channel", with different choices.
        "ConsultationChannelEnum": "consultation.models.Channel",
        # Tickets, appointments and service requests all have a "status".
        "ServiceRequestStatusEnum": "transactions.models.RequestStatus",
        # Complaints: statuses, channels, letters, extensions and actions of their own.
        "ComplaintStatusEnum": "complaints.models.ComplaintStatus",
        "ComplaintChannelEnum": "complaints.models.Channel",
        "ComplaintDecisionOutcomeEnum": "complaints.models.REASONED_STATUSES",
        "ComplaintExtensionStatusEnum": "complaints.models.ExtensionStatus",
        "CorrectiveActionStatusEnum": "complaints.models.ActionStatus",
        "LetterKindEnum": "complaints.models.LetterKind",
        "ArticleKindEnum": "consultation.models.ArticleKind",
        "ConsultationOutcomeEnum": "consultation.models.Outcome",
        # Callbacks: statuses, attempt channels and results of their own.
        "CallbackStatusEnum": "care.models.CallbackStatus",
        "CampaignStatusEnum": "care.models.CampaignStatus",
        "CampaignChannelEnum": "care.models.CampaignChannel",
        "CampaignKindEnum": "care.models.CampaignKind",
        "SegmentEnum": "bankservice.customers.models.Segment",
        "CallbackAttemptChannelEnum": "care.models.AttemptChannel",
        "CallbackAttemptResultEnum": "care.models.AttemptResult",
    },
}

# --- Celery: JSON only, bounded tasks, schedules in one place (django-celery-beat's DB scheduler).
CELERY_BROKER_URL = (
    env.str("CELERY_BROKER_URL", default="")
    or REDIS_URL
    or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that queues a task must not hang on an unreachable broker: the sweeps catch up.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
# Redis re-delivers an unacknowledged task after this long (the SQLAlchemy transport has no
# such option: its options go to create_engine).
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": 3600} if CELERY_BROKER_URL.startswith("redis") else {}
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Tickets still open when their branch's day has ended are closed as unserved (and counted).
    # Hourly, so every time zone's evening is caught within the hour.
    "reception-close-day": {"task": "reception.close_unserved", "schedule": crontab(minute=5)},
    # Appointments whose check-in window has passed become no-shows (a late arrival after that
    # takes a walk-in ticket), and reminders go out RECEPTION_REMINDER_HOURS ahead. Every 5
    # minutes is close enough for both; reruns and overlaps are safe (SKIP LOCKED, once each).
    "reception-appointment-no-shows": {
        "task": "reception.appointment_no_shows",
        "schedule": timedelta(minutes=5),
        "options": {"expire_seconds": 240},
    },
    "reception-appointment-reminders": {
        "task": "reception.appointment_reminders",
        "schedule": timedelta(minutes=5),
        "options": {"expire_seconds": 240},
    },
    # Consultations closed before the stage that takes their outcome was installed (or while
    # a close's own hand-off could not run) are handed on once it is. Rare; SKIP LOCKED batches,
    # a handed-on consultation is no longer pending, so overlapping runs are safe.
    "consultation-handoffs-retry": {
        "task": "consultation.handoffs_retry",
        "schedule": timedelta(minutes=10),
        "options": {"expire_seconds": 540},
    },
    # Care: callbacks for the events follow-up rules react to. Every minute, so a callback due
    # within hours is scheduled in time; the run resumes at its cursor, and two runs at once are
    # safe (the second skips the locked cursor). A run queued while no worker was up expires.
    "care-generate-callbacks": {
        "task": "care.generate_callbacks",
        "schedule": timedelta(minutes=1),
        "options": {"expire_seconds": 50},
    },
    # Care: survey links past their expiry become expired (answering checks the time itself;
    # this keeps statuses and response rates honest). Hourly; batches, SKIP LOCKED, rerun-safe.
    "care-expire-surveys": {
        "task": "care.expire_surveys",
        "schedule": crontab(minute=23),
        "options": {"expire_seconds": 3000},
    },
    # Care: scheduled campaigns start when due and contact their targets in batches (SKIP
    # LOCKED: two runs at once contact each target once). Every minute; a missed run expires.
    "care-run-campaigns": {
        "task": "care.run_campaigns",
        "schedule": timedelta(minutes=1),
        "options": {"expire_seconds": 50},
    },
    # Dashboards: today's KPI rollups every 10 minutes (the live monitor reads raw data; the
    # other pages say how fresh the rollup is), and the last days again every night for what
    # is known only later. Each day is rebuilt whole, so overlaps and reruns are safe.
    "dashboards-rollup-today": {
        "task": "dashboards.rollup_today",
        "schedule": timedelta(minutes=10),
        "options": {"expire_seconds": 540},
    },
    "dashboards-rollup-recent": {
        "task": "dashboards.rollup_recent",
        "schedule": crontab(hour=1, minute=37),
        "options": {"expire_seconds": 3000},
    },
    # Dashboards: the live monitor's alert rules, checked every minute against today's raw
    # figures; a firing e-mails the branch managers once (dashboards/alerts.py).
    "dashboards-check-alerts": {
        "task": "dashboards.check_alerts",
        "schedule": timedelta(minutes=1),
        "options": {"expire_seconds": 50},
    },
    # Proves beat and a worker are alive end to end; /healthz reports the age of the last beat.
    "heartbeat": {"task": "core.heartbeat", "schedule": timedelta(seconds=30)},
    # Expired sessions pile up in the database otherwise.
    "clear-sessions": {"task": "core.clear_sessions", "schedule": crontab(hour=3, minute=17)},
    # Idempotency keys answer retries for 24 hours; expired ones are only dead rows. Hourly keeps
    # each run's batched delete small; an expired key found before then is simply reused.
    "purge-idempotency-keys": {
        "task": "core.purge_idempotency_keys",
        "schedule": crontab(minute=41),
        "options": {"expire_seconds": 3000},
    },
    # Webhooks: relays new events to subscribers. Every 10 s keeps receivers near real time; a
    # run with nothing to do costs a few indexed queries per subscription. `expires` drops runs
    # that waited in the broker while no worker was up (the next run catches up anyway).
    "relay-webhooks": {
        "task": "events.relay_webhooks",
        "schedule": timedelta(seconds=10),
        # expire_seconds, not expires: django-celery-beat's DatabaseScheduler drops the latter.
        "options": {"expire_seconds": 10},
    },
    # Deadlines fall due all day: a sweep every 30 s breaches (and warns) within half a minute
    # of due_at. Overlapping runs are safe (SKIP LOCKED); a run queued while no worker was up
    # expires, and the next run catches up with everything that fell due meanwhile.
    "sla-sweep": {
        "task": "sla.sweep",
        "schedule": timedelta(seconds=env.int("SLA_SWEEP_SECONDS", default=30)),
        "options": {"expire_seconds": 25},
    },
    # Notifications are sent from the database, not from queued messages alone: this delivers
    # those whose task was lost (broker down at commit), whose quiet hours or retry backoff
    # ended, and flags rows a dead worker left in "sending" for a person. Expires so that sweeps
    # do not pile up in the queue while no worker runs.
    "notify-sweep": {
        "task": "notify.sweep",
        "schedule": timedelta(seconds=60),
        "options": {"expire_seconds": 55},
    },
    # Knowledge articles past their review date are flagged to their owners, once per review
    # date: dates change once a day, so a daily run early in the morning is enough.
    "kb-review-due": {
        "task": "consultation.kb_review_due",
        "schedule": crontab(hour=6, minute=10),
        "options": {"expire_seconds": 3600},
    },
    # Approved service requests are handed to core banking in the approval's transaction; one
    # whose hand-over failed (logged) stays approved and is sent by this sweep. Rare, and a few
    # minutes' delay is acceptable; SKIP LOCKED, and a sent request is no longer approved, so
    # overlapping runs send nothing twice.
    "transactions-send-approved": {
        "task": "transactions.send_approved",
        "schedule": timedelta(minutes=5),
        "options": {"expire_seconds": 240},
    },
}

# --- E-mail and SMS gateway (used by notifications).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="service-desk@bank.example")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_USERNAME = env.str("SMS_GATEWAY_USERNAME", default="")
SMS_GATEWAY_PASSWORD = env.str("SMS_GATEWAY_PASSWORD", default="")
SMS_SENDER_ID = env.str("SMS_SENDER_ID", default="BANK")

# --- Webhooks (bankservice.events).
# Attempts per delivery before it is dead-lettered (then only a manual re-send sends it).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)
# Retry n waits between half and all of BASE * 2**(n-1) seconds, at most CAP: with the defaults
# 30 s, 1 min, 2 min ... 1 h, so a receiver may be down 2.5 to 5 hours before a dead letter.
WEBHOOK_BACKOFF_BASE_SECONDS = env.int("WEBHOOK_BACKOFF_BASE_SECONDS", default=30)
WEBHOOK_BACKOFF_CAP_SECONDS = env.int("WEBHOOK_BACKOFF_CAP_SECONDS", default=3600)
# Per network step (connect, send, each read); keep it short: one subscription's sends are serial.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Events scanned and deliveries sent per subscription per relay batch.
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=100)
# How long the relay waits for a missing event id (a transaction still open) before it takes it
# as rolled back; longer than any transaction that records events.
WEBHOOK_GAP_GRACE_SECONDS = env.int("WEBHOOK_GAP_GRACE_SECONDS", default=120)

# --- Deadlines (bankservice.sla).
# Due deadlines taken per transaction by the sweep (their row locks last one batch).
SLA_SWEEP_BATCH_SIZE = env.int("SLA_SWEEP_BATCH_SIZE", default=500)
# Batches per sweep run at most, so one run ends well inside its time limit; the rest waits 30 s.
SLA_SWEEP_MAX_BATCHES = env.int("SLA_SWEEP_MAX_BATCHES", default=20)
# A failing breach handler is retried after 30 s, doubling each time up to this many seconds.
SLA_HANDLER_RETRY_MAX_SECONDS = env.int("SLA_HANDLER_RETRY_MAX_SECONDS", default=3600)
# Calendar (BusinessCalendar code) for deadlines without a branch; none found: Mon–Fri only.
SLA_DEFAULT_CALENDAR = env.str("SLA_DEFAULT_CALENDAR", default="cn")

# --- Complaints.
# A complaint from the same customer about the same product within this many days of an earlier
# one is flagged as a repeat of it.
COMPLAINTS_REPEAT_DAYS = env.int("COMPLAINTS_REPEAT_DAYS", default=90)
# A complaint escalated to the branch manager on a breach goes on to the region if it is still
# not decided this many business hours (on the branch's calendar) later.
COMPLAINTS_REGION_ESCALATION_HOURS = env.int("COMPLAINTS_REGION_ESCALATION_HOURS", default=8)
# Files given with a complaint (by staff or with the public form): size and sniffed types.
COMPLAINTS_ATTACHMENT_MAX_BYTES = env.int("COMPLAINTS_ATTACHMENT_MAX_BYTES", default=10 * 1024**2)
COMPLAINTS_ATTACHMENT_TYPES = ["application/pdf", "image/png", "image/jpeg", "image/webp"]
# At most this many files with one public complaint.
COMPLAINTS_PUBLIC_MAX_FILES = env.int("COMPLAINTS_PUBLIC_MAX_FILES", default=5)

# --- Customer care.
# At most this many callbacks per customer within this many days, across all rules.
CARE_CONTACT_CAP = env.int("CARE_CONTACT_CAP", default=3)
CARE_CONTACT_CAP_DAYS = env.int("CARE_CONTACT_CAP_DAYS", default=30)
# After no answer (or busy) the callback comes back this many hours later, up to this many tries;
# then it is closed as unreachable.
CARE_RETRY_HOURS = env.int("CARE_RETRY_HOURS", default=4)
CARE_MAX_ATTEMPTS = env.int("CARE_MAX_ATTEMPTS", default=3)
# Events read per generator batch, and how long a missing event id is waited for (an open
# transaction may still commit it) before it is taken as rolled back.
CARE_EVENT_BATCH = env.int("CARE_EVENT_BATCH", default=1000)
CARE_EVENT_GAP_GRACE_SECONDS = env.int("CARE_EVENT_GAP_GRACE_SECONDS", default=60)
# Surveys: a customer is surveyed at most once in this many days (across every survey rule).
CARE_SURVEY_MIN_DAYS = env.int("CARE_SURVEY_MIN_DAYS", default=30)
# Campaigns: targets contacted per batch of the campaign runner (one transaction each).
CARE_CAMPAIGN_BATCH = env.int("CARE_CAMPAIGN_BATCH", default=200)

# --- Notifications (bankservice.notify).
# Which implementation backs each kind of message: "gateway" (the HTTP SMS gateway above),
# "email" (Django's mail API, so EMAIL_BACKEND decides: SMTP in production, the console in
# development), "console" (log only), "file" (JSON lines in NOTIFY_FILE_PATH), or a dotted path
# to a bankservice.notify.channels.Channel subclass. SMS go to the console until a gateway is set.
NOTIFY_SMS_CHANNEL = env.str("NOTIFY_SMS_CHANNEL", default="") or (
    "gateway" if SMS_GATEWAY_URL else "console"
)
NOTIFY_EMAIL_CHANNEL = env.str("NOTIFY_EMAIL_CHANNEL", default="") or "email"
NOTIFY_FILE_PATH = env.str("NOTIFY_FILE_PATH", default="") or str(VAR_DIR / "notifications.jsonl")
# The JSON body POSTed to SMS_GATEWAY_URL. Placeholders in its strings: {to} (E.164), {to_digits}
# (without "+"), {text}, {sender}, {reference} (our id, for the gateway to drop repeats),
# {language}, {username}, {password}. Basic auth is sent when SMS_GATEWAY_USERNAME is set.
SMS_GATEWAY_PAYLOAD = env.str("SMS_GATEWAY_PAYLOAD", default="") or (
    '{"to": "{to}", "text": "{text}", "sender": "{sender}", "reference": "{reference}"}'
)
# Where the gateway's message id sits in its JSON answer (dotted path, e.g. "data.0.id").
SMS_GATEWAY_PROVIDER_ID_FIELD = env.str("SMS_GATEWAY_PROVIDER_ID_FIELD", default="message_id")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10.0)
# The SMS gateway signs its delivery receipts (POST /notify/sms/receipts) with this secret:
# HMAC-SHA256 of the raw body (docs/notifications.md). Empty refuses every receipt.
SMS_RECEIPT_SECRET = env.str("SMS_RECEIPT_SECRET", default="")
NOTIFY_EMAIL_TIMEOUT = env.float("NOTIFY_EMAIL_TIMEOUT", default=10.0)
# Temporary failures are retried after base·2^(n-1) seconds (with jitter, capped) up to
# NOTIFY_MAX_ATTEMPTS tries in all; then the notification is failed.
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)
NOTIFY_RETRY_BASE_SECONDS = env.int("NOTIFY_RETRY_BASE_SECONDS", default=30)
NOTIFY_RETRY_MAX_SECONDS = env.int("NOTIFY_RETRY_MAX_SECONDS", default=3600)
# No messages in these hours (local time of the branch; a branch may set its own in the admin);
# they wait until the end. "off" = no quiet hours.
NOTIFY_QUIET_HOURS = env.str("NOTIFY_QUIET_HOURS", default="") or "21:00-08:00"
# A row claimed this long ago without a result is flagged "outcome unknown" (never resent
# automatically). Must exceed the longest task time limit (notify.sweep: 270 s).
NOTIFY_SENDING_TIMEOUT_SECONDS = env.int("NOTIFY_SENDING_TIMEOUT_SECONDS", default=900)
NOTIFY_SWEEP_BATCH_SIZE = env.int("NOTIFY_SWEEP_BATCH_SIZE", default=10)
NOTIFY_SWEEP_BUDGET_SECONDS = env.int("NOTIFY_SWEEP_BUDGET_SECONDS", default=45)

# --- Reception (queue tickets).
# The kiosk and greeter issue tickets from this many minutes before opening.
RECEPTION_ISSUE_EARLY_MINUTES = env.int("RECEPTION_ISSUE_EARLY_MINUTES", default=30)
# Recalls of a called ticket before it can only be marked a no-show.
RECEPTION_MAX_RECALLS = env.int("RECEPTION_MAX_RECALLS", default=2)
# call-next retries when another counter claimed its candidate first (SQLite only; PostgreSQL
# skips locked candidates).
RECEPTION_CALL_ATTEMPTS = 5
# Host for the QR codes kiosks print (a phone must reach it); empty = the host the kiosk used.
# The "you're next" SMS links to the status page only when this is set (a worker has no host).
RECEPTION_PUBLIC_BASE_URL = env.str("RECEPTION_PUBLIC_BASE_URL", default="")
# The "you're next" SMS goes out when this many people or fewer are ahead (0: never).
RECEPTION_NEXT_SMS_AHEAD = env.int("RECEPTION_NEXT_SMS_AHEAD", default=2)
# Appointments: check-in from this many minutes before the start until this many after it
# (later: a walk-in ticket without the appointment weight); bookings open this many days ahead
# and close this many minutes before the slot; the reminder goes this many hours before.
RECEPTION_CHECKIN_EARLY_MINUTES = env.int("RECEPTION_CHECKIN_EARLY_MINUTES", default=30)
RECEPTION_CHECKIN_LATE_MINUTES = env.int("RECEPTION_CHECKIN_LATE_MINUTES", default=15)
RECEPTION_BOOKING_DAYS = env.int("RECEPTION_BOOKING_DAYS", default=30)
RECEPTION_BOOKING_NOTICE_MINUTES = env.int("RECEPTION_BOOKING_NOTICE_MINUTES", default=60)
RECEPTION_REMINDER_HOURS = env.int("RECEPTION_REMINDER_HOURS", default=24)

# --- Knowledge base. Attachments: at most this size, of these types (read from the bytes, see
# bankservice/core/uploads.py). A search whose best score is below KB_GOOD_ANSWER_SCORE counts as
# "no good answer" on the unanswered-questions page.
KB_ATTACHMENT_MAX_BYTES = env.int("KB_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
KB_ATTACHMENT_TYPES = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]
KB_GOOD_ANSWER_SCORE = env.float("KB_GOOD_ANSWER_SCORE", default=0.3)

# --- Transactions. Documents of service requests: at most this size, of these types (read from
# the bytes, see bankservice/core/uploads.py); images and PDF are previewed in the browser.
TRANSACTIONS_DOCUMENT_MAX_BYTES = env.int(
    "TRANSACTIONS_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024
)
TRANSACTIONS_DOCUMENT_TYPES = ["application/pdf", "image/png", "image/jpeg", "image/webp"]

# --- Assistant: below this probability of its best intent it says it is unsure instead of
# guessing.
ASSISTANT_MIN_CONFIDENCE = env.float("ASSISTANT_MIN_CONFIDENCE", default=0.4)
# Suggestions per minute for one person or API client on the API (a suggestion runs the model
# and a search); empty for no limit.
ASSISTANT_API_RATE = env.str("ASSISTANT_API_RATE", default="120/min") or None

# --- Logging: one line per record on stderr; the audit logger is never silenced.
# Personal data (national IDs, phones, e-mail, card numbers) is masked on every handler
# (bankservice/core/logging.py). Django's own loggers write through the same handlers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_personal_data": {"()": "bankservice.core.logging.PersonalDataFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_personal_data"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "mask_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
        # httpx logs every webhook and SMS request at INFO.
        "axes": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# --- Product settings.
# The demo data loader refuses to run when this is off (a production database).
DEMO_DATA_ALLOWED = env.bool("DEMO_DATA_ALLOWED", default=DEBUG)
# Messages (e.g. a new webhook secret, shown once) live in the session, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
