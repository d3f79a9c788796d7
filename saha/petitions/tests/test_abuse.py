"""The sign form under attack: limits per address and per email, the honeypot, the
proof-of-work challenge and the flood that switches it on.

What must hold: a flood from one address gets a 429 in the signer's
language; a bot that fills the honeypot is thanked and nothing is saved;
while the challenge is on, a script must bring a fresh, right answer, and a
signer without JavaScript still gets through (under a stricter limit).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.test import Client

from saha.petitions import abuse
from saha.petitions.models import PendingSignature, Petition, Signature
from saha.petitions.tests.test_public_views import petition_url, post_signature, scripts
from saha.petitions.tests.test_sign import make_petition
from saha.supporters.models import Person

pytestmark = pytest.mark.django_db


def accepted() -> int:
    """Signatures accepted by the form (the worker takes them in later, intake.py)."""
    return PendingSignature.objects.count()


@pytest.fixture
def petition(org_a: Any) -> Petition:
    return make_petition(org_a)


@pytest.fixture
def challenge_on(settings: Any) -> None:
    settings.SAHA_PETITION_CHALLENGE = "always"
    settings.SAHA_PETITION_POW_DIFFICULTY = 8  # a few hundred hashes in Python


def page_challenge(client: Client, petition: Petition) -> dict[str, str]:
    page = client.get(petition_url(petition)).content.decode()
    token = re.search(r'name="pow_challenge" value="([^"]+)"', page)
    assert token is not None, "no challenge on the page"
    seed, difficulty = token.group(1).split(".")[:2]
    return {"pow_challenge": token.group(1), "seed": seed, "difficulty": difficulty}


def solved(client: Client, petition: Petition) -> dict[str, str]:
    found = page_challenge(client, petition)
    nonce = abuse.solve(found["seed"], int(found["difficulty"]))
    return {"pow_challenge": found["pow_challenge"], "pow_nonce": nonce, "pow_js": "1"}


def not_enough(challenge: abuse.Challenge, nonce: str) -> bool:
    digest = hashlib.sha256(f"{challenge.seed}:{nonce}".encode()).digest()
    return abuse.leading_zero_bits(digest) < challenge.difficulty


class TestRateLimits:
    def test_a_flood_from_one_address_gets_429_in_the_signers_language(
        self, petition: Petition, settings: Any
    ) -> None:
        settings.SAHA_PETITION_IP_LIMIT = 3
        bot = Client(REMOTE_ADDR="203.0.113.7")
        for n in range(3):
            assert post_signature(bot, petition, "ar", email=f"b{n}@example.org").status_code == 303
        response = post_signature(bot, petition, "ar", email="b9@example.org")
        page = response.content.decode()
        assert response.status_code == 429
        assert 'lang="ar"' in page and 'dir="rtl"' in page and 'data-problem="too-many"' in page
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert accepted() == 3
        # someone else, elsewhere, still signs
        other = Client(REMOTE_ADDR="198.51.100.4")
        assert post_signature(other, petition, email="r@example.org").status_code == 303

    def test_behind_a_proxy_the_forwarded_address_is_limited(
        self, petition: Petition, settings: Any
    ) -> None:
        settings.SAHA_PETITION_IP_LIMIT = 1
        settings.SAHA_PROXY_COUNT = 1
        proxy = Client(REMOTE_ADDR="10.0.0.1")
        first = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
        second = {"HTTP_X_FORWARDED_FOR": "203.0.113.8"}
        data = {"given_name": "A", "email": "a@example.org", "language": "en"}
        assert proxy.post(petition_url(petition), data, **first).status_code == 303
        assert proxy.post(petition_url(petition), data, **first).status_code == 429
        assert proxy.post(petition_url(petition), data, **second).status_code == 303

    def test_one_email_address_is_limited_whatever_its_spelling(
        self, client: Client, petition: Petition, settings: Any
    ) -> None:
        settings.SAHA_PETITION_EMAIL_LIMIT = 2
        assert post_signature(client, petition, email="rima@example.org").status_code == 303
        assert post_signature(client, petition, email="Rima+x@Example.org").status_code == 303
        response = post_signature(client, petition, email="RIMA+y@example.org")
        assert response.status_code == 429 and "Retry-After" in response.headers
        assert post_signature(client, petition, email="sami@example.org").status_code == 303

    def test_normalized_email(self) -> None:
        assert abuse.normalize_email(" Rima+Tag@Example.ORG ") == "rima@example.org"
        assert abuse.normalize_email("no-at-sign") == "no-at-sign"


class TestHoneypot:
    def test_a_filled_honeypot_is_thanked_and_nothing_is_saved(
        self, client: Client, petition: Petition
    ) -> None:
        response = post_signature(client, petition, website="http://spam.example")
        assert response.status_code == 303
        assert response.headers["Location"] == petition_url(petition, "thanks/")
        assert accepted() == 0
        assert Signature.objects.count() == 0 and Person.objects.count() == 0


class TestChallenge:
    def test_when_on_the_page_carries_it_and_pow_js(
        self, client: Client, petition: Petition, challenge_on: None
    ) -> None:
        page = client.get(petition_url(petition)).content.decode()
        assert scripts(page) == ["/static/petitions/counter.js", "/static/petitions/pow.js"]
        assert re.search(r'<form [^>]*data-pow-seed="[0-9a-f]+" data-pow-difficulty="8"', page)

    def test_a_script_without_a_right_answer_is_asked_to_try_again(
        self, client: Client, petition: Petition, challenge_on: None
    ) -> None:
        found = page_challenge(client, petition)
        for answer in ({}, {"pow_nonce": "x\x00"}, {"pow_challenge": "a.b.c.d", "pow_nonce": "1"}):
            data = {"pow_js": "1", "pow_challenge": found["pow_challenge"], **answer}
            response = post_signature(client, petition, **data)
            assert response.status_code == 400
            page = response.content.decode()
            assert 'class="errors"' in page and 'name="pow_challenge"' in page  # a fresh one
        assert accepted() == 0

    def test_a_right_answer_signs_once_and_cannot_be_replayed(
        self, client: Client, petition: Petition, challenge_on: None
    ) -> None:
        answer = solved(client, petition)
        assert post_signature(client, petition, **answer).status_code == 303
        replay = post_signature(client, petition, email="other@example.org", **answer)
        assert replay.status_code == 400
        assert accepted() == 1

    def test_an_expired_or_foreign_challenge_fails(
        self, petition: Petition, org_a: Any, challenge_on: None, monkeypatch: Any
    ) -> None:
        challenge = abuse.issue(petition.pk)
        nonce = abuse.solve(challenge.seed, challenge.difficulty)
        other = make_petition(org_a, slug="other")
        assert abuse.verify(other.pk, challenge.token, nonce) == "forged"
        harder = challenge.token.replace(".8.", ".2.", 1)
        assert abuse.verify(petition.pk, harder, nonce) == "forged"
        later = abuse.time.time() + 3600
        monkeypatch.setattr(abuse.time, "time", lambda: later)
        assert abuse.verify(petition.pk, challenge.token, nonce) == "expired"

    def test_a_wrong_nonce_is_unsolved_a_right_one_used_once(
        self, petition: Petition, challenge_on: None
    ) -> None:
        challenge = abuse.issue(petition.pk)
        nonce = abuse.solve(challenge.seed, challenge.difficulty)
        wrong = next(str(n) for n in range(10**6) if not_enough(challenge, str(n)))
        assert abuse.verify(petition.pk, challenge.token, wrong) == "unsolved"
        assert abuse.verify(petition.pk, challenge.token, nonce) == ""
        assert abuse.verify(petition.pk, challenge.token, nonce) == "replayed"

    def test_without_javascript_a_signer_gets_through_under_a_stricter_limit(
        self, petition: Petition, challenge_on: None, settings: Any
    ) -> None:
        settings.SAHA_PETITION_NOSCRIPT_LIMIT = 2
        person = Client(REMOTE_ADDR="198.51.100.9")
        for n in range(2):
            response = post_signature(person, petition, email=f"n{n}@example.org")
            assert response.status_code == 303
        response = post_signature(person, petition, email="n3@example.org")
        assert response.status_code == 429
        assert accepted() == 2
        # with a script, from the same address, the right answer still goes through
        answer = solved(person, petition)
        assert post_signature(person, petition, email="js@example.org", **answer).status_code == 303

    def test_a_flood_switches_the_challenge_on_for_that_petition(
        self, petition: Petition, org_a: Any, settings: Any
    ) -> None:
        settings.SAHA_PETITION_FLOOD_THRESHOLD = 3
        other = make_petition(org_a, slug="quiet")
        assert not abuse.challenge_on(petition.pk)
        for n in range(4):
            bot = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
            post_signature(bot, petition, email=f"f{n}@example.org")
        assert abuse.challenge_on(petition.pk) and not abuse.challenge_on(other.pk)
        page = Client().get(petition_url(petition)).content.decode()
        assert "/static/petitions/pow.js" in page
        settings.SAHA_PETITION_CHALLENGE = "never"
        assert not abuse.challenge_on(petition.pk)


def test_leading_zero_bits() -> None:
    assert abuse.leading_zero_bits(bytes([0, 0x80])) == 8
    assert abuse.leading_zero_bits(bytes([0, 0x0F])) == 12
    assert abuse.leading_zero_bits(bytes([0x40])) == 1
    assert abuse.leading_zero_bits(bytes(2)) == 16


def test_an_ipv6_network_counts_as_one_client() -> None:
    from django.test import RequestFactory

    from saha.petitions import abuse

    first = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::1")
    second = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    other = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:3::1")
    assert abuse.address_of(first) == abuse.address_of(second) == "2001:db8:1:2::/64"
    assert abuse.address_of(other) != abuse.address_of(first)
    assert abuse.address_of(RequestFactory().get("/", REMOTE_ADDR="::ffff:10.0.0.1")) == "10.0.0.1"
