"""zoombot.core.privacy: one recognition of an e-mail address for logs, stored errors and stripped events."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zoombot.core.privacy import EMAIL, mask_emails, mask_values, one_line


def test_addresses_are_masked_with_or_without_a_dot():
    assert mask_emails("to <ana.ruiz@example.org>, root@localhost: refused", "[x]") == "to <[x]>, [x]: refused"


def test_values_are_masked_longest_first():
    assert mask_values("token abc and abcdef", ["abc", "abcdef", ""], "***") == "token *** and ***"


def test_one_line():
    assert one_line("a\n  b\tc", 4) == "a b "


@given(
    st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,15}(\.[a-z]{2,6}){0,2}", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_characters="@")),
)
def test_no_address_survives_in_any_text(address, around):
    masked = mask_emails(f"{around} {address} {around}", "[x]")
    assert "@" not in masked and EMAIL.search(masked) is None
