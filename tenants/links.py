"""Where links in emails point: the workspace's single-page app, or its primary domain.

Links are built from the tenant and settings only, never from a request's Host header (which a
client chooses): `LINK_SCHEME`://<primary domain>[:`LINK_PORT`], or Tenant.spa_base_url when
the workspace has its own front end.
"""

from django.conf import settings

from tenants.resolution import PRIMARY_DOMAIN_ATTR

_UNKNOWN = object()


def _primary_domain_name(tenant) -> str | None:
    # The request's tenant (tenants.resolution) already knows it; any other is asked.
    name = getattr(tenant, PRIMARY_DOMAIN_ATTR, _UNKNOWN)
    if name is _UNKNOWN:
        domain = tenant.get_primary_domain()
        name = domain.domain if domain is not None else None
    return name


def platform_base_url(tenant) -> str:
    """<scheme>://<the tenant's primary domain>[:port]: pages the platform itself serves."""
    host = (_primary_domain_name(tenant) if tenant is not None else None) or settings.PUBLIC_DOMAIN
    port = settings.LINK_PORT
    return f"{settings.LINK_SCHEME}://{host}{':' + port if port else ''}"


def app_base_url(tenant) -> str:
    """Where the workspace's users open emailed links: its SPA, else the platform's pages."""
    spa = getattr(tenant, "spa_base_url", "") or ""
    return spa.rstrip("/") if spa else platform_base_url(tenant)
