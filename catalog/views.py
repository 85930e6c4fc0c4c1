"""Catalog REST API: products, categories, tags, reviews, stock and analytics."""

import re

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from catalog import list_cache, selectors, services
from catalog.errors import InvalidCatalogData, ProductNotFound
from catalog.filters import ProductFilter
from catalog.pagination import ProductPagination
from catalog.permissions import (
    PRODUCT_ACTIONS,
    CatalogPermission,
    ReviewPermission,
    can_see_cost,
)
from catalog.serializers import (
    BulkUpdateSerializer,
    CategorySerializer,
    InventoryMovementSerializer,
    ProductSerializer,
    ProductWriteSerializer,
    ReviewSerializer,
    ReviewUpdateSerializer,
    SearchQuerySerializer,
    SearchResultSerializer,
    StockAdjustSerializer,
    TagSerializer,
    TopProductSerializer,
    TopProductsQuerySerializer,
    product_row_representation,
)
from core.pagination import cursor_pagination, paginated_response

MovementPagination = cursor_pagination("-created_at", name="MovementPagination")
_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def _etag(version: int) -> str:
    return f'"{version}"'


def _expected_version(request, body_version: int | None) -> int | None:
    """The version the client edited: If-Match wins over a `version` field in the body."""
    header = request.headers.get("If-Match", "").strip()
    if header:
        match = _ETAG.match(header)
        if match is None:
            raise InvalidCatalogData(fields={"If-Match": ['Send the ETag, e.g. "3".']})
        return int(match.group(1))
    return body_version


class ProductViewSet(viewsets.GenericViewSet):
    """Products. Lists are keyset-paginated (`ordering`, `cursor`) and filterable."""

    lookup_value_converter = "int"
    permission_classes = [CatalogPermission]
    rbac_resource = "catalog.product"
    rbac_actions = PRODUCT_ACTIONS
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    pagination_class = ProductPagination
    queryset = selectors.product_list()

    def get_queryset(self):
        return selectors.product_list()

    def _product_response(self, product_id: int, status_code=status.HTTP_200_OK) -> Response:
        row = selectors.product_row(product_id=product_id)
        if row is None:
            raise ProductNotFound()
        response = Response(self._represent(row), status=status_code)
        response["ETag"] = _etag(row["version"])
        return response

    def _context(self) -> dict:
        return {"show_cost": can_see_cost(self.request.user)}

    def _represent(self, row: dict) -> dict:
        return product_row_representation(row, show_cost=can_see_cost(self.request.user))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                description="The ETag of a page already held: 304 while it is unchanged.",
            )
        ],
        responses={
            200: ProductSerializer(many=True),
            304: OpenApiResponse(description="Unchanged."),
        },
    )
    def list(self, request):
        show_cost = can_see_cost(request.user)
        # Rendered pages are kept per catalog version (list_cache); JSON only (not the browsable
        # API of DEBUG).
        # Pages are kept only for query strings made of the list's own parameters: each other
        # name would make a new key (the page's links repeat it) for the same rows.
        cacheable = request.accepted_renderer.format == "json" and list_cache.names_only(
            request, self._list_params()
        )
        version = list_cache.catalog_version() if cacheable else None
        if version is None:
            return self._list_page(request, show_cost=show_cost)
        key = list_cache.page_key(version=version, request=request, show_cost=show_cost)
        if list_cache.client_holds(request, key=key):
            return list_cache.not_modified(key=key)
        body = list_cache.page_get(key)
        if body is None:
            page = self._list_page(request, show_cost=show_cost)
            body = request.accepted_renderer.render(
                page.data, request.accepted_media_type, self.get_renderer_context()
            )
            list_cache.page_set(key, body)
        return list_cache.page_response(key=key, body=body)

    def _list_params(self) -> set[str]:
        paginator = self.pagination_class
        return {
            *self.filterset_class.base_filters,
            paginator.cursor_query_param,
            paginator.page_size_query_param,
            paginator.ordering_query_param,
        }

    def _list_page(self, request, *, show_cost: bool) -> Response:
        # Plain rows, not model instances (selectors.product_values).
        paginator = self.pagination_class()
        products = self.filter_queryset(selectors.product_list(with_tags=False))
        page = paginator.paginate_queryset(selectors.product_values(products), request, view=self)
        return paginator.get_paginated_response(
            [
                product_row_representation(row, show_cost=show_cost)
                for row in selectors.with_tag_summaries(page)
            ]
        )

    def retrieve(self, request, pk: int):
        product_id = _int_pk(pk)
        row = selectors.product_row(product_id=product_id)
        if row is None:
            raise ProductNotFound()
        services.product_view_record(product_id=product_id)
        response = Response(self._represent(row))
        response["ETag"] = _etag(row["version"])
        return response

    @extend_schema(request=ProductWriteSerializer, responses={201: ProductSerializer})
    def create(self, request):
        serializer = ProductWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        product = services.product_create(**data)
        return self._product_response(product.id, status.HTTP_201_CREATED)

    def _update(self, request, pk, *, partial: bool) -> Response:
        serializer = ProductWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = _expected_version(request, data.pop("version", None))
        product = services.product_update(
            product_id=_int_pk(pk), expected_version=version, data=data
        )
        return self._product_response(product.id)

    @extend_schema(
        request=ProductWriteSerializer,
        responses={200: ProductSerializer},
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER)],
    )
    def update(self, request, pk):
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=ProductWriteSerializer,
        responses={200: ProductSerializer},
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER)],
    )
    def partial_update(self, request, pk):
        return self._update(request, pk, partial=True)

    def destroy(self, request, pk):
        services.product_delete(product_id=_int_pk(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: ProductSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk):
        product = services.product_restore(product_id=_int_pk(pk))
        return self._product_response(product.id)

    @extend_schema(request=BulkUpdateSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="bulk-update")
    def bulk_update(self, request):
        serializer = BulkUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results = services.product_bulk_update(items=serializer.validated_data["items"])
        summary: dict[str, int] = {}
        for row in results:
            summary[row["status"]] = summary.get(row["status"], 0) + 1
        return Response({"summary": summary, "results": results})

    @extend_schema(request=StockAdjustSerializer, responses={200: InventoryMovementSerializer})
    @action(detail=True, methods=["post"])
    def stock(self, request, pk):
        serializer = StockAdjustSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        quantity = data["quantity"] if data["action"] == "add" else -data["quantity"]
        movement = services.stock_adjust(
            product_id=_int_pk(pk),
            quantity=quantity,
            reason=data["reason"],
            reference=data.get("reference", ""),
            note=data.get("note", ""),
            user=request.user,
        )
        return Response(InventoryMovementSerializer(movement).data)

    @extend_schema(responses={200: InventoryMovementSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=MovementPagination)
    def movements(self, request, pk):
        product_id = _int_pk(pk)
        if not selectors.product_list().filter(id=product_id).exists():
            raise ProductNotFound()
        return paginated_response(
            pagination_class=self.pagination_class,
            serializer_class=InventoryMovementSerializer,
            queryset=selectors.movements_for_product(product_id=product_id),
            request=request,
            view=self,
        )

    @extend_schema(parameters=[SearchQuerySerializer], responses={200: SearchResultSerializer})
    @action(detail=False, methods=["get"])
    def search(self, request):
        """Ranked full-text search (name, SKU, description) with a typo-tolerant fallback.

        Accepts the list filters too. Paged by offset within the ranking window (1,000):
        relevance has no keyset. `partial` says the words matched more products than that.
        """
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q, limit, offset = (params.validated_data[k] for k in ("q", "limit", "offset"))
        queryset = self.filter_queryset(selectors.product_list(with_tags=False))
        found = selectors.product_search(queryset=queryset, text=q, limit=limit + 1, offset=offset)
        products = found["products"]
        more = len(products) > limit
        products = products[:limit]
        context = {
            "tags": selectors.tag_summaries_by_product(product_ids=[p.id for p in products]),
            **self._context(),
        }
        next_url = None
        if more and offset + limit < selectors.SEARCH_WINDOW:
            next_url = replace_query_param(request.build_absolute_uri(), "offset", offset + limit)
        return Response(
            {
                "mode": found["mode"],
                "query": found["query"],
                "partial": found["partial"],
                "next": next_url,
                "results": [
                    {**data, "rank": round(float(p.rank), 4)}
                    for p, data in zip(
                        products,
                        ProductSerializer(products, many=True, context=context).data,
                        strict=True,
                    )
                ],
            }
        )


def _int_pk(pk) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError) as exc:
        raise ProductNotFound() from exc


class CategoryViewSet(viewsets.ModelViewSet):
    lookup_value_converter = "int"
    permission_classes = [CatalogPermission]
    rbac_resource = "catalog.category"
    serializer_class = CategorySerializer
    pagination_class = cursor_pagination("path", name="CategoryPagination")

    def get_queryset(self):
        return selectors.category_list()

    def perform_create(self, serializer):
        serializer.instance = services.category_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.category_update(
            category=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.category_delete(category=instance)


class TagViewSet(viewsets.ModelViewSet):
    lookup_value_converter = "int"
    permission_classes = [CatalogPermission]
    rbac_resource = "catalog.tag"
    serializer_class = TagSerializer
    pagination_class = cursor_pagination("name", name="TagPagination")

    def get_queryset(self):
        return selectors.tag_list()

    def perform_create(self, serializer):
        serializer.instance = services.tag_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.tag_update(
            tag=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.tag_delete(tag=instance)


class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Reviews: any member reviews a product once; authors (or managers) edit and delete."""

    lookup_value_converter = "int"
    permission_classes = [ReviewPermission]
    serializer_class = ReviewSerializer
    pagination_class = cursor_pagination("-created_at", name="ReviewPagination")
    filterset_fields = ["product", "rating"]

    def get_queryset(self):
        return selectors.review_list()

    def create(self, request):
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        review = services.review_create(
            product_id=data["product"].id,
            user=request.user,
            rating=data["rating"],
            title=data.get("title", ""),
            body=data.get("body", ""),
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewUpdateSerializer, responses={200: ReviewSerializer})
    def partial_update(self, request, pk):
        review = get_object_or_404(self.get_queryset(), pk=pk)
        self.check_object_permissions(request, review)
        serializer = ReviewUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        review = services.review_update(review=review, data=serializer.validated_data)
        return Response(ReviewSerializer(review).data)

    def perform_destroy(self, instance):
        services.review_delete(review=instance)


class TopProductsView(APIView):
    """Best sellers by units sold or revenue over the last day, week, month or year."""

    permission_classes = [CatalogPermission]
    rbac_resource = "catalog.product"
    rbac_actions = {"get": "analytics"}

    @extend_schema(
        parameters=[TopProductsQuerySerializer],
        responses={
            200: inline_serializer(
                "TopProductsResult",
                {
                    **TopProductsQuerySerializer().get_fields(),
                    "results": TopProductSerializer(many=True),
                },
            )
        },
    )
    def get(self, request):
        params = TopProductsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = selectors.top_products(**params.validated_data)
        return Response(
            {**params.validated_data, "results": TopProductSerializer(rows, many=True).data}
        )
