"""Admin for sent emails (status, attempts, tracking events, resend), the suppression list,
preferences, branding, in-app notifications and the dashboard's failed-emails panel."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_tenants.utils import get_public_schema_name

from core.admin import DashboardPanel, PublicSchemaOnlyAdmin, ReadOnlyAdminMixin
from core.errors import DomainError
from notifications import services
from notifications.models import (
    Branding,
    Message,
    MessageEvent,
    Notification,
    Preference,
    Suppression,
)


class MessageEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MessageEvent
    extra = 0
    can_delete = False
    fields = ["event_type", "occurred_at", "description", "event_id"]
    readonly_fields = fields


NOT_KEPT = "Not kept (the body is kept only with EMAIL_KEEP_BODIES, as under make run)."


class RecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Records written by the services: shown, never added or edited here. Deleting one stays
    possible (e.g. to honour a request to erase someone's data)."""

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)


@admin.register(Message)
class MessageAdmin(RecordAdmin):
    list_display = ["to_email", "template", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "template", "category"]
    list_per_page = 50
    search_fields = ["to_email", "provider_message_id", "subject"]
    date_hierarchy = "created_at"
    inlines = [MessageEventInline]
    readonly_fields = [
        "id",
        "user",
        "to_email",
        "template",
        "category",
        "subject",
        "status",
        "attempts",
        "error",
        "provider_message_id",
        "context",
        "context_redacted",
        "base_url",
        "resent_from",
        "created_at",
        "sent_at",
        "delivered_at",
        "failed_at",
        "updated_at",
        "html_version",
        "text_version",
    ]
    fields = readonly_fields
    actions = ["resend"]

    @admin.display(description="HTML version")
    def html_version(self, obj: Message) -> str:
        if not obj.body_html:
            return NOT_KEPT
        # srcdoc gets the HTML escaped; a bare `sandbox` gives it an opaque origin with no
        # scripts, forms or navigation of the admin, so an email cannot act on the admin.
        return format_html(
            '<iframe sandbox srcdoc="{}" title="HTML version" referrerpolicy="no-referrer" '
            'style="width: 100%; min-width: 40em; height: 36em; border: 1px solid #ccc">'
            "</iframe>",
            obj.body_html,
        )

    @admin.display(description="Text version")
    def text_version(self, obj: Message) -> str:
        if not obj.body_text:
            return NOT_KEPT
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.body_text)

    @admin.action(description="Send the selected messages again")
    def resend(self, request, queryset):
        sent, refused = 0, 0
        for message in queryset.select_related("user"):
            try:
                services.message_resend(message=message)
                sent += 1
            except DomainError:
                refused += 1
        self.message_user(request, f"{sent} message(s) queued again.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} message(s) carried one-time links and were not resent.",
                messages.WARNING,
            )


@admin.register(Suppression)
class SuppressionAdmin(PublicSchemaOnlyAdmin):
    """The platform-wide list, kept in the public schema: shown in the platform admin only."""

    list_display = ["email", "reason", "created_at"]
    list_filter = ["reason"]
    list_per_page = 100
    search_fields = ["email"]
    fields = ["email", "reason", "detail"]

    def has_change_permission(self, request, obj=None):
        # An address is added to the list or removed from it; suppression_add keeps the
        # first entry, so an edit would not be saved.
        return False

    def save_model(self, request, obj, form, change):
        saved = services.suppression_add(email=obj.email, reason=obj.reason, detail=obj.detail)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.suppression_remove(email=obj.email)

    def delete_queryset(self, request, queryset):
        for email in queryset.values_list("email", flat=True):
            services.suppression_remove(email=email)


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["email", "category", "email_enabled", "in_app_enabled", "updated_at"]
    list_filter = ["category", "email_enabled", "in_app_enabled"]
    list_per_page = 100
    search_fields = ["email"]
    fields = ["email", "category", "email_enabled", "in_app_enabled"]

    def save_model(self, request, obj, form, change):
        saved = services.preference_set(
            email=obj.email,
            category=obj.category,
            email_enabled=obj.email_enabled,
            in_app=obj.in_app_enabled,
        )
        obj.pk = saved.pk


class BrandingForm(forms.ModelForm):
    logo_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Branding
        fields = ["name", "logo_url", "from_name", "from_email", "reply_to", "primary_color"]
        fields += ["footer"]

    def clean_from_email(self):
        from_email = self.cleaned_data.get("from_email") or ""
        try:
            services.sender_check(from_email)
        except DomainError as exc:
            raise forms.ValidationError(exc.fields["from_email"]) from None
        return from_email


@admin.register(Branding)
class BrandingAdmin(admin.ModelAdmin):
    form = BrandingForm
    list_display = ["__str__", "from_name", "from_email", "updated_at"]
    fields = ["name", "logo_url", "from_name", "from_email", "reply_to", "primary_color"]
    fields += ["footer"]

    def has_add_permission(self, request):
        return not Branding.objects.exists()

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in self.fields}
        saved = services.branding_update(data=data)
        obj.pk = saved.pk


@admin.register(Notification)
class NotificationAdmin(RecordAdmin):
    rbac_resource = "notifications.message"
    list_display = ["title", "user", "kind", "category", "read_at", "created_at"]
    list_filter = ["kind", "category"]
    list_select_related = ["user"]
    list_per_page = 50
    search_fields = ["title", "user__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["user", "kind", "category", "title", "body", "url", "data", "read_at"]
    readonly_fields += ["created_at"]
    fields = readonly_fields


@admin.site.register_panel
def failed_emails(request) -> DashboardPanel | None:
    """The workspace's email jobs that failed or bounced in the last 30 days."""
    if connection.schema_name == get_public_schema_name():
        return None
    if not admin.site.model_visible(request, Message):
        return None
    since = timezone.now() - timedelta(days=30)
    failed = list(
        Message.objects.filter(
            created_at__gte=since, status__in=[Message.Status.FAILED, Message.Status.BOUNCED]
        ).values_list("created_at", "template", "status")[:5]
    )
    return DashboardPanel(
        title="Failed email jobs, last 30 days",
        link=reverse("admin:notifications_message_changelist"),
        headers=["Created", "Template", "Status"],
        rows=[[f"{at:%Y-%m-%d %H:%M}", template, status] for at, template, status in failed],
    )
