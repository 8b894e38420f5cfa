"""Unit tests for zoombot.core.agenda: drafting, required sections, free-text parsing and storage round trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot.core.agenda import (
    DEFAULT_CONFIDENTIALITY,
    DEFAULT_EXPECTATIONS,
    FOLLOW_UP_PREFIX,
    MAX_ITEM_LENGTH,
    REQUIRED_SECTIONS,
    Agenda,
    Resource,
    RoleAssignment,
    clean_roles,
    draft_agenda,
    from_dict,
    missing_sections,
    parse_lines,
    parse_resources,
    refused_links,
    safe_url,
    to_dict,
)


def agenda(**overrides) -> Agenda:
    values = dict(
        objectives=("Share one transition strategy",),
        topics=("Transitions",),
        expectations=("Be present",),
        confidentiality=("What is shared here stays here",),
        resources=(Resource("Guide", "https://example.org/guide", "Ana"),),
        parking_lot=("Biting in toddler rooms",),
        next_steps=("Try one strategy",),
    )
    values.update(overrides)
    return Agenda(**values)


# --- Defaults -------------------------------------------------------------------------------------


def test_default_texts_are_sensible():
    assert 4 <= len(DEFAULT_EXPECTATIONS) <= 6
    assert 3 <= len(DEFAULT_CONFIDENTIALITY) <= 5
    for item in DEFAULT_EXPECTATIONS + DEFAULT_CONFIDENTIALITY:
        assert item == item.strip() and 0 < len(item) <= MAX_ITEM_LENGTH and "\n" not in item
    assert len(set(DEFAULT_EXPECTATIONS)) == len(DEFAULT_EXPECTATIONS)
    text = " ".join(DEFAULT_CONFIDENTIALITY).lower()
    assert "stays here" in text and "recording" in text and "screenshot" in text and "identifying" in text
    text = " ".join(DEFAULT_EXPECTATIONS).lower()
    assert "airtime" in text and "camera" in text and "on time" in text and "good intent" in text


# --- Drafting -------------------------------------------------------------------------------------


def test_draft_carries_next_steps_parking_lot_and_resources():
    previous = agenda(
        next_steps=("Try one transition song", "Bring a photo of your room setup"),
        parking_lot=("Closed item that must not come back",),
    )
    draft = draft_agenda(
        previous=previous,
        open_parking_lot=["How to talk to families about biting"],
        submitted_resources=[Resource("Routines guide", "https://example.org/r", "Ana")],
    )
    assert draft.topics == ("Follow up: Try one transition song", "Follow up: Bring a photo of your room setup")
    assert all(topic.startswith(FOLLOW_UP_PREFIX) for topic in draft.topics)
    assert draft.parking_lot == ("How to talk to families about biting",)
    assert draft.resources == (Resource("Routines guide", "https://example.org/r", "Ana"),)
    assert draft.objectives == () and draft.next_steps == ()
    assert draft.expectations == DEFAULT_EXPECTATIONS
    assert draft.confidentiality == DEFAULT_CONFIDENTIALITY


def test_first_draft_without_previous_agenda():
    draft = draft_agenda(previous=None, open_parking_lot=[], submitted_resources=[])
    assert draft == Agenda(
        objectives=(),
        topics=(),
        expectations=DEFAULT_EXPECTATIONS,
        confidentiality=DEFAULT_CONFIDENTIALITY,
        resources=(),
        parking_lot=(),
        next_steps=(),
    )


@pytest.mark.parametrize("value", [None, [], ["", "   "]])
def test_defaults_apply_when_none_or_empty(value):
    draft = draft_agenda(
        previous=None, open_parking_lot=[], submitted_resources=[], expectations=value, confidentiality=value
    )
    assert draft.expectations == DEFAULT_EXPECTATIONS
    assert draft.confidentiality == DEFAULT_CONFIDENTIALITY


def test_community_texts_replace_defaults():
    draft = draft_agenda(
        previous=None,
        open_parking_lot=[],
        submitted_resources=[],
        expectations=[" Phones away ", "Be kind"],
        confidentiality=("Names stay out",),
    )
    assert draft.expectations == ("Phones away", "Be kind")
    assert draft.confidentiality == ("Names stay out",)


def test_draft_cleans_and_deduplicates():
    previous = agenda(next_steps=("Read chapter 2", "  read   CHAPTER 2 ", ""))
    draft = draft_agenda(
        previous=previous,
        open_parking_lot=["Biting", "biting ", "", "Nap\ntime"],
        submitted_resources=[
            Resource("A", "https://a.example/x"),
            Resource("A again", "https://a.example/x"),
            Resource("  ", None),
            Resource("Bad", "javascript:alert(1)", "Eve"),
            Resource("", "https://b.example/"),
            Resource("Same title"),
            Resource("same TITLE"),
        ],
    )
    assert draft.topics == ("Follow up: Read chapter 2",)
    assert draft.parking_lot == ("Biting", "Nap time")
    assert draft.resources == (
        Resource("A", "https://a.example/x"),
        Resource("Bad", None, "Eve"),
        Resource("https://b.example/", "https://b.example/"),
        Resource("Same title"),
    )


def test_draft_rejects_a_single_string_where_items_are_expected():
    with pytest.raises(TypeError):
        draft_agenda(previous=None, open_parking_lot="Biting", submitted_resources=[])


def test_agenda_stores_sequences_as_tuples():
    a = Agenda(
        objectives=["a"],
        topics=[],
        expectations=["e"],
        confidentiality=["c"],
        resources=[Resource("r")],
        parking_lot=[],
        next_steps=["n"],
    )
    assert a.objectives == ("a",) and a.resources == (Resource("r"),)
    hash(a)
    with pytest.raises(TypeError):
        Agenda(
            objectives="oops",
            topics=(),
            expectations=(),
            confidentiality=(),
            resources=(),
            parking_lot=(),
            next_steps=(),
        )


# --- Required sections ----------------------------------------------------------------------------


def test_missing_sections_on_a_draft():
    draft = draft_agenda(previous=None, open_parking_lot=[], submitted_resources=[])
    assert missing_sections(draft) == ["objectives", "topics", "next_steps"]


def test_missing_sections_complete_agenda():
    assert missing_sections(agenda()) == []


def test_missing_sections_ignores_optional_sections():
    assert missing_sections(agenda(resources=(), parking_lot=())) == []


def test_missing_sections_all_and_in_order():
    empty = Agenda((), (), (), (), (), (), ())
    assert missing_sections(empty) == list(REQUIRED_SECTIONS)
    assert REQUIRED_SECTIONS == ("objectives", "topics", "expectations", "confidentiality", "next_steps")


def test_blank_items_do_not_count():
    assert missing_sections(agenda(objectives=("  ",), confidentiality=("",))) == ["objectives", "confidentiality"]


# --- parse_lines ----------------------------------------------------------------------------------


def test_parse_lines_strips_bullets_and_blanks():
    text = "- one\n* two\n• three\n1. four\n2) five\n   \n\n  - six  \r\n10. seven\n‣ eight\n+ nine\n–ten"
    assert parse_lines(text) == ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def test_parse_lines_keeps_text_that_only_looks_like_a_bullet():
    assert parse_lines("-5 degrees outside\n1.5 hours of play\n*emphasis* matters\nA. Smith presents") == (
        "-5 degrees outside",
        "1.5 hours of play",
        "*emphasis* matters",
        "A. Smith presents",
    )


def test_parse_lines_strips_only_one_bullet():
    assert parse_lines("- - nested\n1. 2. numbered") == ("- nested", "2. numbered")


def test_parse_lines_drops_bullet_only_lines():
    assert parse_lines("-\n*\n•\n1.\n") == ()


def test_parse_lines_empty():
    assert parse_lines("") == ()
    assert parse_lines("\n \n\t\n") == ()


def test_parse_lines_caps_items():
    (item,) = parse_lines("- " + "x" * 2000)
    assert item == "x" * MAX_ITEM_LENGTH


def test_parse_lines_normalises_whitespace_and_controls():
    assert parse_lines("a\tb   c\x00d\x07") == ("a b c d",)


def test_parse_lines_drops_lone_surrogates():
    assert parse_lines("a\ud800b") == ("ab",)


def test_parse_lines_keeps_unicode():
    assert parse_lines("• Niños y familias 👨‍👩‍👧\n- 幼儿教育") == ("Niños y familias 👨‍👩‍👧", "幼儿教育")


def test_parse_lines_splits_on_all_line_breaks():
    assert parse_lines("a\rb\r\nc\u2028d") == ("a", "b", "c", "d")


# --- parse_resources ------------------------------------------------------------------------------


def test_parse_resources_formats():
    text = (
        "Transitions guide | https://example.org/guide?x=1&y=2\n"
        "https://example.org/bare\n"
        "Just a book title\n"
        "- Bulleted | http://example.org/b\n"
        "Video - https://example.org/v\n"
        "\n"
    )
    assert parse_resources(text) == (
        Resource("Transitions guide", "https://example.org/guide?x=1&y=2"),
        Resource("https://example.org/bare", "https://example.org/bare"),
        Resource("Just a book title"),
        Resource("Bulleted", "http://example.org/b"),
        Resource("Video", "https://example.org/v"),
    )


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Click me | javascript:alert(1)", Resource("Click me")),
        ("javascript:alert(1)", Resource("javascript:alert(1)")),
        ("JaVaScRiPt:alert(1)", Resource("JaVaScRiPt:alert(1)")),
        ("Pic | data:text/html;base64,PHNjcmlwdD4=", Resource("Pic")),
        ("Mail | mailto:a@example.org", Resource("Mail")),
        ("File | file:///etc/passwd", Resource("File")),
        ("Proto-relative | //evil.example/x", Resource("Proto-relative")),
        ("No host | https://", Resource("No host")),
        ("Backslash | https:\\\\evil.example", Resource("Backslash")),
        ("Spaced | https://exa mple.org", Resource("Spaced")),
        ("Looks good | https://user:pass@evil.example@good.example/", Resource("Looks good")),
        ("Title javascript:alert(1)", Resource("Title javascript:alert(1)")),
    ],
)
def test_parse_resources_refuses_unsafe_urls(line, expected):
    assert parse_resources(line) == (expected,)
    for resource in parse_resources(line):
        assert resource.url is None or resource.url.startswith(("http://", "https://"))


def test_refused_links_are_named_for_the_person_who_typed_them():
    text = (
        "Guide | https://example.org/guide\n"
        "Bad | javascript:alert(1)\n"
        "Evil | https://user:pass@evil.example@good.example/\n"
        "ftp://files.example.org/x\n"
        "Just a book title\n"
    )
    assert refused_links(text) == ("Bad", "Evil", "ftp://files.example.org/x")
    assert [r.url for r in parse_resources(text)] == ["https://example.org/guide", None, None, None, None]
    assert refused_links("Guide | https://example.org/guide\nA title") == ()


def test_parse_resources_title_with_pipe_and_no_url():
    assert parse_resources("Ages | stages") == (Resource("Ages | stages"),)


def test_parse_resources_empty():
    assert parse_resources("") == ()
    assert parse_resources("\n - \n") == ()


def test_parse_resources_caps_title_but_keeps_long_url():
    url = "https://example.org/" + "p" * 1500
    (resource,) = parse_resources("T" * 900 + " | " + url)
    assert resource.title == "T" * MAX_ITEM_LENGTH and resource.url == url


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://example.org", True),
        ("HTTP://EXAMPLE.ORG/x", True),
        ("  https://example.org/a  ", True),
        ("https://example.org/@someone?at=a@b", True),
        ("https://user@example.org/", False),  # user-info: a link that reads as one site and goes to another
        ("https://user:pass@evil.example@good.example/", False),
        ("https://good.example:443@evil.example/", False),
        ("http://@example.org/", False),
        ("javascript:alert(1)", False),
        ("data:text/plain,hi", False),
        ("ftp://example.org", False),
        ("https://", False),
        ("https:///path", False),
        ("//example.org", False),
        ("example.org", False),
        ("https://exa mple.org", False),
        ("https://example.org/\x00", False),
        ("https://[::1", False),
        ("https://example.org/" + "a" * 3000, False),
        ("", False),
        (None, False),
    ],
)
def test_safe_url(url, ok):
    assert (safe_url(url) is not None) is ok


# --- Storage --------------------------------------------------------------------------------------


def test_to_dict_shape():
    data = to_dict(agenda())
    assert data == {
        "version": 1,
        "objectives": ["Share one transition strategy"],
        "topics": ["Transitions"],
        "expectations": ["Be present"],
        "confidentiality": ["What is shared here stays here"],
        "resources": [{"title": "Guide", "url": "https://example.org/guide", "submitted_by": "Ana"}],
        "parking_lot": ["Biting in toddler rooms"],
        "next_steps": ["Try one strategy"],
        "roles": [],
    }
    assert json.loads(json.dumps(data)) == data
    with_roles = to_dict(agenda(roles=(RoleAssignment("note-taker", "Alice Ames", 12),)))
    assert with_roles["roles"] == [{"role": "note-taker", "name": "Alice Ames", "member_id": 12}]


def test_from_dict_tolerates_missing_sections():
    assert from_dict({}) == Agenda((), (), (), (), (), (), ())
    assert from_dict({"objectives": ["x"], "resources": [{"title": "t"}]}).resources == (Resource("t"),)


def test_from_dict_drops_unsafe_urls():
    restored = from_dict({"resources": [{"title": "x", "url": "javascript:alert(1)", "submitted_by": None}]})
    assert restored.resources == (Resource("x"),)


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"objectives": "not a list"},
        {"objectives": [1, 2]},
        {"resources": {"title": "x"}},
        {"resources": [{"url": "https://example.org"}]},
        {"resources": ["x"]},
        {"resources": [{"title": "x", "url": 5}]},
        {"resources": [{"title": "x", "submitted_by": ["a"]}]},
        {"version": 99},
        {"version": "1"},
        {"roles": [{"role": "note-taker"}]},
        {"roles": [{"role": "note-taker", "name": "A", "member_id": "12"}]},
        {"roles": ["note-taker"]},
    ],
)
def test_from_dict_rejects_malformed(bad):
    with pytest.raises(ValueError):
        from_dict(bad)


items = st.lists(st.text(max_size=60), max_size=6).map(tuple)
safe_urls = st.one_of(
    st.none(), st.from_regex(r"https?://[a-z0-9]{1,12}\.(org|com)(/[A-Za-z0-9_.~%-]{0,20}){0,3}", fullmatch=True)
)
resources = st.lists(
    st.builds(
        Resource, title=st.text(max_size=60), url=safe_urls, submitted_by=st.one_of(st.none(), st.text(max_size=30))
    ),
    max_size=5,
).map(tuple)
roles = st.lists(
    st.builds(
        RoleAssignment,
        role=st.text(max_size=20),
        name=st.text(max_size=30),
        member_id=st.one_of(st.none(), st.integers(min_value=1, max_value=2**40)),
    ),
    max_size=4,
).map(tuple)
agendas = st.builds(
    Agenda,
    objectives=items,
    topics=items,
    expectations=items,
    confidentiality=items,
    resources=resources,
    parking_lot=items,
    next_steps=items,
    roles=roles,
)


@settings(max_examples=200)
@given(agendas)
def test_round_trip(original):
    stored = json.loads(json.dumps(to_dict(original)))
    assert from_dict(stored) == original


@given(st.text())
def test_parse_lines_properties(text):
    for item in parse_lines(text):
        assert item and item == item.strip() and len(item) <= MAX_ITEM_LENGTH
        assert "\n" not in item and "\r" not in item
        item.encode("utf-8")


@given(st.text())
def test_parse_resources_properties(text):
    for resource in parse_resources(text):
        assert resource.title and len(resource.title) <= MAX_ITEM_LENGTH
        assert resource.url is None or (
            safe_url(resource.url) == resource.url and resource.url.lower().startswith(("http://", "https://"))
        )


def test_draft_names_one_person_per_role_from_what_it_is_given():
    draft = draft_agenda(
        previous=None,
        open_parking_lot=[],
        submitted_resources=[],
        roles=[
            RoleAssignment("facilitator", "Fran Facil", 1),
            RoleAssignment("note-taker", "  Alice\nAmes ", 2),
            RoleAssignment("note-taker", "Bob Brown", 3),
            RoleAssignment("timekeeper", "   ", 4),
        ],
    )
    assert draft.roles == (
        RoleAssignment("facilitator", "Fran Facil", 1),
        RoleAssignment("note-taker", "Alice Ames", 2),
    )
    assert clean_roles(draft.roles) == draft.roles
