"""Orders REST API: checkout, list and detail, state transitions, bulk status, reports."""

import csv
from datetime import datetime

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core import mongo
from core.pagination import DefaultCursorPagination, decode_cursor, encode_cursor
from orders import document_selectors, permissions, selectors, services
from orders.errors import InvalidOrderData
from orders.filters import OrderFilter
from orders.models import Order
from orders.serializers import (
    BulkResultSerializer,
    BulkStatusSerializer,
    CheckoutSerializer,
    OrderSalesRowSerializer,
    OrderSerializer,
    OrderStatsSerializer,
    ReportQuerySerializer,
    StatsQuerySerializer,
    TransitionSerializer,
)
from rbac.permissions import HasRBACPermission

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A retry with the same key and body returns the same order, never a second one.",
)


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders. Customers see their own; orders.order:read_all sees everyone's."""

    lookup_value_converter = "int"
    permission_classes = [HasRBACPermission]
    rbac_resource = permissions.RESOURCE
    rbac_actions = permissions.ORDER_ACTIONS
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    queryset = Order.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        """Orders, newest first, with filters. Staff lists (orders.order:read_all) are filtered
        and paged on the order documents in MongoDB and the page's rows read from PostgreSQL;
        a customer's own orders, searches, and any list while MongoDB does not answer are
        served by PostgreSQL alone (so a customer always sees an order they just placed)."""
        if (
            settings.ORDERS_READ_DOCUMENTS
            and not mongo.recently_failed()
            and not request.query_params.get("search", "").strip()
            and selectors.can_read_all(request.user)
        ):
            try:
                return self._list_from_documents(request)
            except mongo.MongoError:
                mongo.mark_failed()
        return super().list(request, *args, **kwargs)

    def _list_from_documents(self, request) -> Response:
        filterset = OrderFilter(request.query_params, queryset=Order.objects.none())
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        size = DefaultCursorPagination().get_page_size(request)
        after = None
        if raw := request.query_params.get("cursor"):
            cursor = decode_cursor(raw)
            if cursor["s"] != "documents":
                raise ValidationError({"cursor": ["Invalid cursor."]})
            try:
                after = (datetime.fromisoformat(cursor["v"]), cursor["i"])
            except ValueError as exc:
                raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
        ids, following = document_selectors.staff_orders_page(
            filters=filterset.form.cleaned_data, after=after, size=size
        )
        rows = Order.objects.in_bulk(ids)
        page = [rows[i] for i in ids if i in rows]
        url = request.build_absolute_uri()
        next_url = None
        if following is not None:
            token = encode_cursor(sort="documents", value=following[0], row_id=following[1])
            next_url = replace_query_param(url, "cursor", token)
        previous_url = remove_query_param(url, "cursor") if after is not None else None
        data = self.get_serializer(page, many=True).data
        return Response({"next": next_url, "previous": previous_url, "results": data})

    @extend_schema(
        request=CheckoutSerializer,
        responses={201: OrderSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        """Checkout: reserves the stock and places the order (prices come from the catalog)."""
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 255:
            raise InvalidOrderData(fields={"Idempotency-Key": ["At most 255 characters."]})
        serializer = CheckoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order, created = services.order_checkout(
            customer=request.user, idempotency_key=key, **serializer.validated_data
        )
        response = Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response

    def _transition(self, request) -> Response:
        """Moves the order to the status of this route (permissions.TRANSITION_ROUTES)."""
        order = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = services.order_transition(
            order_id=order.id,
            status=permissions.TRANSITION_ROUTES[self.action],
            actor=request.user,
            note=data["note"],
            reason=data["reason"],
            tracking_number=data["tracking_number"],
        )
        return Response(OrderSerializer(order).data)

    @extend_schema(request=TransitionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._transition(request)

    @extend_schema(request=TransitionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def process(self, request, pk=None):
        return self._transition(request)

    @extend_schema(request=TransitionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        return self._transition(request)

    @extend_schema(request=TransitionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        return self._transition(request)

    @extend_schema(request=TransitionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancels an order that has not shipped; its stock goes back to the catalog."""
        return self._transition(request)

    @extend_schema(request=TransitionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        return self._transition(request)

    @extend_schema(
        request=BulkStatusSerializer,
        responses=inline_serializer(
            "BulkStatusResult", {"results": BulkResultSerializer(many=True)}
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk-status")
    def bulk_status(self, request):
        """Moves many orders to one status; one result per id."""
        serializer = BulkStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        permissions.check_status_change(request.user, data["status"])
        results = services.orders_bulk_transition(
            order_ids=data["ids"],
            status=data["status"],
            actor=request.user,
            note=data["note"],
            reason=data["reason"],
        )
        return Response({"results": results})

    def _report_query(self, request, serializer=ReportQuerySerializer) -> dict:
        query = serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses={
            (200, "application/json"): inline_serializer(
                "SalesReport",
                {
                    "results": OrderSalesRowSerializer(many=True),
                    "source": serializers.ChoiceField(choices=["mongodb", "postgresql"]),
                },
            ),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    @action(detail=False, methods=["get"], url_path="reports/sales")
    def sales_report(self, request):
        """Sales per product per day (UTC): units, revenue, orders. `?export=csv` for a file."""
        query = self._report_query(request)
        filters = {
            "date_from": query.get("date_from"),
            "date_to": query.get("date_to"),
            "product_id": query.get("product_id"),
        }
        rows, source = document_selectors.from_documents(
            lambda: document_selectors.sales_by_product_day(**filters),
            lambda: selectors.sales_by_product_day(**filters),
        )
        if query.get("export") == "csv":
            columns = ["day", "product_id", "name", "sku", "units", "revenue", "orders"]
            return _csv_response("sales.csv", columns, ([row[c] for c in columns] for row in rows))
        return Response(
            {"results": OrderSalesRowSerializer(rows, many=True).data, "source": source}
        )

    @extend_schema(
        parameters=[StatsQuerySerializer],
        responses={
            (200, "application/json"): OrderStatsSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    @action(detail=False, methods=["get"], url_path="stats")
    def stats(self, request):
        """Totals, average order value, orders by status, revenue by month, top products, for
        a period (default: the last 30 days) and filters; from the order documents in MongoDB
        (PostgreSQL when MongoDB does not answer)."""
        return self._stats(request)

    @extend_schema(
        parameters=[StatsQuerySerializer],
        responses={
            (200, "application/json"): OrderStatsSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    @action(detail=False, methods=["get"], url_path="reports/stats")
    def stats_report(self, request):
        """The same figures as /orders/stats (kept at this path for existing clients)."""
        return self._stats(request)

    def _stats(self, request):
        query = self._report_query(request, StatsQuerySerializer)
        filters = {
            "date_from": query.get("date_from"),
            "date_to": query.get("date_to"),
            "top": query["top"],
            "payment_method": query.get("payment_method"),
            "product_id": query.get("product_id"),
        }
        stats, source = document_selectors.from_documents(
            lambda: document_selectors.order_stats(**filters),
            lambda: selectors.order_stats(**filters),
        )
        stats["source"] = source
        if query.get("export") == "csv":
            rows = [("totals", key, "", value) for key, value in stats["totals"].items()]
            rows += [("by_status", key, "", value) for key, value in stats["by_status"].items()]
            for month in stats["revenue_by_month"]:
                rows.append(("revenue_by_month", month["month"], month["orders"], month["revenue"]))
            for product in stats["top_products"]:
                rows.append(
                    ("top_products", product["product_id"], product["units"], product["revenue"])
                )
            return _csv_response("order-stats.csv", ["section", "key", "count", "value"], rows)
        return Response(OrderStatsSerializer(stats).data)
