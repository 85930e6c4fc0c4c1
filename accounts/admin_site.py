"""The admin's door: sign-in through the accounts services, admin sessions bound to an
accounts Session, and who may use the site and each model admin (platform staff on the public
host, workspace staff by RBAC on tenant hosts)."""

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.db import connection
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_tenants.utils import get_public_schema_name

from accounts import services
from accounts.errors import (
    AccountLocked,
    EmailNotVerified,
    InvalidCredentials,
    InvalidMfaCode,
    MfaChallengeInvalid,
    NotAMember,
)
from accounts.sessions import session_is_active
from accounts.throttles import AuthRateThrottle
from accounts.views import request_meta
from core.admin import AdminPolicy
from core.errors import DomainError
from rbac import access, registry

# The Django session keeps {schema: accounts session id}; every admin request checks it.
SESSION_KEY = "accounts_session"
MFA_KEY = "accounts_admin_mfa"
# The RBAC permission that lets workspace staff into <tenant host>/admin/.
SITE_RESOURCE, SITE_ACTION = "admin.site", "access"
# Tenant models without a resource of their own are workspace settings (owners and admins).
FALLBACK_RESOURCE, FALLBACK_ACTION = "tenants.tenant", "update"
RBAC_ACTIONS = {"view": "read", "add": "create", "change": "update", "delete": "delete"}
# Shared with tenant schemas, but administered as the platform's, never by a workspace.
_PLATFORM_LABELS = {"auth", "contenttypes", "admin", "guardian"}

BAD_CREDENTIALS = (
    "Please enter the correct email address and password for an account that may use this "
    "admin. Note that both fields may be case-sensitive."
)


def _on_public() -> bool:
    return connection.schema_name == get_public_schema_name()


def _app_in(model, app_list: list[str]) -> bool:
    config = apps.get_app_config(model._meta.app_label)
    return (
        config.name in app_list or f"{type(config).__module__}.{type(config).__name__}" in app_list
    )


def is_workspace_model(model) -> bool:
    """Has tables in each tenant schema and belongs to the workspace (not to the platform)."""
    return _app_in(model, settings.TENANT_APPS) and model._meta.app_label not in _PLATFORM_LABELS


def is_platform_model(model) -> bool:
    """Has tables in the public schema: administered on the public host."""
    return _app_in(model, settings.SHARED_APPS)


def resource_for(model_admin, model=None) -> str:
    model = model or model_admin.model
    explicit = getattr(model_admin, "rbac_resource", None) if model_admin else None
    if explicit:
        return explicit
    name = f"{model._meta.app_label}.{model._meta.model_name}"
    return name if name in registry.RESOURCES else FALLBACK_RESOURCE


def rbac_action_for(model_admin, resource: str, action: str) -> str:
    if resource == FALLBACK_RESOURCE and not getattr(model_admin, "rbac_resource", None):
        return FALLBACK_ACTION
    mapping = {**RBAC_ACTIONS, **(getattr(model_admin, "rbac_actions", None) or {})}
    return mapping[action]


def _guards_objects(resource: str, model) -> bool:
    return registry.model_for(resource) is model


class _RBACUser:
    """Stands in for request.user while a model admin's own rules run: its Django permission
    checks ("catalog.change_product") are answered by RBAC instead of Django's tables."""

    def __init__(self, user, site, obj=None) -> None:
        self._user, self._site, self._obj = user, site, obj

    def __getattr__(self, name):
        return getattr(self._user, name)

    def has_perm(self, perm: str, obj=None) -> bool:
        app_label, _, codename = perm.partition(".")
        action, _, model_name = codename.partition("_")
        if action not in RBAC_ACTIONS:
            return False
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            return False
        return rbac_allows(
            self._user, self._site._registry.get(model), model, action, obj or self._obj
        )

    def has_perms(self, perms, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perms)

    def has_module_perms(self, app_label: str) -> bool:
        return True


def rbac_allows(user, model_admin, model, action: str, obj=None) -> bool:
    """May this workspace member do a Django admin action (view/add/change/delete)?"""
    if not is_workspace_model(model):
        return False
    resource = resource_for(model_admin, model)
    rbac_action = rbac_action_for(model_admin, resource, action)
    if access.has_permission(user, resource, rbac_action, obj=obj):
        return True
    if obj is None and action in ("view", "change") and _guards_objects(resource, model):
        # Users holding single objects (guardian) reach the list, narrowed to those objects.
        return access.filter_queryset(
            user, model._default_manager.all(), resource, rbac_action
        ).exists()
    return False


def _bound_session_id(request) -> str | None:
    bound = request.session.get(SESSION_KEY)
    return bound.get(connection.schema_name) if isinstance(bound, dict) else None


def bind_session(request_session, *, schema_name: str, session_id) -> None:
    """Ties a Django session to the accounts Session it was signed in with on that schema."""
    bound = request_session.get(SESSION_KEY)
    request_session[SESSION_KEY] = {
        **(bound if isinstance(bound, dict) else {}),
        schema_name: str(session_id),
    }


def admin_session_live(request) -> bool:
    session_id = _bound_session_id(request)
    return bool(session_id) and session_is_active(session_id)


def may_use_site(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if _on_public():
        return user.is_staff
    return user.is_superuser or access.has_permission(user, SITE_RESOURCE, SITE_ACTION)


class WorkspaceAdminPolicy(AdminPolicy):
    def site_allows(self, request) -> bool:
        if not request.user.is_authenticated:
            return False
        if not admin_session_live(request):
            # Signed out elsewhere (logout-all, password change, membership removed, revoked).
            auth_logout(request)
            return False
        return may_use_site(request.user)

    def model_allows(self, request, model_admin, action, obj, default) -> bool:
        model = model_admin.model
        if _on_public():
            return is_platform_model(model) and default()
        if not is_workspace_model(model):
            return False
        user = request.user
        if user.is_superuser:
            return default()
        if action == "module":
            return any(
                self.model_allows(request, model_admin, a, None, default)
                for a in ("view", "change")
            )
        if not rbac_allows(user, model_admin, model, action, obj):
            return False
        # The model admin's own rules (read-only, ...) still apply, with RBAC answering its
        # permission checks.
        request.user = _RBACUser(user, model_admin.admin_site, obj)
        try:
            return default()
        finally:
            request.user = user

    def narrow_queryset(self, request, model_admin, queryset):
        user = request.user
        if _on_public() or user.is_superuser or not is_workspace_model(queryset.model):
            return queryset
        resource = resource_for(model_admin)
        if not _guards_objects(resource, queryset.model):
            return queryset
        return access.filter_queryset(
            user, queryset, resource, rbac_action_for(model_admin, resource, "view")
        )


# --- Sign-in --------------------------------------------------------------------------------


class PasswordForm(forms.Form):
    username = forms.EmailField(label="Email address", max_length=254)
    password = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)


class MfaForm(forms.Form):
    code = forms.CharField(label="Authenticator code", required=False, max_length=16)
    recovery_code = forms.CharField(label="Recovery code", required=False, max_length=32)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("code") and not cleaned.get("recovery_code"):
            raise forms.ValidationError("Enter a code from your authenticator or a recovery code.")
        return cleaned


class _AdminLoginView:
    """Names the admin login's throttle bucket (per client IP, like each API auth endpoint)."""


def _throttled(request) -> bool:
    return not AuthRateThrottle().allow_request(request, _AdminLoginView())


def _meta(request) -> services.RequestMeta:
    return request_meta(request)


def _finish(request, site, result: services.LoginResult, next_url: str):
    if not may_use_site(result.user):
        # Signed in by the services' rules, but this back office is not theirs: end it now.
        services.session_revoke(session=result.session, reason="admin_not_allowed")
        return None
    request.session.pop(MFA_KEY, None)
    auth_login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
    bind_session(request.session, schema_name=connection.schema_name, session_id=result.session.pk)
    return HttpResponseRedirect(next_url)


def _next_url(request, site) -> str:
    index = reverse("admin:index", current_app=site.name)
    candidate = request.POST.get("next") or request.GET.get("next") or index
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return index


def admin_login(request, *, site, extra_context=None):
    """Email and password, then a TOTP or recovery code when MFA is on. Every refusal
    (lockout, throttling, unverified address, membership) is the API's own."""
    next_url = _next_url(request, site)
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(next_url)
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "next": next_url,
        **(extra_context or {}),
    }
    step_mfa = request.POST.get("step") == "mfa" and MFA_KEY in request.session
    form = (MfaForm if step_mfa else PasswordForm)(request.POST or None)
    status = 200
    if request.method == "POST":
        if _throttled(request):
            form.is_valid()
            form.add_error(None, "Too many sign-in attempts; wait a minute and try again.")
            status = 429
        elif form.is_valid():
            response, status = _attempt(request, site, form, step_mfa, next_url)
            if response is not None:
                return response
            if status == 0:  # the MFA step comes next
                form, step_mfa, status = MfaForm(), True, 200
    template = "admin/login_mfa.html" if step_mfa else "admin/login.html"
    return render(request, template, {**context, "form": form}, status=status)


def _attempt(request, site, form, step_mfa: bool, next_url: str):
    """(response, status): a redirect on success; (None, 0) when the MFA step comes next;
    otherwise the form carries the error and status is the API's for the same refusal."""
    meta = _meta(request)
    try:
        if step_mfa:
            result = services.login_mfa_complete(
                mfa_token=request.session[MFA_KEY],
                code=form.cleaned_data["code"],
                recovery_code=form.cleaned_data["recovery_code"],
                meta=meta,
            )
        else:
            result = services.login(
                email=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                meta=meta,
                request=request,
            )
            if result.mfa_token:
                request.session[MFA_KEY] = result.mfa_token
                return None, 0
    except AccountLocked as exc:
        minutes = max(1, round(exc.retry_after / 60)) if getattr(exc, "retry_after", None) else 30
        form.add_error(
            None, f"Too many failed sign-ins: this account is locked for {minutes} minutes."
        )
        return None, 403
    except (InvalidCredentials, NotAMember):
        form.add_error(None, BAD_CREDENTIALS)
        return None, 200
    except EmailNotVerified:
        form.add_error(None, "Confirm your email address before signing in.")
        return None, 403
    except InvalidMfaCode:
        form.add_error(None, "The code is incorrect.")
        return None, 200
    except MfaChallengeInvalid as exc:
        request.session.pop(MFA_KEY, None)
        form.add_error(None, f"{exc.message} Sign in again.")
        return None, 200
    response = _finish(request, site, result, next_url)
    if response is None:
        form.add_error(None, BAD_CREDENTIALS)
        return None, 200
    return response, 302


def admin_logout(request) -> None:
    """Signing out of the admin ends its accounts Session too."""
    if request.method != "POST" or not request.user.is_authenticated:
        return
    session_id = _bound_session_id(request)
    if session_id:
        services.logout(user=request.user, session_id=session_id, meta=_meta(request))


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="Old password", strip=False, widget=forms.PasswordInput)
    new_password1 = forms.CharField(
        label="New password", strip=False, widget=forms.PasswordInput, max_length=128
    )
    new_password2 = forms.CharField(
        label="New password confirmation", strip=False, widget=forms.PasswordInput
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password1") != cleaned.get("new_password2"):
            self.add_error("new_password2", "The two password fields didn't match.")
        return cleaned


_PASSWORD_FIELDS = {"current_password": "old_password", "new_password": "new_password1"}


def admin_password_change(request, *, site, extra_context=None):
    """The admin's own password change is the API's: it signs out every other session."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=request.user,
                current_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                session_id=_bound_session_id(request),
                meta=_meta(request),
            )
        except DomainError as exc:
            for name, errors in (exc.fields or {None: [exc.message]}).items():
                form.add_error(_PASSWORD_FIELDS.get(name), errors)
        else:
            update_session_auth_hash(request, request.user)
            return HttpResponseRedirect(
                reverse("admin:password_change_done", current_app=site.name)
            )
    context = {
        **site.each_context(request),
        "title": "Password change",
        "subtitle": None,
        "form": form,
        **(extra_context or {}),
    }
    return render(request, "registration/password_change_form.html", context)


def install(site) -> None:
    """Puts the platform's sign-in and access rules on the admin site."""
    site.policy = WorkspaceAdminPolicy()
    site.login_handler = admin_login
    site.logout_handler = admin_logout
    site.password_change_handler = admin_password_change
