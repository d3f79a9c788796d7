"""GET /queries and /queries/{id}: saved segments, read-only."""

from __future__ import annotations

from django.urls import re_path
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api import hal
from saha.api.resources.queries import FILTERS, render_query, with_totals
from saha.api.views.base import PAGE_PARAMETERS, OsdiView, filter_parameter, operation, page
from saha.supporters.models import Segment

LIST_PARAMETERS = [
    *PAGE_PARAMETERS,
    filter_parameter("name (eq); created_date, modified_date (eq, gt, lt)"),
]


class QueryList(OsdiView):
    resource = "queries"

    @operation("queries_list", "queries", parameters=LIST_PARAMETERS)
    def get(self, request: Request) -> Response:
        rows = Segment.objects.for_org(self.organization).select_related("organization")
        return page(
            request,
            rows.order_by("name", "pk"),
            path="queries",
            rel="queries",
            render=render_query,
            fields=FILTERS,
            prepare=with_totals,
        )


class QueryDetail(OsdiView):
    resource = "queries"

    @operation("queries_retrieve", "queries")
    def get(self, request: Request, query_id: str) -> Response:
        segment = self.get_row(Segment.objects.select_related("organization"), query_id)
        body = render_query(segment)
        body["_links"]["curies"] = hal.curies()
        return Response(body)


urlpatterns = [
    re_path(r"^api/v2/queries/?$", QueryList.as_view(), name="api-queries"),
    re_path(r"^api/v2/queries/(?P<query_id>[^/]+)/?$", QueryDetail.as_view(), name="api-query"),
]
