"""Helpers the notifications services share."""


def normalize_email(email: str) -> str:
    return email.strip().lower()
