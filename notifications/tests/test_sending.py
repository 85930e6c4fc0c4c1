"""Queueing on commit, delivery by the Celery task, retries, suppression and preferences."""

import pytest
from django.core import mail
from django.db import connection, transaction

from core.tasks import backoff_countdown
from notifications import registry, services, tasks
from notifications.models import Message, Notification
from notifications.services import emails
from notifications.tasks import send_email

pytestmark = pytest.mark.django_db

ORDER = registry.TEMPLATES["order_status_changed"].example


def send_order_email(**kwargs):
    return services.email_send(
        to=kwargs.pop("to", "Ann@Example.com"),
        template="order_status_changed",
        context=ORDER,
        **kwargs,
    )


def test_the_email_is_queued_on_commit_to_the_high_queue_with_the_schema(
    in_a, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(send_email, "apply_async", lambda **kw: queued.append(kw))
    with django_capture_on_commit_callbacks() as callbacks:
        message = send_order_email()
        assert queued == []  # nothing before the commit
    assert message.status == "queued" and message.to_email == "ann@example.com"
    assert message.category == "orders" and message.base_url == "http://alpha.localhost"
    for callback in callbacks:
        callback()
    assert queued == [{"args": [str(message.pk)], "headers": {"_schema_name": "alpha"}}]
    route = send_email.app.amqp.router.route({}, send_email.name, args=(), kwargs={})
    assert route["queue"].name == "high"


def test_nothing_is_queued_or_sent_when_the_transaction_rolls_back(
    in_a, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                send_order_email()
                raise RuntimeError("the order could not be saved")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []
    assert not Message.objects.exists()


def test_the_task_sends_both_parts_with_the_unsubscribe_headers(
    in_a, django_capture_on_commit_callbacks, celery_eager, provider
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_order_email()
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 1 and message.sent_at
    assert message.provider_message_id.endswith("@mg.example.com>")
    assert message.subject == "Order A-1001 is shipped"
    [email] = mail.outbox
    assert email.to == ["ann@example.com"]
    assert email.from_email == "Alpha Corp via Platform <no-reply@localhost>"
    assert "Your order A-1001 is now shipped." in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and "<strong>A-1001</strong>" in html
    unsubscribe = email.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://alpha.localhost/api/v1/notifications/unsubscribe/")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.metadata == {"schema": "alpha", "message": str(message.pk)}


def test_account_emails_carry_no_unsubscribe_link(
    in_a, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        services.email_send(
            to="ann@example.com", template="password_changed", context={"name": "Ann"}
        )
    [email] = mail.outbox
    assert "List-Unsubscribe" not in email.extra_headers
    assert "unsubscribe" not in email.body.lower()


def test_a_provider_error_is_retried_with_backoff_then_sent(
    in_a, django_capture_on_commit_callbacks, celery_eager, provider, monkeypatch
):
    countdowns = []
    original_retry = send_email.retry

    def retry(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return original_retry(*args, **kwargs)

    monkeypatch.setattr(send_email, "retry", retry)
    policy_calls = []

    def policy(retries):
        policy_calls.append(retries)
        return backoff_countdown(retries)

    monkeypatch.setattr(tasks, "backoff_countdown", policy)
    celery_eager.conf.task_eager_propagates = False  # let apply() run the retries
    provider.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        message = send_order_email()
    message.refresh_from_db()
    assert provider.calls == 3
    assert message.status == "sent" and message.attempts == 3 and message.error == ""
    assert len(mail.outbox) == 1
    assert len(countdowns) == 2 and all(0 <= c <= 600 for c in countdowns)
    assert policy_calls == [0, 1]  # the platform's one backoff policy (core.tasks)


def test_the_message_fails_after_the_last_attempt(
    in_a, django_capture_on_commit_callbacks, celery_eager, provider, settings
):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "MAX_ATTEMPTS": 3}
    celery_eager.conf.task_eager_propagates = False
    provider.failures = 10
    with django_capture_on_commit_callbacks(execute=True):
        message = send_order_email()
    message.refresh_from_db()
    assert provider.calls == 3
    assert message.status == "failed" and message.attempts == 3 and message.failed_at
    assert "AnymailAPIError" in message.error and "503" in message.error
    assert mail.outbox == []


def test_the_task_is_idempotent(in_a, provider):
    message = send_order_email()
    for _ in range(2):
        send_email.apply(args=[str(message.pk)], headers={"_schema_name": "alpha"})
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 1
    assert len(mail.outbox) == 1


def test_suppressed_addresses_are_not_sent_to(
    in_a, django_capture_on_commit_callbacks, celery_eager
):
    services.suppression_add(email="gone@example.com", reason="bounce")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = send_order_email(to="Gone@example.com")
        reset = services.email_send(
            to="gone@example.com", template="password_reset", context={"link": "http://x/?t=1"}
        )
    assert callbacks == [] and mail.outbox == []
    assert message.status == reset.status == "suppressed"
    assert "suppression list" in message.error
    assert reset.context == {} and reset.context_redacted  # the link is not kept


def test_a_suppression_added_while_queued_is_respected_at_send_time(in_a):
    message = send_order_email(to="late@example.com")
    services.suppression_add(email="late@example.com", reason="complaint")
    send_email.apply(args=[str(message.pk)], headers={"_schema_name": "alpha"})
    message.refresh_from_db()
    assert message.status == "suppressed" and mail.outbox == []


def test_the_suppression_list_is_platform_wide(in_a, tenant_b):
    services.suppression_add(email="x@example.com", reason="bounce")
    connection.set_tenant(tenant_b)
    assert services.is_suppressed("X@example.com")


def test_preferences_are_honoured_except_for_essential_categories(
    in_a, django_capture_on_commit_callbacks, celery_eager
):
    services.preference_set(email="ann@example.com", category="orders", email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        order = send_order_email()
        security = services.email_send(
            to="ann@example.com", template="password_changed", context={"name": "Ann"}
        )
    assert order.status == "suppressed" and "unsubscribed" in order.error
    security.refresh_from_db()
    assert security.status == "sent"
    assert [m.subject for m in mail.outbox] == ["Your password was changed"]


def test_one_time_links_are_not_kept_after_sending_and_cannot_be_resent(
    in_a, django_capture_on_commit_callbacks, celery_eager, notifications_state
):
    from notifications.errors import MessageNotResendable

    with django_capture_on_commit_callbacks(execute=True):
        message = services.email_send(
            to="ann@example.com",
            template="password_reset",
            context={"name": "Ann", "link": "http://alpha.localhost/reset?token=secret"},
        )
    message.refresh_from_db()
    assert "token=secret" in mail.outbox[0].body
    assert message.status == "sent" and message.context == {} and message.context_redacted
    before = notifications_state()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(MessageNotResendable),
    ):
        services.message_resend(message=message)
    assert callbacks == [] and notifications_state() == before


def test_resend_queues_a_copy(in_a, django_capture_on_commit_callbacks, celery_eager):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_order_email()
    with django_capture_on_commit_callbacks(execute=True):
        copy = services.message_resend(message=message)
    copy.refresh_from_db()
    assert copy.pk != message.pk and copy.resent_from == message and copy.status == "sent"
    assert len(mail.outbox) == 2


def test_a_template_error_fails_the_message_without_retrying(in_a, monkeypatch):
    message = send_order_email()

    def broken(**kwargs):
        raise ValueError("template is broken")

    monkeypatch.setattr(emails, "render_email", broken)
    send_email.apply(args=[str(message.pk)], headers={"_schema_name": "alpha"})
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 1
    assert "template is broken" in message.error


def test_unknown_templates_are_refused_at_once(
    in_a, django_capture_on_commit_callbacks, notifications_state
):
    before = notifications_state()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValueError):
        services.email_send(to="a@example.com", template="nope")
    assert callbacks == [] and notifications_state() == before


def test_sign_up_emails_are_recorded_in_the_public_schema(
    db, django_capture_on_commit_callbacks, celery_eager
):
    assert connection.schema_name == "public"
    with django_capture_on_commit_callbacks(execute=True):
        message = services.email_send(
            to="founder@example.com", template="already_registered", context={"name": "F"}
        )
    message.refresh_from_db()
    assert message.status == "sent" and message.base_url == "http://localhost"
    assert mail.outbox[0].from_email == "Platform <no-reply@localhost>"


def test_notify_sends_the_email_and_stores_the_in_app_notification(
    in_a, make_user, django_capture_on_commit_callbacks, celery_eager
):
    user = make_user(email="ann@example.com", name="Ann", tenant=in_a)
    with django_capture_on_commit_callbacks(execute=True):
        message, notification = services.notify(
            user=user, template="order_status_changed", context=ORDER
        )
    assert message.user == user and len(mail.outbox) == 1
    assert notification.title == "Order A-1001 is shipped" and notification.url == "/orders/A-1"

    services.preference_set(email=user.email, category="orders", email_enabled=False, in_app=False)
    message, notification = services.notify(
        user=user, template="order_status_changed", context=ORDER
    )
    assert message is None and notification is None
    assert Notification.objects.filter(user=user).count() == 1
