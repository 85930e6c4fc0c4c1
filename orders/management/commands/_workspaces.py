"""What the order document commands share: the workspaces to walk and a progress line."""

import time

from django.core.management.base import CommandError

from tenants.selectors import tenants_for_operations


def workspaces(slug: str | None):
    tenants = tenants_for_operations(slugs=[slug] if slug else None, include_inactive=True)
    if slug and not tenants:
        raise CommandError(f"No workspace with slug {slug!r}.")
    return tenants


def progress_line(stream):
    started = time.perf_counter()
    out = getattr(stream, "_out", stream)  # a command's OutputWrapper would add newlines

    def report(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        out.write(f"\r  {done:,}/{max(total, done):,} orders ({rate:,.0f}/s)")
        if done >= total:
            out.write("\n")
        out.flush()

    return report
