"""/tags, a tag's taggings, and a person's taggings.

A tagging is added with `POST /tags/{id}/taggings` and a `_links.osdi:person.href`
(the person is the id at the end of the href, whatever the host) and removed
with DELETE; both go through the supporters services, which leave the audit rows.
Taggings follow their tag's scope (`tags`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import re_path
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api.resources.people import find_person, with_curies
from saha.api.resources.tags import (
    TaggingInput,
    TagInput,
    render_tag,
    render_tagging,
    tagged_person,
)
from saha.api.views.base import (
    PAGE_PARAMETERS,
    OsdiView,
    deleted,
    operation,
    page,
    row_or_404,
    validated,
)
from saha.supporters.models import Tag, Tagging
from saha.supporters.services import create_tag, tag_people, untag_person


def _taggings() -> QuerySet[Tagging]:
    return Tagging.objects.select_related("tag", "person").order_by("pk")


def tagging_page(request: Request, queryset: QuerySet[Tagging], path: str) -> Response:
    return page(request, queryset, path=path, rel="taggings", render=render_tagging)


class TagList(OsdiView):
    resource = "tags"

    @operation("tags_list", "tags", parameters=PAGE_PARAMETERS)
    def get(self, request: Request) -> Response:
        rows = Tag.objects.for_org(self.organization).order_by("pk")
        return page(request, rows, path="tags", rel="tags", render=render_tag)

    @operation(
        "tags_create",
        "tags",
        description="Creates the tag, or answers the existing tag of that name.",
        request=TagInput,
    )
    def post(self, request: Request) -> Response:
        name = validated(TagInput, request.data)["name"]
        tag, _created = create_tag(actor=self.actor, organization=self.organization, name=name)
        return Response(with_curies(render_tag(tag)))


class TagDetail(OsdiView):
    resource = "tags"

    @operation("tags_retrieve", "tags")
    def get(self, request: Request, tag_id: str) -> Response:
        tag = self.get_row(Tag.objects.all(), tag_id)
        return Response(with_curies(render_tag(tag)))


class TagTaggings(OsdiView):
    resource = "tags"

    @operation("tags_taggings_list", "tags", parameters=PAGE_PARAMETERS)
    def get(self, request: Request, tag_id: str) -> Response:
        tag = self.get_row(Tag.objects.all(), tag_id)
        return tagging_page(request, _taggings().filter(tag=tag), f"tags/{tag.uuid}/taggings")

    @operation(
        "tags_taggings_create",
        "tags",
        description="Tags the person named by `_links.osdi:person.href`.",
        request=TaggingInput,
    )
    def post(self, request: Request, tag_id: str) -> Response:
        tag = self.get_row(Tag.objects.all(), tag_id)
        person = tagged_person(tag, validated(TaggingInput, request.data))
        tag_people(actor=self.actor, people=[person], names=[tag.name])
        tagging = _taggings().get(tag=tag, person=person)
        return Response(with_curies(render_tagging(tagging)))


class TaggingDetail(OsdiView):
    resource = "tags"

    def get_tagging(self, tag_id: str, tagging_id: str) -> Tagging:
        tag = self.get_row(Tag.objects.all(), tag_id)
        return row_or_404(_taggings().filter(tag=tag), tagging_id)

    @operation("tags_taggings_retrieve", "tags")
    def get(self, request: Request, tag_id: str, tagging_id: str) -> Response:
        return Response(with_curies(render_tagging(self.get_tagging(tag_id, tagging_id))))

    @operation("tags_taggings_destroy", "tags")
    def delete(self, request: Request, tag_id: str, tagging_id: str) -> Response:
        tagging = self.get_tagging(tag_id, tagging_id)
        untag_person(actor=self.actor, person=tagging.person, tag=tagging.tag)
        return deleted(tagging, _("tagging"))


class PersonTaggings(OsdiView):
    resource = "tags"

    @operation("people_taggings_list", "people", parameters=PAGE_PARAMETERS)
    def get(self, request: Request, person_id: str) -> Response:
        person = find_person(self.organization, person_id)
        rows = _taggings().filter(person=person)
        return tagging_page(request, rows, f"people/{person.uuid}/taggings")


_TAG = r"^api/v2/tags/(?P<tag_id>[^/]+)"
urlpatterns: list[Any] = [
    re_path(r"^api/v2/tags/?$", TagList.as_view(), name="api-tags"),
    re_path(rf"{_TAG}/?$", TagDetail.as_view(), name="api-tag"),
    re_path(rf"{_TAG}/taggings/?$", TagTaggings.as_view(), name="api-tag-taggings"),
    re_path(
        rf"{_TAG}/taggings/(?P<tagging_id>[^/]+)/?$",
        TaggingDetail.as_view(),
        name="api-tagging",
    ),
    re_path(
        r"^api/v2/people/(?P<person_id>[^/]+)/taggings/?$",
        PersonTaggings.as_view(),
        name="api-person-taggings",
    ),
]
