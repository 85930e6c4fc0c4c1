"""What apps above tenants do when a workspace is created, purged or exported.

tenants and accounts provision and purge workspaces but sit below the apps that keep data of
their own elsewhere (orders keeps documents in MongoDB). Those apps register here from their
AppConfig.ready; provisioning, purge and export_tenant call every registered hook explicitly.
"""

from collections.abc import Callable, Iterable
from typing import Any

_created: list[Callable[[str], None]] = []
_purged: list[Callable[[str], None]] = []
_exporters: list[Callable[[str], Iterable[dict[str, Any]]]] = []


def on_workspace_created(hook: Callable[[str], None]) -> None:
    """hook(schema_name), after the workspace's creation committed."""
    if hook not in _created:
        _created.append(hook)


def on_workspace_purged(hook: Callable[[str], None]) -> None:
    """hook(schema_name), after the workspace's schema was dropped and that committed."""
    if hook not in _purged:
        _purged.append(hook)


def on_workspace_export(exporter: Callable[[str], Iterable[dict[str, Any]]]) -> None:
    """exporter(schema_name) yields JSON-friendly objects that export_tenant writes, one a line."""
    if exporter not in _exporters:
        _exporters.append(exporter)


def workspace_created(schema_name: str) -> None:
    for hook in _created:
        hook(schema_name)


def workspace_purged(schema_name: str) -> None:
    for hook in _purged:
        hook(schema_name)


def workspace_export(schema_name: str) -> Iterable[dict[str, Any]]:
    for exporter in _exporters:
        yield from exporter(schema_name)
