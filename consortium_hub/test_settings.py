"""Settings for the test suite: the real settings with fast hashing, in-memory mail and jobs run inline.

Job tests that need a real queue (embedded SQLite or Redis) build their own Huey instance.
"""

import os

os.environ.setdefault("HUEY_IMMEDIATE", "true")

from consortium_hub.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# allauth's own rate limits would throttle the test client long before django-axes; axes is what we test.
ACCOUNT_RATE_LIMITS = False
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise warns about a missing one)
