"""REST routes of the catalog, mounted by config.urls_tenant under /api/v1/catalog/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog import views

router = SimpleRouter(use_regex_path=False)
router.register("products", views.ProductViewSet, basename="product")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("tags", views.TagViewSet, basename="tag")
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = [
    path("analytics/top-products/", views.TopProductsView.as_view(), name="top-products"),
    *router.urls,
]
