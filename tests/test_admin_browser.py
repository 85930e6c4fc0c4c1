"""The back office in a real browser: Chromium signs in to the platform and workspace admin
sites through the accounts services (TOTP, lockout), sees what RBAC grants, and gets form errors
for stale edits."""

import shutil
import threading
from contextlib import contextmanager
from decimal import Decimal

import pyotp
import pytest

from tests.live import uvicorn_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed"),
]


ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _forget_users(emails: list[str]) -> None:
    """Rows the sign-ins wrote (sessions, events, memberships, MFA) go before their users:
    raw deletes, as the ORM's cascade would look for tenant tables from the public schema."""
    from accounts.models import RecoveryCode, SecurityEvent, Session, TotpDevice, User
    from tenants.models import Membership

    for model, lookup in (
        (Session, "user__email__in"),
        (SecurityEvent, "email__in"),
        (SecurityEvent, "user__email__in"),
        (TotpDevice, "user__email__in"),
        (RecoveryCode, "user__email__in"),
        (Membership, "user__email__in"),
        (User, "email__in"),
    ):
        rows = model.objects.filter(**{lookup: emails})
        rows._raw_delete(rows.db)


@pytest.fixture
def browser_users(django_db_setup, django_db_blocker, password):
    """browser_users(email, tenant=None, role=None, **fields) -> a committed, verified user
    (a member of tenant with role), removed with everything its sign-ins wrote afterwards."""
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import membership_set
    from tenants.models import Tenant

    emails: list[str] = []

    def make(email: str, *, tenant: str | None = None, role: str = "member", **fields):
        emails.append(email)
        with django_db_blocker.unblock():
            fields.setdefault("email_verified_at", timezone.now())
            user = User.objects.create_user(email=email, password=password, **fields)
            if tenant:
                membership_set(user=user, tenant=Tenant.objects.get(slug=tenant), role=role)
        return user

    yield make
    with django_db_blocker.unblock():
        _forget_users(emails)


@pytest.fixture
def staff_user(browser_users):
    return browser_users("browser-admin@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def beside_browser(django_db_blocker):
    """beside_browser(fn, *args) runs fn on the alpha schema in its own thread, and closes that
    thread's connection: Playwright's sync API keeps an event loop in the test's thread, where
    Django refuses (and would leak) database connections while the browser is open."""
    from django.db import connections
    from django_tenants.utils import schema_context

    def run(fn, *args):
        result = {}

        def work():
            try:
                with django_db_blocker.unblock(), schema_context("alpha"):
                    result["value"] = fn(*args)
            except BaseException as exc:  # re-raised in the test's thread
                result["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]
        return result.get("value")

    return run


@contextmanager
def _browser():
    from playwright.sync_api import sync_playwright

    with uvicorn_server() as port, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser, port
        finally:
            browser.close()


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")


def test_admin_login_in_chromium_on_public_and_tenant_hosts(staff_user, password):
    from playwright.sync_api import sync_playwright

    with uvicorn_server() as port, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            # Platform admin on the public host: tenants are listed.
            page.goto(f"http://localhost:{port}/admin/login/")
            page.fill("input[name=username]", staff_user.email)
            page.fill("input[name=password]", password)
            page.click("input[type=submit]")
            page.wait_for_url(f"http://localhost:{port}/admin/")
            assert "Site administration" in page.content()
            page.goto(f"http://localhost:{port}/admin/tenants/tenant/")
            assert "Alpha Corp" in page.content() and "Beta Inc" in page.content()

            # A wrong password on a tenant host shows the admin's error, not a crash.
            page = browser.new_page()
            page.goto(f"http://alpha.localhost:{port}/admin/login/")
            page.fill("input[name=username]", staff_user.email)
            page.fill("input[name=password]", "wrong-password")
            page.click("input[type=submit]")
            error = page.wait_for_selector(".errornote")
            assert "Please enter the correct email address and password" in error.inner_text()

            # Tenant admin: logs in; platform-wide models are not offered there.
            page.fill("input[name=password]", password)
            page.click("input[type=submit]")
            page.wait_for_url(f"http://alpha.localhost:{port}/admin/")
            assert "Site administration" in page.content()
            assert "Tenants" not in page.inner_text("#content-main")
        finally:
            browser.close()


def test_platform_staff_signs_in_with_totp_in_chromium(browser_users, password, django_db_blocker):
    from django.utils import timezone

    from accounts.models import TotpDevice

    staff = browser_users("totp-staff@example.com", is_staff=True, is_superuser=True)
    secret = pyotp.random_base32()
    with django_db_blocker.unblock():
        TotpDevice.objects.create(user=staff, secret=secret, confirmed_at=timezone.now())

    with _browser() as (browser, port):
        base = f"http://localhost:{port}"
        page = browser.new_page()
        _sign_in(page, base, staff.email, password)
        # The password alone does not open the admin: the second step asks for a code.
        page.wait_for_selector("input[name=code]")
        page.goto(f"{base}/admin/")
        assert "/admin/login/" in page.url

        _sign_in(page, base, staff.email, password)
        page.fill("input[name=code]", "000000")
        page.click("input[type=submit]")
        assert "The code is incorrect." in page.inner_text(".errornote")
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        assert "Tenants" in page.inner_text("#content-main")


def test_repeated_failures_lock_the_admin_in_chromium(browser_users, password):
    user = browser_users("locked-staff@example.com", is_staff=True)
    with _browser() as (browser, port):
        base = f"http://localhost:{port}"
        page = browser.new_page()
        for _ in range(5):
            _sign_in(page, base, user.email, "Wrong-password-1")
            page.wait_for_selector(".errornote")
        assert "locked" in page.inner_text(".errornote")
        # Even the right password is refused while the lock lasts.
        _sign_in(page, base, user.email, password)
        assert "locked" in page.inner_text(".errornote")
        page.goto(f"{base}/admin/")
        assert "/admin/login/" in page.url


def test_a_workspace_owner_sees_only_their_workspace_and_gets_a_stale_edit_error(
    browser_users, password, django_db_blocker, beside_browser
):
    from django_tenants.utils import schema_context

    from catalog import services as catalog_services
    from catalog.models import Product

    owner = browser_users("browser-owner@alpha.test", tenant="alpha", role="owner")
    with django_db_blocker.unblock(), schema_context("alpha"):
        product = catalog_services.product_create(
            name="Browser mug", sku="BROWSER-MUG-1", price=Decimal("12.00")
        )
    try:
        with _browser() as (browser, port):
            base = f"http://alpha.localhost:{port}"
            page = browser.new_page()
            _sign_in(page, base, owner.email, password)
            page.wait_for_url(f"{base}/admin/")
            models = page.inner_text("#content-main")
            assert "Products" in models and "Orders" in models
            for platform in ("Tenants", "Users", "Periodic tasks", "Task results"):
                assert platform not in models, platform
            assert "Low stock" in page.inner_text("#dashboard")

            page.goto(f"{base}/admin/catalog/product/{product.pk}/change/")
            page.fill("input[name=name]", "Mine")
            beside_browser(
                lambda: catalog_services.product_update(
                    product_id=product.pk, expected_version=product.version, data={"name": "Theirs"}
                )
            )
            page.click("input[name=_save]")
            assert "Please correct the error below." in page.inner_text(".errornote")
            errors = " ".join(page.locator(".errorlist").all_inner_texts())
            assert "Someone else changed this product" in errors
            assert beside_browser(lambda: Product.objects.get(pk=product.pk).name) == "Theirs"
    finally:
        with django_db_blocker.unblock(), schema_context("alpha"):
            rows = Product.objects.filter(pk=product.pk)
            rows._raw_delete(rows.db)


def test_a_manager_sees_what_rbac_grants_and_loses_it_in_chromium(
    browser_users, password, django_db_blocker, beside_browser
):
    from django_tenants.utils import schema_context

    from rbac.models import Role, RoleAssignment
    from rbac.services import assignment_create, assignment_delete

    manager = browser_users("browser-manager@alpha.test", tenant="alpha", role="manager")
    try:
        with _browser() as (browser, port):
            base = f"http://alpha.localhost:{port}"
            page = browser.new_page()
            _sign_in(page, base, manager.email, password)
            page.wait_for_url(f"{base}/admin/")
            models = page.inner_text("#content-main")
            assert "Products" in models
            assert "Audit entries" not in models  # the audit log is granted to admins only

            assignment = beside_browser(
                lambda: assignment_create(
                    actor=None, user=manager, role=Role.objects.get(name="admin")
                )
            )
            page.reload()
            assert "Audit entries" in page.inner_text("#content-main")

            beside_browser(lambda: assignment_delete(actor=None, assignment=assignment))
            page.reload()
            assert "Audit entries" not in page.inner_text("#content-main")
            response = page.goto(f"{base}/admin/rbac/auditentry/")
            assert response.status == 403
    finally:
        with django_db_blocker.unblock(), schema_context("alpha"):
            rows = RoleAssignment.objects.filter(user_id=manager.pk)
            rows._raw_delete(rows.db)
