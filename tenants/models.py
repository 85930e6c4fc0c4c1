"""Tenants (one PostgreSQL schema each), the host names that reach them, and who belongs."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenants.resolution import hosts_changed


class Tenant(TenantMixin):
    class Plan(models.TextChoices):
        FREE = "free", "Free"
        PRO = "pro", "Pro"
        ENTERPRISE = "enterprise", "Enterprise"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=63, unique=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    is_active = models.BooleanField(default=True)
    # Open workspaces (shops, communities) let anyone register or sign in on their host and
    # become a member; closed ones admit only users given a membership by an owner or admin.
    allow_self_signup = models.BooleanField(default=True)
    # The workspace's single-page app: emailed links open there (e.g. https://app.acme.com);
    # blank: on the workspace's primary domain, where the platform serves minimal pages.
    spa_base_url = models.URLField(max_length=300, blank=True)
    # Browser origins (scheme://host[:port]) allowed to call this workspace's API cross-origin,
    # besides the platform-wide CORS_ALLOWED_ORIGINS.
    cors_allowed_origins = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=200, blank=True)
    # Set when deletion is requested; the schema is dropped by tenants.tasks.purge_due after it.
    delete_after = models.DateTimeField(null=True, blank=True, db_index=True)

    # Schemas are created by tenants.services.tenant_schema_create inside its transaction.
    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    # Requests resolve hosts from a memo (tenants.resolution): every save or delete of a tenant
    # or domain makes every process resolve afresh. Queryset .update() calls hosts_changed().
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        hosts_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        hosts_changed()
        return result


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        hosts_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        hosts_changed()
        return result


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MANAGER = "manager", "Manager"
        MEMBER = "member", "Member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant.slug} as {self.role}"
