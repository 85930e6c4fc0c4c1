"""django.contrib.admin with the platform's site (core.admin.PlatformAdminSite) as admin.site."""

from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    default_site = "core.admin.PlatformAdminSite"
