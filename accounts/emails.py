"""Account emails, through Django's email API. Each template's first line is the subject."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string


def _send(*, to: str, template: str, context: dict) -> None:
    subject, _, body = render_to_string(f"accounts/{template}.txt", context).partition("\n")
    send_mail(subject.strip(), body.lstrip("\n"), settings.DEFAULT_FROM_EMAIL, [to])


def send_verification_email(*, to: str, name: str, link: str) -> None:
    _send(to=to, template="verify_email", context={"name": name, "link": link})


def send_already_registered_email(*, to: str, name: str, base_url: str) -> None:
    _send(to=to, template="already_registered", context={"name": name, "base_url": base_url})


def send_password_reset_email(*, to: str, name: str, link: str) -> None:
    _send(to=to, template="reset_password", context={"name": name, "link": link})


def send_password_changed_email(*, to: str, name: str) -> None:
    _send(to=to, template="password_changed", context={"name": name})
