"""Rendering, MIME headers and quiet hours: the pure functions under the outbox."""

from __future__ import annotations

import datetime as dt

import pytest

from saha.messaging import rendering
from saha.messaging.providers.mime import build, display_address
from saha.messaging.quiet import is_quiet, next_allowed


class TestMerge:
    def test_a_field_or_its_fallback(self) -> None:
        assert rendering.merge("Hi {{ given_name | friend }}!", {}) == "Hi friend!"
        assert rendering.merge("Hi {{given_name}}!", {"given_name": "Rania"}) == "Hi Rania!"

    def test_unknown_fields_are_named(self) -> None:
        assert rendering.unknown_fields("{{ nme }} {{ given_name }} {{ nme }}") == ["nme"]

    def test_pathological_bodies_are_read_in_one_pass(self) -> None:
        # Each of these took the old patterns seconds to minutes (backtracking).
        assert rendering.unknown_fields("{{ given_name |" + " " * 20_000 + "x") == []
        assert rendering.markdown_to_text("[](" * 20_000) == "[](" * 20_000
        assert rendering.markdown_to_text("[" * 50_000) == "[" * 50_000

    def test_merge_fields_survive_in_link_addresses(self) -> None:
        html = rendering.markdown_to_html("[site](https://x.org/?who={{ given_name }})")
        merged = rendering.merge(html, {"given_name": "Rania"}, escape=True)
        assert 'href="https://x.org/?who=Rania"' in merged

    def test_a_typed_placeholder_is_only_text(self) -> None:
        # The old fixed marker, typed by a member with an index out of range, was a 500.
        for typed in ("SAHAMERGE7Z", "SAHAMERGE0Z", "SAHA0000000000000000M7Z"):
            html = rendering.markdown_to_html(f"Hi {typed} and {{{{ given_name | friend }}}}")
            assert typed in html
            assert "{{ given_name | friend }}" in html

    def test_the_placeholder_differs_on_every_call(self, monkeypatch) -> None:
        tokens = iter(["aaaa", "bbbb"])
        monkeypatch.setattr(rendering.secrets, "token_hex", lambda _n: next(tokens))
        rendering.markdown_to_html("{{ given_name }}")  # uses "SAHAaaaaM0Z"
        # The first call's marker, typed into the next message, is plain text there.
        html = rendering.markdown_to_html("SAHAaaaaM0Z SAHAbbbbM5Z {{ given_name }}")
        assert html == "<p>SAHAaaaaM0Z SAHAbbbbM5Z {{ given_name }}</p>\n"
        assert "SAHAbbbbM5Z" in html  # out of range: left as typed

    def test_links_are_spelled_out_in_the_text_part(self) -> None:
        text = rendering.markdown_to_text("Come [to the rally](https://x.org/r) at 5.")
        assert text == "Come to the rally (https://x.org/r) at 5."


@pytest.mark.parametrize(
    ("text", "parts"),
    [("", 0), ("a" * 160, 1), ("a" * 161, 2), ("م" * 70, 1), ("م" * 71, 2), ("{" * 80, 1)],
)
def test_sms_parts(text: str, parts: int) -> None:
    assert rendering.sms_parts(text) == parts


class TestHeaders:
    def test_a_sender_name_cannot_add_a_header(self) -> None:
        name = display_address("Shore\r\nBcc: victim@example.net", "news@example.org")
        assert "\r" not in name and "\n" not in name
        data = build(
            sender=name,
            recipient="a@example.org",
            message_id="m.1@example.org",
            subject="Hi\r\nX-Injected: 1",
            text="Hello",
        )
        headers = data.split(b"\r\n\r\n", 1)[0]
        assert b"\r\nBcc:" not in headers and b"\r\nX-Injected" not in headers

    def test_arabic_names_are_encoded_words(self) -> None:
        assert display_address("ساحة", "a@example.org").startswith("=?utf-8?b?")


class TestQuietHours:
    NIGHT = (dt.time(21), dt.time(9))

    def test_overnight(self) -> None:
        assert is_quiet(dt.time(23), *self.NIGHT) and is_quiet(dt.time(5), *self.NIGHT)
        assert not is_quiet(dt.time(12), *self.NIGHT)
        assert not is_quiet(dt.time(12), dt.time(9), dt.time(9))  # off

    def test_waits_for_the_morning_in_the_organizations_zone(self) -> None:
        evening = dt.datetime(2026, 11, 24, 20, 30, tzinfo=dt.UTC)  # 22:30 in Beirut
        assert next_allowed(evening, "Asia/Beirut", *self.NIGHT) == dt.datetime(
            2026, 11, 25, 7, 0, tzinfo=dt.UTC
        )

    def test_the_repeated_autumn_hour_never_yields_a_moment_past(self) -> None:
        # Paris falls back at 03:00 to 02:00 on 25 October 2026; now is the second 02:00.
        now = dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC)
        allowed = next_allowed(now, "Europe/Paris", dt.time(22), dt.time(2, 30))
        assert allowed > now
        assert allowed == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)

    def test_a_spring_gap_is_late_never_early(self) -> None:
        # Paris springs forward at 02:00 to 03:00 on 29 March 2026; quiet ends at 02:30.
        now = dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)  # 00:00 in Paris
        allowed = next_allowed(now, "Europe/Paris", dt.time(22), dt.time(2, 30))
        assert allowed >= dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)  # 03:00 CEST
        assert allowed <= dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)


def test_a_merge_field_fallback_is_text_never_markup():
    html_text = rendering.markdown_to_html(
        'Hello {{ given_name | <img src=x onerror="alert(1)"> }}'
    )

    assert "<img" not in html_text
    assert "&lt;img" in html_text
    # Filled for a recipient, the fallback stays text too.
    compiled = rendering.merge(html_text, {}, escape=True)
    assert "<img" not in compiled


@pytest.mark.django_db
def test_settings_made_a_moment_ago_have_quiet_hours_as_times(org_a):
    """The first SMS of an organization is composed with the settings just created."""
    import datetime as _dt

    from saha.messaging.quiet import is_quiet
    from saha.messaging.services import messaging_settings

    made = messaging_settings(org_a)

    assert (made.quiet_start, made.quiet_end) == (_dt.time(21, 0), _dt.time(9, 0))
    assert is_quiet(_dt.time(23, 0), made.quiet_start, made.quiet_end)
