"""HAL+JSON in the shape OSDI and Action Network's v2 API give it.

Links are absolute, built on SAHA_BASE_URL (so webhook payloads, built outside
any request, carry the same links), and an item's `self` has no trailing
slash. Collections carry `page`, `per_page`, `total_pages`, `total_records`,
`_links` (self, next, previous, one link per item) and `_embedded` with the
`osdi:<plural>` key even when empty.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer

API_PATH = "/api/v2"
MAX_PAGE_SIZE = 25
OSDI_VERSION = "1.1.1"
ID_PREFIXES = ("saha", "action_network")


class _SafeJSONRenderer(JSONRenderer):
    """UTF-8 JSON; a lone surrogate echoed back in an error message (which UTF-8
    cannot encode) is written as a \\u escape instead of failing with a 500."""

    charset = "utf-8"

    def render(self, data: Any, media_type: Any = None, renderer_context: Any = None) -> Any:
        try:
            return super().render(data, media_type, renderer_context)
        except UnicodeEncodeError:
            return json.dumps(data, cls=self.encoder_class, ensure_ascii=True).encode("ascii")


class HalJSONRenderer(_SafeJSONRenderer):
    media_type = "application/hal+json"


class PlainJSONRenderer(_SafeJSONRenderer):
    media_type = "application/json"


class HalJSONParser(JSONParser):
    """Reads application/json and application/hal+json; other types get 415."""

    media_type = "application/*+json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except (exceptions.ParseError, RecursionError) as error:
            # RecursionError: "[[[[..." nested deeper than the decoder goes.
            raise exceptions.ParseError(
                _("The body is not valid JSON."), code="invalid_json"
            ) from error


class _AnyJSONParser(HalJSONParser):
    media_type = "application/json"


class LenientNegotiation(DefaultContentNegotiation):
    """Answers JSON whatever the Accept header says: clients written for Action
    Network send `Accept: */*`, `text/html` or nothing, and none must get 406."""

    def select_renderer(self, request: Any, renderers: list[Any], format_suffix: Any = None) -> Any:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type

    def select_parser(self, request: Any, parsers: list[Any]) -> Any:
        parser = super().select_parser(request, parsers)
        plain = request.content_type.split(";")[0].strip()
        # application/json: "application/*+json" does not match it in DRF's media types.
        if parser is None and plain in ("", "text/plain", "application/json"):
            # curl -d sends form encoding; many scripts send no type: read it as JSON.
            return _AnyJSONParser()
        if parser is None and request.content_type.startswith("application/x-www-form"):
            return _AnyJSONParser()
        return parser


def url(path: str, **query: Any) -> str:
    """An absolute API URL: `url("people", page=2)`."""
    base = f"{settings.SAHA_BASE_URL}{API_PATH}"
    path = path.strip("/")
    address = f"{base}/{path}" if path else base
    params = {key: value for key, value in query.items() if value not in (None, "")}
    return f"{address}?{urlencode(params)}" if params else address


def link(href: str, title: str = "") -> dict[str, Any]:
    return {"href": href, "title": title} if title else {"href": href}


# Where an `osdi:` link relation is documented: the OSDI specification itself (every
# link relation Saha gives is an OSDI one; its own additions are fields, not links).
OSDI_DOCS = "https://opensupporter.github.io/osdi-docs/{rel}.html"


def curies() -> list[dict[str, Any]]:
    return [{"name": "osdi", "href": OSDI_DOCS, "templated": True}]


def identifiers(row: Model) -> list[str]:
    """`saha:<uuid>` first, and `action_network:<uuid>` for tools that expect it."""
    value = row.uuid  # type: ignore[attr-defined]
    return [f"{prefix}:{value}" for prefix in ID_PREFIXES]


def timestamp(value: Any) -> str | None:
    """Action Network's dates: UTC with a Z."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}")


def parse_id(value: str) -> uuid.UUID | None:
    """The uuid in an id as clients write it: bare, `saha:<uuid>`,
    `action_network:<uuid>`, or the last part of an href on any host."""
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("/").split("?")[0]
    text = text.rsplit("/", 1)[-1]
    if ":" in text:
        prefix, _sep, text = text.partition(":")
        if prefix not in ID_PREFIXES:
            return None
    if not _UUID.fullmatch(text):
        return None
    return uuid.UUID(text)


def page_number(request: Any) -> int:
    raw = request.query_params.get("page", "1")
    try:
        page = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError(
            {"page": _("The page must be a whole number from 1.")}, code="invalid_page"
        ) from None
    if page < 1 or page > 10_000_000:
        raise exceptions.ValidationError(
            {"page": _("The page must be a whole number from 1.")}, code="invalid_page"
        )
    return page


def page_size(request: Any) -> int:
    raw = request.query_params.get("per_page", str(MAX_PAGE_SIZE))
    try:
        size = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError(
            {"per_page": _("per_page must be a whole number from 1 to 25.")},
            code="invalid_per_page",
        ) from None
    if size < 1:
        raise exceptions.ValidationError(
            {"per_page": _("per_page must be a whole number from 1 to 25.")},
            code="invalid_per_page",
        )
    return min(size, MAX_PAGE_SIZE)


def collection(
    request: Any,
    *,
    path: str,
    rel: str,
    queryset: QuerySet[Any],
    render: Callable[[Any], dict[str, Any]],
    query: dict[str, Any] | None = None,
    prepare: Callable[[list[Any]], Iterable[Any]] | None = None,
) -> dict[str, Any]:
    """One page of a collection; `rel` is the plural ("people"); a page past the end is empty.

    `query` is what the links keep of the request (filter, per_page); `prepare`
    may load what a page of rows needs in a few queries before rendering.
    """
    page, size = page_number(request), page_size(request)
    total = queryset.count()
    pages = max(1, math.ceil(total / size)) if total else 0
    rows = list(queryset[(page - 1) * size : page * size]) if (page - 1) * size < total else []
    if prepare is not None:
        rows = list(prepare(rows))
    items = [render(row) for row in rows]
    keep = {**(query or {}), "per_page": size if size != MAX_PAGE_SIZE else None}
    links: dict[str, Any] = {"self": link(url(path, page=page, **keep))}
    if page < pages:
        links["next"] = link(url(path, page=page + 1, **keep))
    if page > 1:
        links["previous"] = link(url(path, page=min(page - 1, max(pages, 1)), **keep))
    links[f"osdi:{rel}"] = [{"href": item["_links"]["self"]["href"]} for item in items]
    links["curies"] = curies()
    return {
        "total_pages": pages,
        "per_page": size,
        "page": page,
        "total_records": total,
        "_links": links,
        "_embedded": {f"osdi:{rel}": items},
    }
