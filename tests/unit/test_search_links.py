"""The results page's links (``pages.search``): each search encoded once and changed a
parameter or two at a time, the same as ``urlencode`` of the whole; the sign-in link's
``next`` as Jinja's ``urlencode`` (``quote(link, safe="/")``) would write it."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from respite.pages.search import _AS_NEXT, SEARCH_FIELDS, _encoded, _url

values = st.text(min_size=1, max_size=30)  # any character: 天平路街道, "a&b=c", "%2B +", ...
searches = st.lists(st.tuples(st.sampled_from(SEARCH_FIELDS), values), max_size=6)
changes = st.dictionaries(
    st.sampled_from(("cursor", "change", "check_in", "place")), st.none() | values, max_size=3
)


@given(searches, changes)
def test_a_link_is_the_search_urlencoded(
    pairs: list[tuple[str, str]], change: dict[str, str | None]
) -> None:
    kept = [(n, v) for n, v in pairs if n not in change]
    kept += [(n, v) for n, v in change.items() if v is not None]
    expected = f"/search?{urlencode(kept)}" if kept else "/search"
    link = _url(_encoded(pairs), **change)
    assert link == expected
    assert parse_qsl(urlsplit(link).query) == kept


@given(searches)
def test_the_way_back_after_signing_in_is_quoted_as_jinja_would(
    pairs: list[tuple[str, str]],
) -> None:
    link = _url(_encoded(pairs))
    assert link.translate(_AS_NEXT) == quote(link, safe="/")
