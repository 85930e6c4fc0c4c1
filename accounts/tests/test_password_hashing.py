"""Argon2id at OWASP's parameters; hashes made with other parameters are upgraded at sign-in."""

import pytest
from argon2 import PasswordHasher, extract_parameters
from django.contrib.auth.hashers import Argon2PasswordHasher

from accounts.models import User

pytestmark = pytest.mark.django_db


def _parameters(user: User):
    # Django stores "argon2" + the encoded hash without its leading "$argon2id".
    return extract_parameters("$argon2id" + user.password.split("$argon2id", 1)[1])


def test_new_hashes_use_19_mib_2_passes_1_lane(argon2, make_user):
    params = _parameters(make_user(email="owasp@example.com"))
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19 * 1024, 2, 1)


def test_a_hash_with_djangos_default_parameters_is_upgraded_at_the_next_sign_in(
    argon2, make_user, password, login
):
    user = make_user(email="old@example.com")
    user.password = Argon2PasswordHasher().encode(password, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    before = _parameters(user)
    assert (before.memory_cost, before.parallelism) == (102400, 8)

    assert login("old@example.com", password).status_code == 200
    user.refresh_from_db()
    after = _parameters(user)
    assert (after.memory_cost, after.time_cost, after.parallelism) == (19 * 1024, 2, 1)
    PasswordHasher().verify("$argon2id" + user.password.split("$argon2id", 1)[1], password)


def test_a_failed_sign_in_does_not_rewrite_the_hash(argon2, make_user, password, login):
    user = make_user(email="keep@example.com")
    user.password = Argon2PasswordHasher().encode(password, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    stored = user.password
    assert login("keep@example.com", "Wrong-password-1").status_code == 401
    user.refresh_from_db()
    assert user.password == stored
