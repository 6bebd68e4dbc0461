"""ingest.urls.canonicalize: one spelling per article, so the warehouse de-duplicates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.urls import canonicalize, is_tracking_param


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.COM/a", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&utm_medium=rss", "https://example.com/a"),
        ("https://example.com/a?fbclid=1&gclid=2&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com//a//b", "https://example.com/a/b"),
        ("https://example.com/%7Euser/a%20b", "https://example.com/~user/a%20b"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://example.com/a/", "https://example.com/a/"),
        ("https://example.com/search?q=a+b", "https://example.com/search?q=a%20b"),
        ("file:///tmp/pages/a.html", "file:///tmp/pages/a.html"),
    ],
)
def test_canonicalize(raw: str, expected: str) -> None:
    assert canonicalize(raw) == expected


def test_canonicalize_is_idempotent() -> None:
    for url in ["HTTPS://Ex.com:443/a/../b?z=1&utm_x=2&a=#f", "https://ex.com/%E2%82%AC?x=%26"]:
        once = canonicalize(url)
        assert canonicalize(once) == once


@pytest.mark.parametrize(
    "raw", ["", "not a url", "mailto:x@y", "javascript:alert(1)", "http://[::1", "http://"]
)
def test_canonicalize_never_raises(raw: str) -> None:
    assert isinstance(canonicalize(raw), str)


def test_tracking_params() -> None:
    assert is_tracking_param("utm_campaign") and is_tracking_param("FBCLID")
    assert not is_tracking_param("id") and not is_tracking_param("page")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_canonicalize_never_raises_on_any_text(raw: str) -> None:
    assert isinstance(canonicalize(raw), str)


_segment = st.text(alphabet="abcXYZ019-._~%/é ?&=#+", max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["http", "HTTPS"]),
    st.sampled_from(["Example.org", "example.org:8080", "x.y"]),
    _segment,
    _segment,
)
def test_canonicalize_is_idempotent_property(scheme: str, host: str, path: str, query: str) -> None:
    once = canonicalize(f"{scheme}://{host}/{path}?{query}")
    assert canonicalize(once) == once
