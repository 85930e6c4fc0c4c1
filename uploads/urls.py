"""REST routes of the uploads app, mounted by config.urls_tenant under /api/v1/files/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from uploads import views

app_name = "uploads"

router = SimpleRouter(use_regex_path=False)
router.register("", views.FileViewSet, basename="file")

urlpatterns = [
    path("blob/<str:token>/", views.BlobView.as_view(), name="blob"),
    *router.urls,
]
