"""Tables of the presence app: each user's last-seen time and whether they hide their presence.

The live state (who is connected right now) is in Redis, see presence.state."""

from django.conf import settings
from django.db import models


class PresenceStatus(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence_status"
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "presence statuses"

    def __str__(self) -> str:
        return f"presence of {self.user_id}"
