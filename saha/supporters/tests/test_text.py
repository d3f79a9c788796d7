"""Normalizing what people type: names for search, email addresses, phone numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saha.supporters.text import (
    Phone,
    clean_text,
    normalize_email,
    normalize_name,
    normalize_phone,
    phone_digits,
)

# Names, addresses and numbers as people type them: any Unicode, plus the
# characters that matter here mixed in often.
typed = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from("@.+-0 ٠١٢٣٩۰۹<>\u200f\u202b\ufeff\x00\tأإآىةَُِّـÉß"),
    ),
    max_size=300,
)


class TestNames:
    @pytest.mark.parametrize(
        ("typed_name", "same_as"),
        [
            ("أحمد", "احمد"),
            ("إبراهيم", "ابراهيم"),
            ("آمنة", "امنه"),
            ("ٱلقاسم", "القاسم"),
            ("فاطمة", "فاطمه"),
            ("مصطفى", "مصطفي"),
            ("عَلِيّ", "علي"),
            ("محـــمد", "محمد"),
            ("\u200fرنا\u200e", "رنا"),
            ("Élodie  Haddad", "elodie haddad"),
            ("  ÇAĞLAR   Öztürk ", "caglar ozturk"),
            ("François", "francois"),
        ],
    )
    def test_spellings_people_use_interchangeably_fold_together(self, typed_name, same_as) -> None:
        assert normalize_name(typed_name) == normalize_name(same_as) == same_as

    def test_different_names_stay_different(self) -> None:
        assert normalize_name("رنا") != normalize_name("رانيا")
        assert normalize_name("Lina") != normalize_name("Line")

    @settings(max_examples=300, deadline=None)
    @given(typed)
    def test_folding_is_stable(self, value) -> None:
        key = normalize_name(value)
        assert normalize_name(key) == key
        assert key == key.strip() and "  " not in key


class TestCleanText:
    def test_direction_marks_and_control_characters_go_accents_stay(self) -> None:
        assert clean_text("\ufeff\u202bÉlodie\u202c \x00 Haddad\t\n") == "Élodie Haddad"

    @settings(max_examples=300, deadline=None)
    @given(typed)
    def test_never_leaves_what_postgresql_refuses(self, value) -> None:
        cleaned = clean_text(value)
        assert "\x00" not in cleaned
        assert cleaned == cleaned.strip()


class TestEmail:
    @pytest.mark.parametrize(
        ("typed_address", "address"),
        [
            ("Rana.Haddad@Example.ORG", "rana.haddad@example.org"),
            ("  rana@example.org  ", "rana@example.org"),
            ("<rana@example.org>", "rana@example.org"),
            ("rana+news@mail.example.lb", "rana+news@mail.example.lb"),
            ("rana@bücher.de", "rana@xn--bcher-kva.de"),
            ("رنا@example.org", "رنا@example.org"),
            # lower(), not casefold(): "strasse" could be another mailbox.
            ("Straße@example.de", "straße@example.de"),
        ],
    )
    def test_addresses_are_lowercased(self, typed_address, address) -> None:
        assert normalize_email(typed_address) == address

    @pytest.mark.parametrize(
        "typed_address",
        [
            "",
            "   ",
            "rana",
            "rana@",
            "@example.org",
            "rana@example",
            "rana@example.c",
            "rana@@example.org",
            "rana@exa@mple.org",
            "rana haddad@example.org",
            "rana@example..org",
            "rana@.example.org",
            "rana@-example.org",
            "rana@example.org.",
            "rana,sami@example.org",
            "rana@example.org; sami@example.org",
            "Rana <rana@example.org>",
            "rana\x00@example.org",
            "ra\x07na@example.org",
            "a" * 250 + "@example.org",
            # 254 characters typed, longer once lowered: "İ" becomes two.
            "İ" * 240 + "@example.org",
        ],
    )
    def test_what_is_not_an_address_is_refused(self, typed_address) -> None:
        assert normalize_email(typed_address) is None

    @settings(max_examples=500, deadline=None)
    @given(typed)
    def test_never_raises_and_what_it_returns_fits_and_is_stable(self, value) -> None:
        address = normalize_email(value)
        if address is not None:
            assert len(address) <= 254
            assert address == address.lower() and address.count("@") == 1
            assert not any(ch.isspace() or ord(ch) < 0x20 for ch in address)
            assert normalize_email(address) == address

    @settings(max_examples=300, deadline=None)
    @given(
        st.from_regex(r"\A[a-zA-Z0-9._+-]{1,40}@[a-zA-Z0-9-]{1,30}\.[a-zA-Z]{2,10}\Z"),
    )
    def test_plain_ascii_addresses_are_kept_in_lower_case(self, value) -> None:
        domain = value.split("@")[1]
        if ".." in domain or domain.startswith("-"):
            return
        assert normalize_email(value) == value.lower()


class TestPhone:
    @pytest.mark.parametrize(
        ("typed_number", "number"),
        [
            ("03 123 456", "+9613123456"),
            ("03-123456", "+9613123456"),
            ("+961 3 123 456", "+9613123456"),
            ("00961 3 123 456", "+9613123456"),
            ("٠٣ ١٢٣ ٤٥٦", "+9613123456"),  # Arabic-Indic digits
            ("۰۳۱۲۳۴۵۶", "+9613123456"),  # Eastern Arabic-Indic (Persian) digits
            ("+٩٦١ ٣ ١٢٣ ٤٥٦", "+9613123456"),
            ("71 123 456", "+96171123456"),
            ("+33 6 12 34 56 78", "+33612345678"),
            ("0033 6 12 34 56 78", "+33612345678"),
        ],
    )
    def test_numbers_become_e164_with_lebanon_as_the_default(self, typed_number, number) -> None:
        phone = normalize_phone(typed_number)
        assert phone is not None and phone.number == number and phone.sms_capable

    def test_a_landline_is_a_number_but_not_for_sms(self) -> None:
        assert normalize_phone("01 123 456") == Phone(number="+9611123456", sms_capable=False)

    def test_another_default_region(self, settings) -> None:
        settings.SAHA_PHONE_REGION = "FR"
        phone = normalize_phone("06 12 34 56 78")
        assert phone is not None and phone.number == "+33612345678"

    def test_a_region_given_by_the_caller_wins(self) -> None:
        phone = normalize_phone("06 12 34 56 78", region="FR")
        assert phone is not None and phone.number == "+33612345678"

    @pytest.mark.parametrize(
        "typed_number",
        ["", "   ", "12", "hello", "+", "00", "03 123", "+961 99 999 999 999", "961 3 123 456 7"],
    )
    def test_what_is_not_a_number_is_refused(self, typed_number) -> None:
        assert normalize_phone(typed_number) is None

    def test_digits_of_any_script(self) -> None:
        assert phone_digits("+٩٦١ (3) 123-456") == "9613123456"

    @settings(max_examples=500, deadline=None)
    @given(typed)
    def test_never_raises_and_what_it_returns_is_e164(self, value) -> None:
        phone = normalize_phone(value)
        if phone is not None:
            assert phone.number.startswith("+") and phone.number[1:].isdigit()
            assert len(phone.number) <= 16
            assert normalize_phone(phone.number) == phone

    @settings(max_examples=300, deadline=None)
    @given(st.from_regex(r"\A(\+|00)?[0-9٠-٩ ()-]{1,25}\Z"))
    def test_never_raises_on_number_like_text(self, value) -> None:
        phone = normalize_phone(value)
        assert phone is None or phone.number.startswith("+")
