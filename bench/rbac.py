"""RBAC benchmark: permission checks per second (cold and cached) and object-filter query time.

    DATABASE_URL=... REDIS_URL=... python bench/rbac.py [--objects 20000 --permitted 5000]

Needs a migrated database (`manage.py migrate_schemas`); creates a "rbench" tenant on first run.
Rows written for the measurement are rolled back at the end.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Permission as AuthPermission  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from guardian.models import UserObjectPermission  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import membership_set, tenant_create  # noqa: E402
from rbac import access  # noqa: E402
from rbac import cache as rbac_cache  # noqa: E402
from rbac.models import Role  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import public_tenant_ensure  # noqa: E402


class Rollback(Exception):
    pass


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({seconds / count * 1e6:,.1f} us each)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=20000)
    parser.add_argument("--permitted", type=int, default=5000)
    parser.add_argument("--cold", type=int, default=500)
    parser.add_argument("--warm", type=int, default=20000)
    args = parser.parse_args()

    public_tenant_ensure()
    tenant = Tenant.objects.filter(slug="rbench").first() or tenant_create(
        slug="rbench", name="RBAC bench", domain="rbench.localhost"
    )
    try:
        with transaction.atomic():
            run(tenant, args)
            raise Rollback
    except Rollback:
        pass


def run(tenant, args) -> None:
    manager = User.objects.create_user(email="bench-manager@rbench.test")
    member = User.objects.create_user(email="bench-member@rbench.test")
    membership_set(user=manager, tenant=tenant, role="manager")
    membership_set(user=member, tenant=tenant, role="member")
    connection.set_tenant(tenant)
    cache.clear()

    # Cold: every check rebuilds the snapshot (the user's version is bumped before each).
    start = time.perf_counter()
    for _ in range(args.cold):
        rbac_cache.user_changed(manager.pk)
        access.has_permission(manager, "catalog.product", "update")
    cold = time.perf_counter() - start

    # Warm: snapshot in Redis, versions checked on every call (one Redis round trip).
    access.has_permission(manager, "catalog.product", "update")
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        for i in range(args.warm):
            access.has_permission(manager, "catalog.product", ("update", "delete")[i % 2])
        warm = time.perf_counter() - start
    print(f"checks, cold (rebuild from PostgreSQL): {per_second(args.cold, cold)}")
    print(f"checks, cached (Redis):                 {per_second(args.warm, warm)}")
    print(f"database queries during cached checks:  {len(queries)}")

    # Object filter: a member holding view_role on `permitted` of `objects` roles.
    Role.objects.bulk_create(
        (Role(name=f"bench-{i}") for i in range(args.objects)), batch_size=5000
    )
    roles = list(Role.objects.filter(name__startswith="bench-").values_list("pk", flat=True))
    content_type = ContentType.objects.get_for_model(Role)
    view = AuthPermission.objects.get(content_type=content_type, codename="view_role")
    UserObjectPermission.objects.bulk_create(
        (
            UserObjectPermission(
                user=member, permission=view, content_type=content_type, object_pk=str(pk)
            )
            for pk in roles[:: max(1, len(roles) // args.permitted)][: args.permitted]
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE guardian_userobjectpermission; ANALYZE rbac_role;")
    access.snapshot_for(member)
    counts, pages = [], []
    for _ in range(7):
        queryset = access.filter_queryset(member, Role.objects.all(), "rbac.role", "read")
        start = time.perf_counter()
        total = queryset.count()
        counts.append(time.perf_counter() - start)
        start = time.perf_counter()
        page = list(queryset.order_by("-created_at", "-id")[:50])
        pages.append(time.perf_counter() - start)
    print(
        f"object filter, {total:,} permitted of {args.objects:,} objects: "
        f"count() median {statistics.median(counts) * 1000:.1f} ms, "
        f"first page of {len(page)} median {statistics.median(pages) * 1000:.1f} ms, "
        f"SQL length {len(str(queryset.query))} chars, 1 query"
    )
    connection.set_schema_to_public()


if __name__ == "__main__":
    main()
