"""Which workspace a host name serves: a per-process memo checked against one version key.

Resolving the tenant by a query on every request and websocket handshake costs a round trip to
PostgreSQL (and, without a pooled connection, a connection). Each process keeps what it resolved,
tagged with the platform-wide hosts version in Redis; one GET of that version per request tells
whether the memo still holds. Every write to a tenant or a domain calls :func:`hosts_changed`
(at once and again after the commit), so a suspension or a new domain takes effect on the next
request in every process.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections import OrderedDict

from django.core.cache import caches
from django.db import transaction
from django_tenants.utils import get_tenant_domain_model

VERSION_KEY = "tenants:hosts:v"
MEMO_SIZE = 2048  # host names per process; unknown names are remembered too, so it is bounded

_memo: OrderedDict[str, tuple[str, object | None]] = OrderedDict()
_lock = threading.Lock()


def _cache():
    # Platform-wide (not schema-prefixed): the same key from every tenant's code.
    return caches["auth"]


def _version() -> str:
    cache = _cache()
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _bump() -> None:
    _cache().set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def hosts_changed() -> None:
    """A tenant or domain changed: every process resolves host names afresh.

    Bumped now and again after the commit, so a request that resolved between the two from
    rows not yet committed does not keep what it read.
    """
    _bump()
    transaction.on_commit(_bump)


# The memoised tenant carries its primary domain name (None without one), so links built for
# the request's workspace (tenants.links) need no query either.
PRIMARY_DOMAIN_ATTR = "_primary_domain_name"


def _lookup(hostname: str):
    domain_model = get_tenant_domain_model()
    domain = domain_model.objects.select_related("tenant").filter(domain=hostname).first()
    if domain is None:
        return None
    tenant = domain.tenant
    primary = domain
    if not domain.is_primary:
        primary = domain_model.objects.filter(tenant_id=tenant.pk, is_primary=True).first()
    setattr(tenant, PRIMARY_DOMAIN_ATTR, primary.domain if primary is not None else None)
    return tenant


def tenant_for_host(hostname: str):
    """The Tenant served at hostname (a copy the caller may change), or None.

    Call with the connection on the public schema (tenants and domains live there).
    """
    version = _version()
    with _lock:
        hit = _memo.get(hostname)
        if hit is not None and hit[0] == version:
            _memo.move_to_end(hostname)
            tenant = hit[1]
            return copy.copy(tenant) if tenant is not None else None
    tenant = _lookup(hostname)
    with _lock:
        _memo[hostname] = (version, tenant)
        _memo.move_to_end(hostname)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return copy.copy(tenant) if tenant is not None else None


def forget() -> None:
    """Empties this process's memo (tests)."""
    with _lock:
        _memo.clear()
