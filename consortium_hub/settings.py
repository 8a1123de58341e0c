"""Settings for Consortium Hub, all read from the environment (see docs/configuration in README).

Two modes:
- embedded (default): SQLite and the job queue live in CH_DATA_DIR, the secret key is generated
  once and kept there, so a fresh checkout runs with no configuration at all;
- production (CH_PRODUCTION=true): SECRET_KEY and ALLOWED_HOSTS are required and the secure
  cookie/HSTS settings are on, so `manage.py check --deploy` is clean.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from consortium_hub.env import env_bool, env_choice, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent
PRODUCTION = env_bool("CH_PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when CH_PRODUCTION is true.")

DATA_DIR = Path(env_str("CH_DATA_DIR", str(BASE_DIR.parent / "var")) or "var").resolve()


def _embedded_secret_key() -> str:
    # Generated once and kept beside the embedded database so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY", required=True)
    if len(SECRET_KEY or "") < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required in production.")
else:
    SECRET_KEY = env_str("SECRET_KEY") or _embedded_secret_key()
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])



def _embedded_field_key() -> str:
    # Like the secret key: generated once beside the embedded database, never committed.
    from cryptography.fernet import Fernet

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "field_encryption_key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


# Keys that encrypt ORCID tokens and client secrets at rest (core/crypto.py). The first encrypts;
# all decrypt, so a new key goes first and the old one stays until every value is re-encrypted.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is required in production.")
    FIELD_ENCRYPTION_KEYS = [_embedded_field_key()]

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huey.contrib.djhuey",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "consortium_hub.core",
    "consortium_hub.accounts",
    "consortium_hub.audit",
    "consortium_hub.jobs",
    "consortium_hub.directory",
    "consortium_hub.calendars",
    "consortium_hub.onboarding",
    "consortium_hub.agreements",
    "consortium_hub.billing",
    "consortium_hub.support",
    "consortium_hub.communiques",
    "consortium_hub.registry",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "consortium_hub.audit.middleware.AuditContextMiddleware",
    "consortium_hub.accounts.middleware.RequireMFAMiddleware",
    # django-axes must come last so it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "consortium_hub.urls"
WSGI_APPLICATION = "consortium_hub.wsgi.application"
FORMS_URLFIELD_ASSUME_HTTPS = True
AUTH_USER_MODEL = "accounts.User"

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
                "consortium_hub.core.context_processors.navigation",
            ],
        },
    },
]

_database_url = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # WAL lets the web server read while the job worker writes.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes must be first so a locked-out client is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")) or "")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")) or "")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "account_login"

# --- django-allauth -------------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "consortium_hub.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "consortium_hub.accounts.adapters.SocialAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_STORE_TOKENS = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Consortium Hub"

ORCID_BASE_URL = env_url("ORCID_BASE_URL", "https://orcid.org")
ORCID_API_BASE_URL = env_url("ORCID_API_BASE_URL", "https://api.orcid.org")
ORCID_PUBLIC_API_BASE_URL = env_url("ORCID_PUBLIC_API_BASE_URL", "https://pub.orcid.org")
ORCID_CLIENT_ID = env_str("ORCID_CLIENT_ID", "")
ORCID_CLIENT_SECRET = env_str("ORCID_CLIENT_SECRET", "")
# The member API client that writes affiliations (a consortium may store its own credentials instead).
ORCID_MEMBER_CLIENT_ID = env_str("ORCID_MEMBER_CLIENT_ID", "") or ORCID_CLIENT_ID
ORCID_MEMBER_CLIENT_SECRET = env_str("ORCID_MEMBER_CLIENT_SECRET", "") or ORCID_CLIENT_SECRET
# ORCID allows about 24 requests/s per member client; the writer never goes faster than this.
ORCID_RATE_PER_SECOND = env_int("ORCID_RATE_PER_SECOND", 24, minimum=1)
ORCID_TIMEOUT_SECONDS = env_int("ORCID_TIMEOUT_SECONDS", 20, minimum=1)
# Days a researcher's permission link stays valid.
ORCID_PERMISSION_LINK_DAYS = env_int("ORCID_PERMISSION_LINK_DAYS", 30, minimum=1)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "orcid",
                "name": "ORCID",
                "client_id": ORCID_CLIENT_ID,
                "secret": ORCID_CLIENT_SECRET,
                "settings": {"server_url": ORCID_BASE_URL, "scope": ["openid"]},
            }
        ]
        if ORCID_CLIENT_ID
        else [],
        "OAUTH_PKCE_ENABLED": False,
    }
}

# --- django-axes: throttle failed sign-ins -----------------------------------------------------
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["consortium_hub.core.api.permissions.AccessPermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "consortium_hub.core.api.viewsets.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Consortium Hub API",
    "DESCRIPTION": "The REST API of Consortium Hub: the same objects and permissions as the web pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the sidecar package, served locally: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "MembershipStatusEnum": "consortium_hub.directory.models.Membership.Status",
        "ConsortiumStatusEnum": "consortium_hub.directory.models.Consortium.Status",
        "PlanKindEnum": "consortium_hub.onboarding.models.PlanKind",
        "CourseKindEnum": "consortium_hub.onboarding.models.Course.Kind",
        "ImportKindEnum": [("organisations", "organisations"), ("contacts", "contacts")],
        "MembershipTierEnum": "consortium_hub.directory.models.Membership.Tier",
        "MembershipSizeEnum": "consortium_hub.directory.models.Membership.Size",
        "TicketTierEnum": "consortium_hub.support.models.Ticket.Tier",
        "TicketStatusEnum": "consortium_hub.support.models.Ticket.Status",
        "FeeKindEnum": "consortium_hub.billing.models.FeeKind",
        "AgreementKindEnum": "consortium_hub.agreements.models.Agreement.Kind",
        "AgreementStatusEnum": "consortium_hub.agreements.models.Agreement.Status",
        "InvoiceKindEnum": "consortium_hub.billing.models.Invoice.Kind",
        "InvoiceStatusEnum": "consortium_hub.billing.models.Invoice.Status",
        "ApplicationStatusEnum": "consortium_hub.onboarding.models.Application.Status",
        "PlanStatusEnum": "consortium_hub.onboarding.models.Plan.Status",
        "TaskStatusEnum": "consortium_hub.onboarding.models.Task.Status",
        "ProblemStateEnum": "consortium_hub.support.models.Problem.State",
        "AffiliationStatusEnum": "consortium_hub.registry.models.Affiliation.Status",
        "AffiliationSectionEnum": "consortium_hub.registry.models.Section",
        "DisambiguationSourceEnum": "consortium_hub.registry.models.DisambiguationSource",
        "OrcidGrantStatusEnum": "consortium_hub.registry.models.OrcidGrant.Status",
        "PermissionLinkStatusEnum": "consortium_hub.registry.models.PermissionLink.Status",
        "PermissionLinkLanguageEnum": "consortium_hub.registry.models.PermissionLink.Language",
        "AdoptionIdentifierTypeEnum": "consortium_hub.registry.models.AdoptionSnapshot.IdentifierType",
    },
}

# --- Email -------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Consortium Hub <hub@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background jobs: one Huey queue, embedded SQLite by default, Redis when REDIS_URL is set ---
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
HUEY_NAME = env_str("HUEY_NAME", "consortium-hub")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": HUEY_NAME, "url": REDIS_URL, "immediate": HUEY_IMMEDIATE}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": HUEY_NAME,
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
    }
HUEY["consumer"] = {"workers": env_int("HUEY_WORKERS", 2, minimum=1), "worker_type": "thread"}

INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 7, minimum=1)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOG_LEVEL = env_choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"huey": {"level": "WARNING"}},
}
