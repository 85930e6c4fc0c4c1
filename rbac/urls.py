"""REST routes of this app, mounted by config.urls_tenant under /api/v1/."""

urlpatterns: list = []
