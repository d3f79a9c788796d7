"""The ceiling app's settings: the database from DATABASE_URL, as Saha reads it, and no more."""

import os

import dj_database_url

SECRET_KEY = "bench-ceiling-not-secret"  # noqa: S105 -- no sessions, no signing
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bench.ceiling"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.ceiling.urls"
WSGI_APPLICATION = "bench.ceiling.wsgi.application"
# The same connection handling as Saha's settings (persistent, health-checked).
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
