"""REST routes of orders, mounted by config.urls_tenant under /api/v1/orders/."""

from rest_framework.routers import SimpleRouter

from orders import views

router = SimpleRouter(use_regex_path=False)
router.register("", views.OrderViewSet, basename="order")

urlpatterns = router.urls
