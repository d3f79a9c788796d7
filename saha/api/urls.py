"""/api/v2/: every path answers with and without a trailing slash."""

from __future__ import annotations

from django.urls import re_path

from saha.api.errors import not_found
from saha.api.views import events, messages, people, petitions, queries, root, tags

urlpatterns = [
    re_path(r"^api/v2/?$", root.EntryPoint.as_view(), name="api-root"),
    *people.urlpatterns,
    *tags.urlpatterns,
    *events.urlpatterns,
    *petitions.urlpatterns,
    *messages.urlpatterns,
    *queries.urlpatterns,
    # [\s\S]: a line break in the address is still under /api/v2/ and gets a JSON 404
    # (the (?s) flag would do it, but Django cannot reverse a pattern that holds it).
    re_path(r"^api/v2[\s\S]*$", not_found),
]
