"""The email settings come from the environment, and the file backend delivers to
EMAIL_FILE_PATH."""

import subprocess
import sys

import pytest
from django.core import mail

from tests.live import ROOT


def test_email_host_port_and_file_path_are_read_from_the_environment(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_FILE_PATH)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "EMAIL_HOST": "smtp.example.test",
        "EMAIL_PORT": "2525",
        "EMAIL_USE_TLS": "true",
        "EMAIL_FILE_PATH": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["smtp.example.test", "2525", "True", str(tmp_path)], (
        result.stderr
    )


@pytest.mark.django_db
def test_the_file_backend_writes_each_message_to_email_file_path(tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    mail.EmailMessage("Hello", "Body text", to=["ann@example.com"]).send()
    [written] = list(tmp_path.iterdir())
    assert "Subject: Hello" in written.read_text()
