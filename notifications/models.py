"""Tables of the notifications app: sent emails and their tracking events, the suppression list,
per-category preferences, per-tenant branding and in-app notifications.

The app is both a shared and a tenant app: every tenant schema has these tables, and so does the
public schema, which records what is sent outside any tenant (platform sign-up). The suppression
list is platform-wide and is only ever read and written in the public schema (services do it).
"""

import uuid

from django.conf import settings
from django.db import models


class Message(models.Model):
    """One email to one recipient, from queueing to its last tracking event."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"
        FAILED = "failed", "Failed"
        # Never handed to the provider: the address is suppressed or unsubscribed.
        SUPPRESSED = "suppressed", "Suppressed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # users live in the public schema
    )
    to_email = models.EmailField(db_index=True)
    template = models.CharField(max_length=100)
    category = models.CharField(max_length=50)
    # Rendering context; emptied once a message carrying one-time links has been sent.
    context = models.JSONField(default=dict, blank=True)
    context_redacted = models.BooleanField(default=False)
    base_url = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    # The rendered parts as sent, kept only with settings.EMAIL_KEEP_BODIES (development).
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    provider_message_id = models.CharField(max_length=300, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    resent_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.template} to {self.to_email} ({self.status})"


class MessageEvent(models.Model):
    """A tracking event the provider reported for a message (delivered, bounced, opened...)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=30)
    event_id = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    description = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "event_id"],
                condition=~models.Q(event_id=""),
                name="messageevent_unique_event_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} for {self.message_id}"


class Suppression(models.Model):
    """An address nothing is sent to any more (hard bounce, spam complaint, or by hand)."""

    class Reason(models.TextChoices):
        BOUNCE = "bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"
        MANUAL = "manual", "Added by staff"

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class Preference(models.Model):
    """Whether an address wants a category's emails and in-app notifications (default: yes).

    Keyed by address so that people without an account (guests) can unsubscribe too."""

    email = models.EmailField()
    category = models.CharField(max_length=50)
    email_enabled = models.BooleanField(default=True)
    in_app_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["email", "category"], name="preference_unique_email_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.category}"


class Branding(models.Model):
    """How this schema's emails look and who sends them (one row at most; defaults otherwise)."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    name = models.CharField(max_length=200, blank=True, help_text="Defaults to the tenant's name.")
    logo_url = models.URLField(blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    from_email = models.EmailField(blank=True, help_text="Defaults to DEFAULT_FROM_EMAIL.")
    reply_to = models.EmailField(blank=True)
    primary_color = models.CharField(max_length=7, default="#2563eb")
    footer = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "branding"

    def __str__(self) -> str:
        return self.name or "Branding"


class Notification(models.Model):
    """An in-app notification for one user."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,  # users live in the public schema
    )
    kind = models.CharField(max_length=100)
    category = models.CharField(max_length=50)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_created"),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_user_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} for {self.user_id}"
