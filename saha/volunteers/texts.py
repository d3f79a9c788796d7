"""The texts organizers write per language (a need's title, a capability's name), in the
page's language when they exist in it, else in another, marked with its own `lang` and
`dir` (`saha.campaigns.queries.Shown.attrs`)."""

from __future__ import annotations

from saha.campaigns.queries import Shown, pick
from saha.volunteers.models import Capability, Need


def capability_name(capability: Capability) -> Shown:
    return pick(capability.names, capability.organization.default_language) or Shown(
        capability.key, ""
    )


def need_title(need: Need) -> Shown:
    title = pick(need.titles, need.organization.default_language)
    return title or capability_name(need.capability)


def need_description(need: Need) -> Shown:
    return pick(need.descriptions, need.organization.default_language)
