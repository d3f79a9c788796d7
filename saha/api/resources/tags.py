"""Tags and taggings in the API, as Action Network's v2 API shows them.

A tag is named once per organization; a tagging ties one tag to one person.
Neither is ever changed, so each one's `modified_date` is its `created_date`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from saha.api import hal
from saha.api.errors import ApiError
from saha.supporters.models import Person, Tag, Tagging


def render_tag(tag: Tag) -> dict[str, Any]:
    path = f"tags/{tag.uuid}"
    return {
        "identifiers": hal.identifiers(tag),
        "created_date": hal.timestamp(tag.created_at),
        "modified_date": hal.timestamp(tag.created_at),
        "name": tag.name,
        "_links": {
            "self": hal.link(hal.url(path)),
            "osdi:taggings": hal.link(hal.url(f"{path}/taggings")),
        },
    }


def render_tagging(tagging: Tagging) -> dict[str, Any]:
    """Needs the tagging's tag and person loaded (select_related) to stay one query."""
    tag_path = f"tags/{tagging.tag.uuid}"
    return {
        "identifiers": hal.identifiers(tagging),
        "created_date": hal.timestamp(tagging.created_at),
        "modified_date": hal.timestamp(tagging.created_at),
        "item_type": "osdi:person",
        "_links": {
            "self": hal.link(hal.url(f"{tag_path}/taggings/{tagging.uuid}")),
            "osdi:tag": hal.link(hal.url(tag_path)),
            "osdi:person": hal.link(hal.url(f"people/{tagging.person.uuid}")),
        },
    }


class TagInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class HrefInput(serializers.Serializer):
    href = serializers.CharField(max_length=2000)


# "osdi:person" is no Python name: the serializer is built with it as a field's key.
PersonLinkInput = type("PersonLinkInput", (serializers.Serializer,), {"osdi:person": HrefInput()})


class TaggingInput(serializers.Serializer):
    _links = PersonLinkInput()


def tagged_person(tag: Tag, data: dict[str, Any]) -> Person:
    """The person `_links.osdi:person.href` names, by the id at its end, whatever the host."""
    href = data["_links"]["osdi:person"]["href"]
    value = hal.parse_id(href)
    if value is None:
        raise ApiError("invalid_person_link", _("The person's link names no person."), status=400)
    person = Person.objects.filter(organization_id=tag.organization_id, uuid=value).first()
    if person is None:
        raise ApiError("not_found", _("No such person."), status=404)
    return person
