"""The platform's periodic work, as django-celery-beat rows (editable in the admin afterwards).

Each app adds its entries to PERIODIC_TASKS. `manage.py setup_schedules` creates the missing rows
and never overwrites what an operator changed in the admin (unless --reset).
A per-tenant task is scheduled through tenants.fan_out, which sends it into every tenant schema.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every_seconds: int
    args: list = field(default_factory=list)
    per_tenant: bool = False
    queue: str | None = None


PERIODIC_TASKS: list[Periodic] = [
    Periodic("Purge tenants past their deletion grace period", "tenants.purge_due", 3600),
]


def register(entry: Periodic) -> None:
    if all(existing.name != entry.name for existing in PERIODIC_TASKS):
        PERIODIC_TASKS.append(entry)
