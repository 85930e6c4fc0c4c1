"""The admin site every app registers with (hooks for sign-in, access and the dashboard) and
the model-admin building blocks apps share: public-host-only and read-only admins."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.db import connection
from django.http import HttpResponseRedirect
from django_tenants.utils import get_public_schema_name

from core.errors import DomainError


class ReadOnlyAdminMixin:
    """Rows are shown, never added, changed or deleted from this admin (they change through
    the app's services, or are records such as events and ledgers)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PublicSchemaOnlyAdmin(admin.ModelAdmin):
    """Shared (platform-wide) models are managed on the public host only, never from a tenant."""

    def _on_public(self) -> bool:
        return connection.schema_name == get_public_schema_name()

    def has_module_permission(self, request):
        return self._on_public() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._on_public() and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._on_public() and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._on_public() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._on_public() and super().has_delete_permission(request, obj)


# --- The admin site -----------------------------------------------------------------------------
# One site for the public host and every tenant host. Who may sign in, what each model admin
# allows and how sign-in works are decided by hooks that higher layers install (core imports no
# app): `policy` (accounts), `login_handler`/`logout_handler` (accounts), dashboard panels (each
# app that has figures to show registers its own).

ADMIN_ACTIONS = ("view", "add", "change", "delete")


class AdminPolicy:
    """What the site asks before serving a request; the default is Django's own rules."""

    def site_allows(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def model_allows(self, request, model_admin, action: str, obj, default) -> bool:
        return default()

    def narrow_queryset(self, request, model_admin, queryset):
        return queryset


@dataclass
class DashboardPanel:
    """One block of the index page: bars (label, shown value, percent of the widest) and/or a
    small table, rendered server-side by templates/admin/index.html."""

    title: str
    bars: list[tuple[str, str, int]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    note: str = ""
    link: str = ""
    # An inline SVG column chart: (x, y, width, height, tooltip) in a 300 x 60 box.
    columns: list[tuple[float, float, float, float, str]] = field(default_factory=list)


def columns(values: list[tuple[str, float]]) -> list[tuple[float, float, float, float, str]]:
    """(tooltip, value) per column -> rectangles of a 300 x 60 SVG (no script, no CDN)."""
    if not values:
        return []
    top = max(value for _, value in values) or 1
    width = 300 / len(values)
    shapes = []
    for index, (tooltip, value) in enumerate(values):
        height = round(58 * value / top, 1)
        shapes.append(
            (round(index * width, 1), 60 - height, round(width * 0.8, 1), height, tooltip)
        )
    return shapes


def bars(pairs: list[tuple[str, float, str]]) -> list[tuple[str, str, int]]:
    """(label, value, shown) -> (label, shown, percent of the largest value) for CSS bars."""
    top = max((value for _, value, _ in pairs), default=0) or 1
    return [(label, shown, round(100 * value / top)) for label, value, shown in pairs]


class ScopedModelAdminMixin:
    """Put in front of every registered model admin by the site: permissions go through the
    site's policy, and domain errors raised by services become form or message errors."""

    def _allowed(self, request, action: str, obj=None) -> bool:
        parent = super()
        default = getattr(parent, f"has_{action}_permission")
        call = (lambda: default(request)) if action == "add" else (lambda: default(request, obj))
        return self.admin_site.policy.model_allows(request, self, action, obj, call)

    def has_module_permission(self, request):
        parent = super()
        return self.admin_site.policy.model_allows(
            request, self, "module", None, lambda: parent.has_module_permission(request)
        )

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, "view", obj)

    def has_add_permission(self, request, *args, **kwargs):
        return self._allowed(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, "delete", obj)

    def get_queryset(self, request):
        return self.admin_site.policy.narrow_queryset(request, self, super().get_queryset(request))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_admin_service_error", None)
        if error is None:
            return form

        class ServiceErrorForm(form):
            def clean(self):
                cleaned = super().clean()
                fields = getattr(error, "fields", None) or {}
                known = {k: v for k, v in fields.items() if k in self.fields}
                for name, messages_ in known.items():
                    self.add_error(name, messages_)
                if not known:
                    self.add_error(None, error.message)
                return cleaned

        return ServiceErrorForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # The save was rolled back; the same POST is shown again with the service's
            # refusal as a form error, so nothing the editor typed is lost.
            request._admin_service_error = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class PlatformAdminSite(admin.AdminSite):
    """The platform's admin site: the same class on the public host (platform staff) and on
    tenant hosts (workspace staff); hooks decide sign-in, access and the dashboard."""

    site_header = "Platform administration"
    index_template = "admin/platform_index.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self.policy: AdminPolicy = AdminPolicy()
        self.login_handler: Callable | None = None
        self.logout_handler: Callable | None = None
        self.password_change_handler: Callable | None = None
        self._panels: list[Callable] = []

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, ScopedModelAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (ScopedModelAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        return super().register(model_or_iterable, admin_class, **options)

    def register_panel(self, panel: Callable) -> Callable:
        """panel(request) -> DashboardPanel | None (None: nothing to show to this user)."""
        self._panels.append(panel)
        return panel

    def has_permission(self, request) -> bool:
        return self.policy.site_allows(request)

    def model_visible(self, request, model) -> bool:
        """May this request see the model's list here (for dashboard panels)?"""
        model_admin = self._registry.get(model)
        return model_admin is not None and model_admin.has_view_permission(request)

    def login(self, request, extra_context=None):
        if self.login_handler is None:
            return super().login(request, extra_context)
        return self.login_handler(request, site=self, extra_context=extra_context)

    def logout(self, request, extra_context=None):
        if self.logout_handler is not None:
            self.logout_handler(request)
        return super().logout(request, extra_context)

    def password_change(self, request, extra_context=None):
        if self.password_change_handler is None:
            return super().password_change(request, extra_context)
        return self.password_change_handler(request, site=self, extra_context=extra_context)

    def index(self, request, extra_context=None):
        panels = [panel for panel in (make(request) for make in self._panels) if panel]
        return super().index(request, {**(extra_context or {}), "dashboard": panels})
