"""Receiver of anymail's tracking signal: hands each normalized provider event to the service.

Anymail's webhook views (mounted on the public host, see notifications/urls_public.py) check the
basic-auth secret and the provider's signature before sending the signal."""

from anymail.signals import AnymailTrackingEvent

from notifications import services


def tracking_received(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    raw = event.esp_event
    services.tracking_event_record(
        event_type=event.event_type,
        recipient=event.recipient or "",
        provider_message_id=event.message_id or "",
        event_id=event.event_id or "",
        timestamp=event.timestamp,
        metadata=event.metadata if isinstance(event.metadata, dict) else {},
        reject_reason=event.reject_reason or "",
        description=event.description or event.mta_response or "",
        payload={"esp": esp_name, "event": raw if isinstance(raw, dict) else str(raw)[:5000]},
    )
