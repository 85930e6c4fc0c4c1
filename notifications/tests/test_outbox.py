"""The development outbox: `make run` keeps sent emails (files and rendered bodies on their
records) and the admin shows each message's HTML (sandboxed) and text, per workspace."""

import pytest
from django.db import connection
from django.test import Client

from config.devrun import DATA, run_env
from notifications import registry, services
from notifications.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

HOSTILE_HTML = (
    '<p class="lead">Hello &amp; welcome</p><script>parent.document.title="owned"</script>'
    '<a href="http://alpha.localhost/verify-email?token=abc">Verify</a>'
)


@pytest.fixture
def staff(make_user, tenant_a):
    user = make_user(email="staff@alpha.test", tenant=tenant_a, is_staff=True)
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def admin_client(staff, admin_login):
    client = Client()
    admin_login(client, staff, "alpha.localhost")
    return client


def test_make_run_keeps_emails_in_the_outbox_without_printing_them():
    env = run_env({"PATH": "/usr/bin"})
    assert env["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert env["EMAIL_FILE_PATH"] == str(DATA / "outbox")
    assert env["EMAIL_KEEP_BODIES"] == "true"


def test_make_run_honours_the_email_settings_it_is_given(tmp_path):
    smtp = run_env({"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"})
    assert smtp["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert "EMAIL_FILE_PATH" not in smtp
    files = run_env({"EMAIL_FILE_PATH": str(tmp_path), "EMAIL_KEEP_BODIES": "false"})
    assert files["EMAIL_FILE_PATH"] == str(tmp_path)
    assert files["EMAIL_KEEP_BODIES"] == "false"


@pytest.mark.parametrize("keep", [True, False])
def test_the_rendered_bodies_are_kept_only_when_asked(
    keep, in_a, settings, django_capture_on_commit_callbacks, celery_eager
):
    settings.EMAIL_KEEP_BODIES = keep
    with django_capture_on_commit_callbacks(execute=True):
        message = services.email_send(
            to="ann@example.com",
            template="verify_email",
            context=registry.TEMPLATES["verify_email"].example,
        )
    message.refresh_from_db()
    assert message.status == "sent" and message.context == {}  # the context is still dropped
    if keep:
        assert "token=" in message.body_text and "token=" in message.body_html
        assert message.body_html.lstrip().lower().startswith(("<!doctype", "<html"))
    else:
        assert message.body_text == "" and message.body_html == ""


def test_the_message_page_shows_the_html_sandboxed_and_the_text(admin_client, tenant_a):
    connection.set_tenant(tenant_a)
    message = MessageFactory(body_html=HOSTILE_HTML, body_text="Hello <Ann>\nVerify: token=abc")
    connection.set_schema_to_public()

    response = admin_client.get(
        f"/admin/notifications/message/{message.pk}/change/", HTTP_HOST="alpha.localhost"
    )
    page = response.content.decode()
    assert response.status_code == 200
    # The HTML only ever reaches the page escaped into the srcdoc of a sandboxed frame.
    srcdoc = (
        "&lt;p class=&quot;lead&quot;&gt;Hello &amp;amp; welcome&lt;/p&gt;"
        "&lt;script&gt;parent.document.title=&quot;owned&quot;&lt;/script&gt;"
    )
    assert f'<iframe sandbox srcdoc="{srcdoc}' in page
    assert "<script>parent.document" not in page and '<p class="lead">' not in page
    assert '<pre style="white-space: pre-wrap">Hello &lt;Ann&gt;\nVerify: token=abc</pre>' in page


def test_a_message_without_kept_bodies_says_so(admin_client, tenant_a):
    connection.set_tenant(tenant_a)
    message = MessageFactory()
    connection.set_schema_to_public()
    response = admin_client.get(
        f"/admin/notifications/message/{message.pk}/change/", HTTP_HOST="alpha.localhost"
    )
    assert response.status_code == 200
    assert "<iframe" not in response.content.decode()
    assert "Not kept" in response.content.decode()


def test_a_workspace_admin_never_shows_another_workspace_messages(admin_client, tenant_a, tenant_b):
    connection.set_tenant(tenant_b)
    theirs = MessageFactory(
        to_email="bob@beta.test", subject="Beta secret", body_text="beta body", body_html="<p>b</p>"
    )
    connection.set_tenant(tenant_a)
    ours = MessageFactory(to_email="ann@alpha.test")
    connection.set_schema_to_public()
    host = {"HTTP_HOST": "alpha.localhost"}

    listing = admin_client.get("/admin/notifications/message/", **host).content.decode()
    assert "ann@alpha.test" in listing and "bob@beta.test" not in listing
    searched = admin_client.get("/admin/notifications/message/?q=beta", **host).content.decode()
    assert "bob@beta.test" not in searched
    # Beta's message id on alpha's admin: not found there (redirected with a notice), no body.
    response = admin_client.get(
        f"/admin/notifications/message/{theirs.pk}/change/", follow=True, **host
    )
    page = response.content.decode()
    assert "beta body" not in page and "Beta secret" not in page
    assert str(ours.pk) != str(theirs.pk)
    # Alpha's staff signed in on alpha only: beta's admin does not let them in.
    other = admin_client.get(
        f"/admin/notifications/message/{theirs.pk}/change/", HTTP_HOST="beta.localhost"
    )
    assert other.status_code in (302, 403)
    assert b"beta body" not in other.content


def test_the_platform_admin_shows_sign_up_emails(staff, admin_login):
    client = Client()
    admin_login(client, staff, "localhost")
    message = MessageFactory(to_email="new@owner.test", body_text="Confirm: token=xyz")

    response = client.get(
        f"/admin/notifications/message/{message.pk}/change/", HTTP_HOST="localhost"
    )
    assert response.status_code == 200 and "Confirm: token=xyz" in response.content.decode()
