"""Catalog fixtures: API clients for members with different roles, inside tenant A."""

import pytest


@pytest.fixture
def manager(make_user, tenant_a):
    return make_user(email="manager@alpha.test", tenant=tenant_a, role="manager")


@pytest.fixture
def member(make_user, tenant_a):
    return make_user(email="member@alpha.test", tenant=tenant_a, role="member")


@pytest.fixture
def api(auth_client, manager, tenant_a):
    """A manager's client on tenant A."""
    return auth_client(manager, tenant_a)


@pytest.fixture
def member_api(auth_client, member, tenant_a):
    return auth_client(member, tenant_a)
