"""GET /queries and /queries/{id}: saved segments, read-only."""

from __future__ import annotations

from django.urls import re_path
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api import filters, hal
from saha.api.resources.queries import FILTERS, render_query, with_totals
from saha.api.views.base import PAGE_PARAMETERS, OsdiView, filter_parameter
from saha.supporters.models import Segment

LIST_PARAMETERS = [
    *PAGE_PARAMETERS,
    filter_parameter("name (eq); created_date, modified_date (eq, gt, lt)"),
]


class QueryList(OsdiView):
    resource = "queries"

    @extend_schema(
        operation_id="queries_list",
        tags=["queries"],
        parameters=LIST_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("filter")
        rows = (
            Segment.objects.for_org(self.organization)
            .select_related("organization")
            .filter(filters.parse(text, FILTERS))
            .order_by("name", "pk")
        )
        page = hal.collection(
            request,
            path="queries",
            rel="queries",
            queryset=rows,
            render=render_query,
            query={"filter": text},
            prepare=with_totals,
        )
        return Response(page)


class QueryDetail(OsdiView):
    resource = "queries"

    @extend_schema(
        operation_id="queries_retrieve", tags=["queries"], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, query_id: str) -> Response:
        segment = self.get_row(Segment.objects.select_related("organization"), query_id)
        body = render_query(segment)
        body["_links"]["curies"] = hal.curies()
        return Response(body)


urlpatterns = [
    re_path(r"^api/v2/queries/?$", QueryList.as_view(), name="api-queries"),
    re_path(r"^api/v2/queries/(?P<query_id>[^/]+)/?$", QueryDetail.as_view(), name="api-query"),
]
