"""The back office in a real browser: Chromium logs in to the platform and tenant admin sites."""

import shutil

import pytest

from tests.live import uvicorn_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def staff_user(committed, password):
    from accounts.models import User

    return committed(
        lambda: User.objects.create_superuser(email="browser-admin@example.com", password=password)
    )


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
