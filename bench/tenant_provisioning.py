"""Tenant provisioning: clone from the template schema vs run every migration, and a no-op
migrate_schemas over many tenants (skipping up-to-date schemas, at half and at all the tenants,
vs django-tenants' run of migrate in every schema).

Usage: .venv/bin/python bench/tenant_provisioning.py [--tenants 200] [--samples 5]
Uses a scratch database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
platform_bench) that it drops and recreates. Prints seconds per tenant, the migrate times, their
ratios and the load average.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform_bench")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def recreate_database() -> None:
    import psycopg

    base, name = URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()

    recreate_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from accounts.services import tenant_create
    from tenants.services import public_tenant_ensure
    from tenants.template import template_schema_refresh

    print("migrating the public schema ...", flush=True)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    public_tenant_ensure()

    def create(prefix: str, count: int) -> list[float]:
        times = []
        for i in range(count):
            started = time.perf_counter()
            tenant_create(
                slug=f"{prefix}{i}", name=prefix, domain=f"{prefix}{i}.bench", verbosity=0
            )
            times.append(time.perf_counter() - started)
        return times

    settings.TENANT_CREATION_FAKES_MIGRATIONS = False
    migrated = create("migrated", args.samples)
    settings.TENANT_CREATION_FAKES_MIGRATIONS = True
    started = time.perf_counter()
    template_schema_refresh()
    template_build = time.perf_counter() - started
    cloned = create("cloned", args.samples)
    by_migration, by_clone = statistics.median(migrated), statistics.median(cloned)
    print(f"create by migrations: median {by_migration:.3f} s/tenant")
    print(
        f"create by cloning:    median {by_clone:.3f} s/tenant "
        f"(template build once: {template_build:.2f} s)"
    )
    print(f"cloning is {by_migration / by_clone:.1f}x faster than migrating; {load()}")

    def noop(**options) -> float:
        started = time.perf_counter()
        call_command("migrate_schemas", interactive=False, verbosity=0, **options)
        return time.perf_counter() - started

    remaining = args.tenants - 2 * args.samples
    print(f"creating {remaining} more tenants by cloning ...", flush=True)
    started = time.perf_counter()
    skipped_at_half = None
    for i in range(remaining):
        tenant_create(slug=f"tenant{i}", name="t", domain=f"tenant{i}.bench", verbosity=0)
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{remaining}", flush=True)
        if i + 1 == remaining // 2:
            half = 2 * args.samples + i + 1
            skipped_at_half = (half, noop(executor="standard"))
    print(f"  {remaining} tenants in {time.perf_counter() - started:.1f} s")

    skipped = noop(executor="standard")
    every = noop(executor="standard", all_schemas=True)
    if skipped_at_half:
        print(
            f"no-op migrate_schemas over {skipped_at_half[0]} tenants (up-to-date schemas "
            f"skipped): {skipped_at_half[1]:.2f} s"
        )
    print(
        f"no-op migrate_schemas over {args.tenants} tenants (up-to-date schemas skipped): "
        f"{skipped:.2f} s"
    )
    print(
        f"no-op migrate_schemas over {args.tenants} tenants, every schema (standard): "
        f"{every:.1f} s ({every / skipped:.0f}x the skipping run)"
    )
    print(load())


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
