"""The query-string filter backend of every API list: django-filter's, skipped when the request
names none of the filterset's filters."""

from django_filters.rest_framework import DjangoFilterBackend


def _names_a_filter(params, names) -> bool:
    # A filter reads its own name, or its name with a suffix for multi-part widgets
    # (price_min, created_after).
    return any(key == name or key.startswith(f"{name}_") for key in params for name in names)


class QueryFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend without the cost of a FilterSet and its form (deep copies of every
    filter and field, a validation pass) on the common request that filters nothing: with no
    value, every filter returns the queryset as it is, so the result is the same."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if not _names_a_filter(request.query_params, filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)
