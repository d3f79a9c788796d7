"""What `POST /petitions` and `PUT /petitions/{id}` take, as the fields
`petitions.organizer` takes.

The body is Action Network's petition, as `render_petition` shows it, so what
GET returns can be PUT back and changes nothing (each field is compared with
what is stored; only what differs reaches the service and its audit row).

- `title`, and the text as `petition_text` (or `description`: Saha keeps one
  text, which GET shows under both; `petition_text` wins when both differ),
  are read and written in the request's language; `saha:titles` /
  `saha:texts` hold every language (an empty text or null drops one).
- `target`: `[{"name": "..."}]`, at most 50, each under 300 characters.
- `goal`: null or 0 for none. `saha:deadline`: a time with an offset, or a
  wall-clock time in the organization's zone as the organizer's form takes
  it; null for none.
- `saha:count_unverified`, `saha:show_signers`: the form's two boxes.
- `status`: "draft", "open" (drafts and closed petitions open), "closed"
  (open ones close).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from saha.api.resources.event_input import (
    check_languages,
    colon_fields,
    moment,
    per_language,
    same_moment,
    titled_texts,
)
from saha.organizations.models import Organization
from saha.petitions.manage_forms import MAX_TARGETS
from saha.petitions.models import Petition

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_TARGET = 300
STATUSES = ("draft", "open", "closed")


class PetitionTargetInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_TARGET, allow_blank=True)


class PetitionInput(serializers.Serializer):
    """POST and PUT /petitions: Action Network's petition (see the module's notes)."""

    title = serializers.CharField(max_length=MAX_TITLE, required=False, allow_blank=True)
    description = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, trim_whitespace=False
    )
    petition_text = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, trim_whitespace=False
    )
    target = serializers.ListField(
        child=PetitionTargetInput(), max_length=MAX_TARGETS, required=False, allow_null=True
    )
    goal = serializers.IntegerField(
        min_value=0, max_value=100_000_000, required=False, allow_null=True
    )
    status = serializers.ChoiceField(choices=STATUSES, required=False)

    def get_fields(self) -> dict[str, Any]:
        return colon_fields(
            super().get_fields(),
            saha_titles=per_language(MAX_TITLE),
            saha_texts=per_language(MAX_TEXT),
            saha_deadline=serializers.CharField(max_length=40, required=False, allow_null=True),
            saha_count_unverified=serializers.BooleanField(required=False),
            saha_show_signers=serializers.BooleanField(required=False),
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_languages("saha:titles", attrs.get("saha:titles"))
        check_languages("saha:texts", attrs.get("saha:texts"))
        return attrs


@dataclass
class PetitionChange:
    """The fields for `organizer.create` / `update_petition` (only those that differ,
    on an update) and the status asked, if any."""

    fields: dict[str, Any] = field(default_factory=dict)
    status: str | None = None


def new_petition_fields() -> dict[str, Any]:
    """A petition before the body: the organizer's form's defaults."""
    return {
        "titles": {},
        "texts": {},
        "targets": "",
        "goal": None,
        "deadline": None,
        "count_unverified": False,
        "show_signers": True,
    }


def petition_change(
    values: dict[str, Any],
    *,
    organization: Organization,
    petition: Petition | None,
    language: str,
) -> PetitionChange:
    """The body read against the petition (None: a new one). Raises a field's 400."""
    before = new_petition_fields()
    if petition is not None:
        before = {name: getattr(petition, name) for name in before}
    after = titled_texts(
        before,
        values,
        texts="texts",
        one=values.get("petition_text", values.get("description")),
        language=language,
        fallback=organization.default_language,
        untitled=_("Give the petition a title."),
    )
    if "target" in values:
        names = [one["name"].strip() for one in values["target"] or []]
        after["targets"] = "\n".join(name for name in names if name)
    if "goal" in values:
        after["goal"] = values["goal"] or None  # 0: no goal
    if "saha:deadline" in values:
        text = values["saha:deadline"]
        after["deadline"] = None if text is None else _deadline(text, organization)
    for name in ("count_unverified", "show_signers"):
        if f"saha:{name}" in values:
            after[name] = values[f"saha:{name}"]
    changed = {
        name: value
        for name, value in after.items()
        if petition is None or not _same(name, before[name], value)
    }
    return PetitionChange(fields=changed, status=values.get("status"))


def _deadline(text: str, organization: Organization) -> Any:
    return moment("saha:deadline", text, organization.time_zone)


def _same(name: str, old: Any, new: Any) -> bool:
    if name == "deadline":
        return same_moment(new, old)
    return bool(old == new)
