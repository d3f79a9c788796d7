"""person_input and consent: the one reading of a person hash and the one shape of API consent,
as the record helpers (attendances, signatures) use them too."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.exceptions import ValidationError

from saha.api.resources import consent
from saha.api.resources.person_input import (
    ContactPersonInput,
    PersonInput,
    helper_person_data,
    person_changes,
)
from saha.api.views.base import validated
from saha.organizations.models import Organization
from saha.supporters.models import Channel, ConsentSource


def read(organization: Organization, body: dict[str, Any], *, anonymous: bool = False) -> Any:
    person = validated(ContactPersonInput, body)
    return helper_person_data(organization, person, actor="api:sync (abc…)", anonymous=anonymous)


def test_a_tokens_person_carries_its_consent_in_one_shape(org_a: Organization) -> None:
    org_a.default_language = "fr"
    body = {
        "given_name": None,
        "email_addresses": [
            {"address": "old@example.org"},
            {"address": "main@example.org", "primary": True, "status": "subscribed"},
        ],
        "languages_spoken": ["de", "ar"],
        "postal_addresses": [{"locality": "Tyre", "country": "lb"}],
    }

    data = read(org_a, body)

    assert data.email == "main@example.org"  # the primary one
    assert (data.given_name, data.language, data.locality, data.country) == ("", "ar", "Tyre", "LB")
    assert list(data.tags) == []  # tags go through tag_people, which audits them
    [grant] = data.consents
    assert grant.channel == Channel.EMAIL
    assert (grant.source, grant.source_ref, grant.language) == (
        ConsentSource.API,
        "api:sync (abc…)",
        "fr",
    )
    assert grant == consent.api_grant(org_a, Channel.EMAIL, "api:sync (abc…)")


def test_a_strangers_person_carries_no_consent(org_a: Organization) -> None:
    body = {"email_addresses": [{"address": "a@example.org", "status": "subscribed"}]}
    assert read(org_a, body, anonymous=True).consents == []


def test_the_public_helpers_words_differ_from_a_tokens(org_a: Organization) -> None:
    token = consent.api_grant(org_a, Channel.EMAIL, "api:sync (abc…)")
    public = consent.api_grant(org_a, Channel.EMAIL, consent.PUBLIC_HELPER, anonymous=True)
    assert public.source_ref == "api:public helper"
    assert public.wording != token.wording


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "no_contact"),
        ({"email_addresses": None, "phone_numbers": []}, "no_contact"),
        ({"email_addresses": [{"address": "a@b.org", "status": "maybe"}]}, "invalid_choice"),
        ({"email_addresses": [{"address": "a\x00@b.org"}]}, "null_characters_not_allowed"),
        ({"phone_numbers": [{"number": "1"}] * 11}, "max_length"),
        (
            {
                "email_addresses": [
                    {"address": "a@b.org", "status": "subscribed"},
                    {"address": "c@b.org", "status": "unsubscribed"},
                ]
            },
            "conflicting_status",
        ),
    ],
)
def test_what_a_sign_up_refuses(body: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as error:
        validated(ContactPersonInput, body)
    assert code in str(error.value.get_codes())


def test_a_put_needs_no_contact_and_null_removes(org_a: Organization) -> None:
    sent = validated(PersonInput, {"family_name": None, "postal_addresses": None})
    changes = person_changes(org_a, sent)
    assert changes.profile == {
        "family_name": "",
        "locality": "",
        "region": "",
        "postal_code": "",
        "country": "",
    }
    assert changes.statuses == {}
