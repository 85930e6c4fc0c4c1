"""Tenant admin for files, with previews of images, and the dashboard's storage panel."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html

from core.admin import DashboardPanel
from uploads import selectors, services, storage
from uploads.models import File


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    rbac_resource = "files.file"
    list_display = [
        "preview",
        "original_name",
        "owner",
        "kind",
        "content_type",
        "size",
        "status",
        "is_private",
        "created_at",
    ]
    list_filter = ["kind", "status", "is_private"]
    list_select_related = ["owner"]
    list_per_page = 50
    search_fields = ["original_name", "sha256", "owner__email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "large_preview",
        "owner",
        "key",
        "content_type",
        "size",
        "sha256",
        "kind",
        "status",
        "is_private",
        "metadata",
        "variants",
        "variants_size",
        "error",
        "attempts",
        "upload_id",
        "duplicate_of",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    fields = ["original_name", "tags", "expires_at", *readonly_fields]
    actions = ["delete_files"]

    def _image_url(self, obj: File, variant: str) -> str | None:
        if obj.status != File.Status.READY or variant not in obj.variants:
            return None
        url, _ = storage.signed_url(
            obj.variants[variant]["key"], filename=f"{variant}.webp", content_type="image/webp"
        )
        return url

    @admin.display(description="Preview")
    def preview(self, obj: File):
        url = self._image_url(obj, "thumb")
        return format_html('<img src="{}" width="60" height="60" alt="">', url) if url else "-"

    @admin.display(description="Image")
    def large_preview(self, obj: File):
        url = self._image_url(obj, "webp")
        return format_html('<img src="{}" style="max-width:480px" alt="">', url) if url else "-"

    def has_add_permission(self, request):
        return False  # files arrive through the API, where they are validated

    def has_delete_permission(self, request, obj=None):
        return False  # deletion must remove stored objects: use the action

    @admin.action(description="Delete the selected files and their stored objects")
    def delete_files(self, request, queryset):
        count = 0
        for file in queryset.exclude(status=File.Status.DELETED):
            services.file_delete(file=file)
            count += 1
        self.message_user(request, f"Deleted {count} file(s).")

    def save_model(self, request, obj, form, change):
        services.file_update(
            file=obj,
            name=form.cleaned_data["original_name"],
            tags=form.cleaned_data["tags"],
            expires_at=form.cleaned_data["expires_at"],
            clear_expiry=form.cleaned_data["expires_at"] is None,
        )


@admin.site.register_panel
def storage_usage(request) -> DashboardPanel | None:
    """Storage used against the plan's quota, and files whose processing failed."""
    if not admin.site.model_visible(request, File):
        return None
    used, quota = selectors.tenant_used_bytes(), selectors.tenant_quota_bytes()
    failed = File.objects.filter(status=File.Status.FAILED).count()
    percent = min(100, round(100 * used / quota)) if quota else 0
    return DashboardPanel(
        title="Storage",
        link=reverse("admin:uploads_file_changelist"),
        bars=[("Used", f"{filesizeformat(used)} of {filesizeformat(quota)}", percent)],
        note=f"{failed} file(s) failed processing.",
    )
