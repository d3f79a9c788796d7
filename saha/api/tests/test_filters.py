import pytest
from django.db.models import Q

from saha.api import filters
from saha.api.errors import ApiError


def test_a_quoted_value_may_contain_and_or_or():
    fields = {"name": filters.Field("name")}
    # A saved segment of the demo organization is named "Arabic speakers in the North and Akkar".
    assert filters.parse("name eq 'North and Akkar'", fields) == Q(name="North and Akkar")
    assert filters.parse("name eq 'Rock or roll'", fields) == Q(name="Rock or roll")


def test_clauses_join_with_and_or_or_but_not_both():
    fields = {"name": filters.Field("name"), "kind": filters.Field("kind")}
    assert filters.parse("name eq 'a' and kind eq 'b'", fields) == Q(name="a") & Q(kind="b")
    assert filters.parse("name eq 'a' OR kind eq 'b'", fields) == Q(name="a") | Q(kind="b")
    for bad in (
        "name eq 'a' and kind eq 'b' or name eq 'c'",
        "name eq 'a' kind eq 'b'",
        "name eq 'a' and",
        "name eq a",
        "name eq 'it''s' and",
    ):
        with pytest.raises(ApiError) as caught:
            filters.parse(bad, fields)
        assert caught.value.code == "invalid_filter"
    assert filters.parse("name eq 'it''s'", fields) == Q(name="it's")
