"""Platform settings, read from the environment with safe development defaults."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# "development" (default), "test" or "production". Production refuses insecure settings below.
ENVIRONMENT = env.str("DJANGO_ENV", default="development")
IS_PRODUCTION = ENVIRONMENT == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=not IS_PRODUCTION)
_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY)

if IS_PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production.")
    if (
        SECRET_KEY == _DEV_SECRET_KEY
        or SECRET_KEY.startswith("django-insecure")
        or len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
    ):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters "
            "when DJANGO_ENV=production."
        )

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[] if IS_PRODUCTION else [".localhost", "localhost", "127.0.0.1", "testserver"],
)
CSRF_TRUSTED_ORIGINS = env.list(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    default=[] if IS_PRODUCTION else ["http://*.localhost:8000", "http://localhost:8000"],
)

# --- Applications -------------------------------------------------------------------------
# Shared apps live in the public schema; tenant apps get their own tables in every tenant schema.
# contenttypes, auth and admin are in both lists so that permissions, guardian's object
# permissions and admin log entries in a tenant reference that tenant's own content types.
# "accounts" precedes "django_tenants" so its create_tenant command replaces the library's.
SHARED_APPS = [
    "tenants",
    "accounts",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "core.apps.PlatformAdminConfig",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "django_celery_results",
    "corsheaders",
    # Also a tenant app: messages sent from the public schema (sign-up) are recorded here.
    "notifications",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "core.apps.PlatformAdminConfig",
    "guardian",
    "rbac",
    "catalog",
    "orders",
    "uploads",
    "chat",
    "presence",
    "billing",
    "notifications",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# Self-service sign-up creates workspaces at <slug>.<TENANT_BASE_DOMAIN>.
TENANT_BASE_DOMAIN = env.str("TENANT_BASE_DOMAIN", default="localhost")
# New tenant schemas are cloned from a migrated template schema (tenants/template.py) instead of
# running every migration; the template is rebuilt automatically when a migration is missing.
TENANT_CREATION_FAKES_MIGRATIONS = env.bool("TENANT_CLONE_TEMPLATE", default=True)
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_DELETION_GRACE_DAYS = env.int("TENANT_DELETION_GRACE_DAYS", default=30)
# The public tenant answers on these hosts (platform admin, sign-up, health checks).
PUBLIC_DOMAIN = env.str("PUBLIC_DOMAIN", default="localhost")

MIDDLEWARE = [
    "tenants.middleware.TenantMainMiddleware",
    "tenants.cors.TenantCorsMiddleware",
    "core.middleware.JsonErrorPagesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

# --- Data stores ----------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/platform"),
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A psycopg connection pool per process (Django 5.1+, on by default; 0 turns it off) saves a
# PostgreSQL connection set-up per request and is safe under ASGI, where every request runs in a
# thread of its own: the connection goes back to the pool when the request ends. django-tenants
# forgets the search path whenever a connection is handed back, so the next request sets its own.
# (Persistent connections, DATABASE_CONN_MAX_AGE > 0, leak one connection per request thread
# under ASGI: config/asgi.py refuses to start with them.)
DATABASE_POOL_MAX = env.int("DATABASE_POOL_MAX", default=8)
if DATABASE_POOL_MAX:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX,
        "timeout": 10,
    }
# Threads per web process that run requests (core.asgi): each holds a pooled connection only
# while its request runs, so WEB_THREADS + CHAT_WRITER_THREADS should not exceed DATABASE_POOL_MAX.
WEB_THREADS = env.int("WEB_THREADS", default=4)
# Web processes keep their start-up heap out of the garbage collector's full passes (core.asgi):
# at start and again after this many requests, once the lazily loaded parts are in.
WEB_GC_FREEZE = env.bool("WEB_GC_FREEZE", default=True)
WEB_GC_FREEZE_AFTER = env.int("WEB_GC_FREEZE_AFTER", default=200)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# bench/http_baseline.py: serve bare views at /bench/* beside the platform's (never in production).
BENCH_BASELINE_VIEWS = env.bool("BENCH_BASELINE_VIEWS", default=False) and not IS_PRODUCTION
# SET search_path once per connection hand-out and schema, not before every statement.
TENANT_LIMIT_SET_CALLS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

# MongoDB holds a document per order (filled through the orders outbox) for the statistics and
# reports; one database per workspace, named MONGODB_DB_PREFIX + the schema name. PostgreSQL
# stays the source of truth: with MongoDB down, changes commit and wait in the outbox.
MONGODB_URL = env.str("MONGODB_URL", default="mongodb://127.0.0.1:27017")
MONGODB_DB_PREFIX = env.str("MONGODB_DB_PREFIX", default="platform_")
MONGODB_POOL_MAX = env.int("MONGODB_POOL_MAX", default=10)
# How long a call waits for a reachable server before giving up (the API then answers from
# PostgreSQL and the outbox keeps the change).
MONGODB_TIMEOUT_MS = env.int("MONGODB_TIMEOUT_MS", default=1500)
# How long one call may wait for its answer (an aggregation over many documents takes a while).
MONGODB_SOCKET_TIMEOUT_MS = env.int("MONGODB_SOCKET_TIMEOUT_MS", default=60_000)
# After a failed call, publishing right after commit is skipped for this long (the sweep retries).
MONGODB_RETRY_SECONDS = env.float("MONGODB_RETRY_SECONDS", default=10.0)

CACHES = {
    "default": {
        "BACKEND": "core.cache.SharedRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="platform"),
        # Keys are prefixed with the current schema so tenants never read each other's entries.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# Platform-wide authentication state (session revocation, lockouts): users and sessions are
# global, so these keys are not prefixed with the current schema.
CACHES["auth"] = {
    "BACKEND": "core.cache.SharedRedisCache",
    "LOCATION": REDIS_URL,
    "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="platform") + ":auth",
}

# One Redis publish per group message, decoded once per web process (core/channel_layer.py);
# "channels_redis.core.RedisChannelLayer" copies each group message into every member's queue.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": env.str(
            "CHANNEL_LAYER_BACKEND", default="core.channel_layer.PubSubChannelLayer"
        ),
        "CONFIG": {
            "hosts": [REDIS_URL],
            "prefix": env.str("CHANNEL_LAYER_PREFIX", default="platform:channels:"),
        },
    }
}

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    # Argon2id with OWASP's parameters; older argon2 hashes are upgraded at the next sign-in.
    "accounts.hashers.PlatformArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.LettersAndDigitsValidator"},
]
GUARDIAN_ANONYMOUS_USER_NAME = None

# JSON bodies and websocket frames nested deeper than this are refused (core.parsers).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TenantJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.SafeJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["core.filters.QueryFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.DefaultCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.openapi.PlatformAutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    # Proxies in front of the app whose X-Forwarded-For entries are trusted for the client IP
    # (throttling, sessions, security events). 0: only REMOTE_ADDR, so clients cannot spoof it.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    # Every API view not given its own limits: per signed-in user, or per client IP without one.
    # Counted in the platform-wide auth cache, so every workspace host shares one budget.
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttles.AnonRateThrottle",
        "accounts.throttles.UserRateThrottle",
    ],
    # An empty rate ("") turns that limit off.
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("THROTTLE_AUTH_RATE", default="20/min"),
        "auth_account": env.str("THROTTLE_AUTH_ACCOUNT_RATE", default="10/min"),
        "signup": env.str("THROTTLE_SIGNUP_RATE", default="10/hour"),
        "user": env.str("THROTTLE_USER_RATE", default="1000/min"),
        "anon": env.str("THROTTLE_ANON_RATE", default="200/min"),
    },
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- CORS (single-page apps on other origins) ----------------------------------------------
# Origins allowed on every workspace's API; each workspace adds its own
# (Tenant.cors_allowed_origins, tenants.cors). Clients authenticate with Bearer tokens, never
# cookies, so credentialed CORS stays off: a cross-origin page cannot ride a session cookie.
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS",
    default=[] if IS_PRODUCTION else ["http://localhost:5173", "http://127.0.0.1:5173"],
)
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-match",
    "x-requested-with",
)
CORS_EXPOSE_HEADERS = ("etag", "retry-after")
CORS_PREFLIGHT_MAX_AGE = 600

# --- Accounts (accounts app) -----------------------------------------------------------------
ACCOUNTS = {
    "EMAIL_VERIFICATION_HOURS": env.int("ACCOUNTS_EMAIL_VERIFICATION_HOURS", default=24),
    "PASSWORD_RESET_MINUTES": env.int("ACCOUNTS_PASSWORD_RESET_MINUTES", default=60),
    "LOCKOUT_ATTEMPTS": env.int("ACCOUNTS_LOCKOUT_ATTEMPTS", default=5),
    "LOCKOUT_MINUTES": env.int("ACCOUNTS_LOCKOUT_MINUTES", default=30),
    # A refresh token presented again within this many seconds of its rotation is refused
    # without revoking the session (two tabs refreshing at once); later reuse revokes it.
    "REFRESH_REUSE_GRACE_SECONDS": env.int("ACCOUNTS_REFRESH_REUSE_GRACE_SECONDS", default=10),
    "MFA_LOGIN_MINUTES": 5,
    "MFA_MAX_ATTEMPTS": 5,
    "RECOVERY_CODES": 10,
    "TOTP_ISSUER": env.str("ACCOUNTS_TOTP_ISSUER", default="Platform"),
    # Paths of emailed links: on the workspace SPA (Tenant.spa_base_url) if it has one, else
    # on its primary domain, where accounts.pages serves them.
    "VERIFY_EMAIL_PATH": env.str("ACCOUNTS_VERIFY_EMAIL_PATH", default="/verify-email"),
    "RESET_PASSWORD_PATH": env.str("ACCOUNTS_RESET_PASSWORD_PATH", default="/reset-password"),
    # Page of the public host that confirms a self-service sign-up (creates the workspace).
    "SIGNUP_CONFIRM_PATH": env.str("ACCOUNTS_SIGNUP_CONFIRM_PATH", default="/confirm-workspace"),
    # Accounts whose address is still unconfirmed after this many hours are deleted.
    "UNVERIFIED_RETENTION_HOURS": env.int("ACCOUNTS_UNVERIFIED_RETENTION_HOURS", default=72),
    "SESSION_RETENTION_DAYS": env.int("ACCOUNTS_SESSION_RETENTION_DAYS", default=30),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Platform API",
    "DESCRIPTION": "Multi-tenant platform REST API. Every path is served on a tenant host.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc are served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name get their own schema names (apps add theirs here).
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "catalog.models.Product.Status",
        "FileStatusEnum": "uploads.models.File.Status",
        "OrderStatusEnum": "orders.models.Order.Status",
        "OrderPaymentStatusEnum": "orders.models.Order.PaymentStatus",
        "SubscriptionStatusEnum": "billing.models.Subscription.Status",
        "PaymentStatusEnum": "billing.models.Payment.Status",
        "RefundStatusEnum": "billing.models.Refund.Status",
        "RefundReasonEnum": "billing.models.Refund.Reason",
        "InvoiceStatusEnum": "billing.models.Invoice.Status",
        "RoomMemberRoleEnum": "chat.models.RoomMember.Role",
    },
}

# --- Background jobs ------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# Unacknowledged messages (a worker died mid-task) are delivered again after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_CACHE_BACKEND = "default"
CELERY_BEAT_SCHEDULER = "config.beat:LeaderDatabaseScheduler"
# Priority queues: auth emails and webhooks first, reports and image work last.
CELERY_TASK_DEFAULT_QUEUE = "default"
PLATFORM_TASK_QUEUES = ["high", "default", "low"]
CELERY_TASK_ROUTES = {
    "accounts.*": {"queue": "high"},
    "billing.webhook*": {"queue": "high"},
    "notifications.send*": {"queue": "high"},
    "orders.report*": {"queue": "low"},
    "uploads.process*": {"queue": "low"},
    "*.report*": {"queue": "low"},
}
# Tasks are idempotent, so a message is acknowledged only after its task finished: a worker
# killed mid-task loses nothing; the message is delivered again to another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# Defaults for every task's retries (a task opts in with autoretry_for or self.retry()).
# Retries: each task that retries declares core.tasks.retry_policy (backoff, jitter, attempts).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TIMEZONE = "UTC"

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Platform <no-reply@localhost>")
# SMTP (django.core.mail.backends.smtp.EmailBackend) and the file backend
# (django.core.mail.backends.filebased.EmailBackend, one file per batch in EMAIL_FILE_PATH).
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=BASE_DIR / ".data" / "emails")
# Keep each sent message's rendered text and HTML on its record, shown in the notifications
# admin (`make run` turns it on). Off by default: bodies carry one-time links, which production
# does not keep once sent.
EMAIL_KEEP_BODIES = env.bool("EMAIL_KEEP_BODIES", default=False)
if IS_PRODUCTION and EMAIL_KEEP_BODIES:
    # Kept bodies hold one-time sign-in, verification and reset links: development only.
    raise ImproperlyConfigured("EMAIL_KEEP_BODIES must be off when DJANGO_ENV=production.")
# Tracking webhooks (notifications app) are authenticated with basic auth ("user:password" in
# ANYMAIL_WEBHOOK_SECRET) and, for Mailgun, the webhook signing key.
ANYMAIL = {
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="") or None,
    "MAILGUN_API_KEY": env.str("MAILGUN_API_KEY", default=""),
    "MAILGUN_SENDER_DOMAIN": env.str("MAILGUN_SENDER_DOMAIN", default="") or None,
    "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
}

# --- Links in emails (tenants.links) ----------------------------------------------------------
# Emailed links open on the workspace's SPA (Tenant.spa_base_url) or else on
# <LINK_SCHEME>://<its primary domain>[:LINK_PORT]; never on the request's Host header.
# `make run` sets LINK_PORT to its PORT.
LINK_SCHEME = env.str(
    "LINK_SCHEME",
    default=env.str("NOTIFICATIONS_LINK_SCHEME", default="https" if IS_PRODUCTION else "http"),
)
LINK_PORT = env.str("LINK_PORT", default=env.str("NOTIFICATIONS_LINK_PORT", default=""))

# --- Notifications (notifications app) --------------------------------------------------------
NOTIFICATIONS = {
    "UNSUBSCRIBE_MAX_AGE_DAYS": env.int("NOTIFICATIONS_UNSUBSCRIBE_MAX_AGE_DAYS", default=180),
    # A tenant's branding may only send from these domains (empty: any).
    "SENDER_DOMAINS": env.list("NOTIFICATIONS_SENDER_DOMAINS", default=[]),
    "MAX_ATTEMPTS": env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6),
}

# --- Static files and storage ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security -------------------------------------------------------------------------------
# X-Forwarded-Proto decides request.is_secure() and the scheme only behind proxies that set it
# (TRUSTED_PROXY_COUNT > 0, or DJANGO_TRUST_FORWARDED_PROTO): otherwise any client could send
# "https" and pass for a secure request.
TRUST_FORWARDED_PROTO = env.bool(
    "DJANGO_TRUST_FORWARDED_PROTO", default=REST_FRAMEWORK["NUM_PROXIES"] > 0
)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_FORWARDED_PROTO else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The server's access log already has one line per 4xx; Django's "Not Found: ..."
        # warnings would repeat each of them. Server errors (5xx) are still logged here.
        "django.request": {"level": "ERROR"},
    },
}

# --- Uploads (uploads app) ------------------------------------------------------------------
# Files go to S3 when UPLOADS_S3_BUCKET is set, to local disk (MEDIA_ROOT/uploads) otherwise.
# Any django-storages backend (GCS, Azure) can be put in STORAGES["uploads"] instead; presigned
# multipart uploads need S3 (or an S3-compatible service such as MinIO or R2).
UPLOADS_S3_BUCKET = env.str("UPLOADS_S3_BUCKET", default="")
if UPLOADS_S3_BUCKET:
    from boto3.s3.transfer import TransferConfig

    # Memory per upload is about concurrency x part size (8 MiB), whatever the file's size.
    _UPLOADS_S3_CONCURRENCY = env.int("UPLOADS_S3_CONCURRENCY", default=4)
    _UPLOADS_S3_TRANSFER = TransferConfig(
        multipart_chunksize=8 * 1024 * 1024, max_concurrency=_UPLOADS_S3_CONCURRENCY
    )
    _UPLOADS_S3_TRANSFER.max_in_memory_upload_chunks = _UPLOADS_S3_CONCURRENCY
    STORAGES["uploads"] = {
        "BACKEND": "uploads.storage.UploadsS3Storage",
        "OPTIONS": {
            "bucket_name": UPLOADS_S3_BUCKET,
            # Public files need a bucket policy granting reads on */public/*, a CDN, or this ACL.
            "public_acl": env.str("UPLOADS_S3_PUBLIC_ACL", default=""),
            "endpoint_url": env.str("UPLOADS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("UPLOADS_S3_REGION", default="") or None,
            "access_key": env.str("UPLOADS_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("UPLOADS_S3_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": None,
            "file_overwrite": True,  # keys are server-made UUIDs: skip the existence check
            "querystring_auth": True,
            "signature_version": "s3v4",
            "querystring_expire": env.int("UPLOADS_SIGNED_URL_SECONDS", default=300),
            "transfer_config": _UPLOADS_S3_TRANSFER,
        },
    }
else:
    STORAGES["uploads"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(str(MEDIA_ROOT)) / "uploads"), "allow_overwrite": True},
    }
# Public files are served from here when set (e.g. a CDN in front of the bucket).
UPLOADS_CDN_DOMAIN = env.str("UPLOADS_CDN_DOMAIN", default="")
UPLOADS_SIGNED_URL_SECONDS = env.int("UPLOADS_SIGNED_URL_SECONDS", default=300)
UPLOADS_MAX_FILE_SIZE = env.int("UPLOADS_MAX_FILE_SIZE", default=100 * 1024 * 1024)
UPLOADS_MAX_FILES_PER_REQUEST = env.int("UPLOADS_MAX_FILES_PER_REQUEST", default=10)
# Request bodies over these are refused (413) before they are read (uploads.asgi): the large
# limit only on the upload route (POST /api/v1/files/), the small one on every other route.
REQUEST_MAX_BODY_SIZE = env.int("REQUEST_MAX_BODY_SIZE", default=1024 * 1024)
UPLOADS_MAX_REQUEST_SIZE = env.int(
    "UPLOADS_MAX_REQUEST_SIZE",
    default=UPLOADS_MAX_FILE_SIZE * UPLOADS_MAX_FILES_PER_REQUEST + 1024 * 1024,
)
UPLOADS_MAX_IMAGE_PIXELS = env.int("UPLOADS_MAX_IMAGE_PIXELS", default=40_000_000)
UPLOADS_MAX_IMAGE_SIDE = env.int("UPLOADS_MAX_IMAGE_SIDE", default=10_000)
UPLOADS_ARCHIVE_MAX_TOTAL = env.int("UPLOADS_ARCHIVE_MAX_TOTAL", default=1024 * 1024 * 1024)
UPLOADS_ARCHIVE_MAX_RATIO = env.int("UPLOADS_ARCHIVE_MAX_RATIO", default=100)
UPLOADS_ARCHIVE_MAX_ENTRIES = env.int("UPLOADS_ARCHIVE_MAX_ENTRIES", default=10_000)
UPLOADS_MULTIPART_MAX_SIZE = env.int("UPLOADS_MULTIPART_MAX_SIZE", default=5 * 1024**3)
UPLOADS_MULTIPART_PART_SIZE = env.int("UPLOADS_MULTIPART_PART_SIZE", default=8 * 1024 * 1024)
UPLOADS_MULTIPART_ABANDON_HOURS = env.int("UPLOADS_MULTIPART_ABANDON_HOURS", default=24)
# --- Billing (billing app) ------------------------------------------------------------------
# Secrets come only from the environment; they are never logged or returned by the API.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Empty: the stripe library's own (https://api.stripe.com). Tests point it at a local stand-in.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Signed webhook payloads older than this many seconds are refused (replays).
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# The API version every request names (and whose object shapes the code reads); set the same
# version on the Stripe webhook endpoint so events arrive in these shapes too.
STRIPE_API_VERSION = env.str("STRIPE_API_VERSION", default="2026-10-28.endive")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# Dunning (written policy, see README "Billing"): after a subscription invoice's first failed
# payment the platform retries it this many days later (each), emails the owner on every failure,
# and once the grace period has passed applies BILLING_DUNNING_ACTION ("downgrade": the free
# plan's limits apply; "suspend": the workspace is suspended). Paying the invoice undoes it.
BILLING_DUNNING_RETRY_DAYS = env.list("BILLING_DUNNING_RETRY_DAYS", cast=int, default=[1, 3, 5])
BILLING_DUNNING_GRACE_DAYS = env.int("BILLING_DUNNING_GRACE_DAYS", default=7)
BILLING_DUNNING_ACTION = env.str("BILLING_DUNNING_ACTION", default="downgrade")
if BILLING_DUNNING_ACTION not in ("downgrade", "suspend"):
    raise ImproperlyConfigured("BILLING_DUNNING_ACTION must be 'downgrade' or 'suspend'.")
BILLING_CURRENCY = env.str("BILLING_CURRENCY", default="usd")
BILLING_TRIAL_DAYS = env.int("BILLING_TRIAL_DAYS", default=14)
# Workspace plans, one table (read by tenants.plans): the Stripe price each paid plan is billed
# at and its limits (None: unlimited). storage_bytes counts originals and their variants.
PLANS = {
    "free": {
        "price": "",
        "limits": {
            "members": env.int("BILLING_FREE_MEMBERS", default=10),
            "storage_bytes": env.int("UPLOADS_QUOTA_FREE", default=1024**3),
        },
    },
    "pro": {
        "price": env.str("STRIPE_PRICE_PRO", default=""),
        "limits": {
            "members": env.int("BILLING_PRO_MEMBERS", default=100),
            "storage_bytes": env.int("UPLOADS_QUOTA_PRO", default=50 * 1024**3),
        },
    },
    "enterprise": {
        "price": env.str("STRIPE_PRICE_ENTERPRISE", default=""),
        "limits": {
            "members": None,
            "storage_bytes": env.int("UPLOADS_QUOTA_ENTERPRISE", default=500 * 1024**3),
        },
    },
}

# --- Catalog --------------------------------------------------------------------------------
# Rendered product-list pages are kept this long per catalog version (catalog.list_cache; the
# database bumps the version when any catalog write commits, so nothing goes stale). 0: off.
CATALOG_LIST_CACHE_SECONDS = env.int("CATALOG_LIST_CACHE_SECONDS", default=300)

# --- Orders ---------------------------------------------------------------------------------
# Unpaid pending orders are cancelled (and their stock released) after this many minutes.
ORDERS_PENDING_TTL_MINUTES = env.int("ORDERS_PENDING_TTL_MINUTES", default=60)
ORDERS_CURRENCY = env.str("ORDERS_CURRENCY", default="USD")
# Tax as a fraction of the discounted subtotal, e.g. "0.20".
ORDERS_TAX_RATE = env.str("ORDERS_TAX_RATE", default="0")
# Flat shipping per order, waived from ORDERS_FREE_SHIPPING_FROM (empty: never waived).
ORDERS_SHIPPING_FEE = env.str("ORDERS_SHIPPING_FEE", default="0")
ORDERS_FREE_SHIPPING_FROM = env.str("ORDERS_FREE_SHIPPING_FROM", default="")
# Discount codes, "CODE=10%" (percent of the subtotal) or "CODE=5.00" (amount), comma separated.
ORDERS_DISCOUNT_CODES = env.str("ORDERS_DISCOUNT_CODES", default="")
# Idempotency keys of checkout are kept this long.
ORDERS_IDEMPOTENCY_KEY_HOURS = env.int("ORDERS_IDEMPOTENCY_KEY_HOURS", default=24)
# Outbox rows the relay publishes to MongoDB per batch (right after commit and in the sweep).
ORDERS_OUTBOX_BATCH = env.int("ORDERS_OUTBOX_BATCH", default=500)
# Reads served from the order documents in MongoDB (stats, sales reports, the staff list); off:
# from PostgreSQL. Either way, a MongoDB that does not answer falls back to PostgreSQL.
ORDERS_READ_DOCUMENTS = env.bool("ORDERS_READ_DOCUMENTS", default=True)
# --- Chat and presence (websockets) --------------------------------------------------------
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=4000)
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", default=32 * 1024)
# Token bucket per connection: events per second, and the burst allowed above it.
CHAT_RATE_PER_SECOND = env.float("CHAT_RATE_PER_SECOND", default=10.0)
CHAT_RATE_BURST = env.int("CHAT_RATE_BURST", default=30)
CHAT_AUTH_TIMEOUT_SECONDS = env.float("CHAT_AUTH_TIMEOUT_SECONDS", default=10.0)
CHAT_TYPING_SECONDS = env.float("CHAT_TYPING_SECONDS", default=5.0)
CHAT_CATCHUP_LIMIT = env.int("CHAT_CATCHUP_LIMIT", default=200)
# Threads per web process that write the group commits of message.send, each keeping one
# database connection of the pool (DATABASE_POOL_MAX) while the process runs.
CHAT_WRITER_THREADS = env.int("CHAT_WRITER_THREADS", default=2)
# A batch that starts right after the previous one answered waits up to this long for as many
# sends as that one answered (senders waiting for their ack send again): fuller batches, one
# commit for all of them. 0 closes each batch at once.
CHAT_BATCH_LINGER_MS = env.float("CHAT_BATCH_LINGER_MS", default=6.0)
PRESENCE_HEARTBEAT_SECONDS = env.float("PRESENCE_HEARTBEAT_SECONDS", default=25.0)
# Offline after this long without a heartbeat, even if no disconnect was ever delivered.
PRESENCE_TIMEOUT_SECONDS = env.float("PRESENCE_TIMEOUT_SECONDS", default=60.0)
PRESENCE_FLUSH_SECONDS = env.int("PRESENCE_FLUSH_SECONDS", default=60)
# Messages queued per connection before its fan-out is dropped (a client slower than its rooms);
# messages are stored first, so the client catches up after a reconnect.
CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = env.int("CHANNEL_LAYER_CAPACITY", default=2000)
