"""Email backends for tests: a provider that fails a number of times before accepting."""

import uuid

from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailStatus
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class ProviderBackend(LocmemBackend):
    """Like a provider's backend: records the messages in mail.outbox and gives each a
    provider message id (anymail_status), after failing `failures` times with an API error."""

    failures = 0
    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).failures > 0:
            type(self).failures -= 1
            raise AnymailAPIError("Service unavailable (HTTP 503)")
        for message in messages:
            status = AnymailStatus()
            status.set_recipient_status({})
            status.message_id = f"<{uuid.uuid4().hex}@mg.example.com>"
            message.anymail_status = status
        return super().send_messages(messages)
