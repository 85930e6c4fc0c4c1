"""Every template renders both parts (and its in-app version) from one context, with branding."""

import pytest

from notifications import registry
from notifications.rendering import brand_current, render_email, render_in_app
from notifications.services import branding_update

pytestmark = pytest.mark.django_db

BASE = "http://alpha.localhost"


@pytest.mark.parametrize("name", sorted(registry.TEMPLATES))
def test_every_template_renders_subject_text_and_html_from_its_example(in_a, name):
    spec = registry.TEMPLATES[name]
    rendered, unsubscribe = render_email(
        template=name, context=spec.example, to_email="ann@example.com", base_url=BASE
    )
    assert rendered.subject and "\n" not in rendered.subject and "{" not in rendered.subject
    assert "Hello Ann," in rendered.text and "Hello Ann," in rendered.html
    assert rendered.html.lstrip().startswith("<!doctype html>")
    assert f"<title>{rendered.subject}" in rendered.html or "&" in rendered.subject
    # The shared layout: the tenant's name in both parts.
    assert "Alpha Corp" in rendered.text and "Alpha Corp" in rendered.html
    # No context value was left out of either part.
    for key, value in spec.example.items():
        if isinstance(value, str) and key not in ("url",):
            assert value in rendered.text, (name, key)
    # Text is not HTML-escaped; HTML is.
    assert "&amp;" not in rendered.text and "<p>" not in rendered.text
    if registry.is_essential(spec.category):
        assert unsubscribe is None and "Unsubscribe" not in rendered.html
    else:
        assert unsubscribe.startswith(f"{BASE}/api/v1/notifications/unsubscribe/")
        assert unsubscribe in rendered.text and unsubscribe in rendered.html
    if spec.in_app:
        title, _ = render_in_app(template=name, context=spec.example)
        assert title and "{" not in title


def test_values_are_escaped_in_html_only(in_a):
    context = {"name": "<b>Ann</b> & co", "headline": "A & B", "text": "<script>x</script>"}
    rendered, _ = render_email(
        template="product_update", context=context, to_email="a@example.com", base_url=BASE
    )
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>x</script>" in rendered.text and "Hello <b>Ann</b> & co," in rendered.text
    assert rendered.subject == "A & B"


def test_branding_of_the_tenant_shows_in_both_parts_and_the_sender(in_a):
    assert brand_current().from_email == "Alpha Corp via Platform <no-reply@localhost>"
    branding_update(
        data={
            "name": "Alpha Shop",
            "logo_url": "https://cdn.example.com/alpha.png",
            "from_name": "Alpha Support",
            "from_email": "hello@alpha.example.com",
            "footer": "1 Main Street, Springfield",
        }
    )
    brand = brand_current()
    assert brand.from_email == "Alpha Support via Platform <hello@alpha.example.com>"
    rendered, _ = render_email(
        template="order_status_changed",
        context=registry.TEMPLATES["order_status_changed"].example,
        to_email="a@example.com",
        base_url=BASE,
    )
    assert 'src="https://cdn.example.com/alpha.png"' in rendered.html
    assert "Alpha Shop" in rendered.text and "1 Main Street, Springfield" in rendered.text


def test_sender_domains_are_enforced_when_configured(in_a, settings, notifications_state):
    from notifications.errors import SenderNotAllowed

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SENDER_DOMAINS": ["mail.example.com"]}
    before = notifications_state()
    with pytest.raises(SenderNotAllowed):
        branding_update(data={"from_email": "ceo@gmail.com"})
    assert notifications_state() == before
    branding_update(data={"name": "Alpha Shop"})
    before = notifications_state()
    with pytest.raises(SenderNotAllowed):
        branding_update(data={"name": "Renamed", "from_email": "ceo@gmail.com"})
    assert notifications_state() == before
    assert branding_update(data={"from_email": "shop@mail.example.com"}).from_email


def test_the_public_schema_uses_the_platform_sender(db):
    assert brand_current().from_email == "Platform <no-reply@localhost>"


def test_the_checkout_email_does_not_call_a_pending_order_confirmed(in_a):
    spec = registry.TEMPLATES["order_confirmation"]
    rendered, _ = render_email(
        template="order_confirmation", context=spec.example, to_email="a@example.com", base_url=BASE
    )
    assert rendered.subject == "Order A-1001 received"
    assert "confirmed" not in rendered.text.lower()
