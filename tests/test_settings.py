"""Production settings refuse insecure configuration and pass Django's deployment checks."""

import subprocess
import sys

import pytest

from tests import live
from tests.live import ROOT

STRONG_KEY = "x7#Kq9!vLm2@Rt5$Wz8^Bn4&Hc6*Jd1(Fg3)Ps0-Ya+Ue=Io~Tr" * 2


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_passes_check_deploy(django_db_setup):
    # The deployment checks build the API schema, which reads the database: give it one.
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS=".example.com",
        DATABASE_URL=live.test_database_url(),
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
        ({}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 6}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": STRONG_KEY, "EMAIL_KEEP_BODIES": "true"}, "EMAIL_KEEP_BODIES"),
    ],
)
def test_production_refuses_to_start_with_insecure_settings(env, message):
    result = _manage("check", DJANGO_ENV="production", **env)
    assert result.returncode != 0
    assert message in result.stderr
    # The rejected key itself never appears in the error output.
    if env.get("DJANGO_SECRET_KEY") and len(env["DJANGO_SECRET_KEY"]) > 8:
        assert env["DJANGO_SECRET_KEY"] not in result.stderr


def test_argon2_is_the_first_password_hasher():
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert make_password("Some-password-1").startswith("argon2$")
