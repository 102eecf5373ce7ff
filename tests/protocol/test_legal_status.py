"""A status code in words, under the standard of the right's kind (ST.27, ST.61, ST.87)."""

from __future__ import annotations

import pytest

from registry_node.protocol.legal_status import CATEGORIES, KEY_EVENTS, status_words


def test_a_lapsed_patent_reads_as_terminated_by_lapse() -> None:
    words = status_words("T6H13", "patent")
    assert words is not None
    assert words.text == "Terminated (stage: terminated), key event H13: cessation of the right, lapsed"
    assert words.to_json()["standard"] == "ST.27"


@pytest.mark.parametrize(("kind", "standard"), [("trademark", "ST.61"), ("design", "ST.87"), (None, "ST.27")])
def test_trademarks_and_designs_name_their_own_standard(kind: str | None, standard: str) -> None:
    words = status_words("A4M10", kind)
    assert words is not None and words.standard == standard
    assert words.text == "Active (stage: grant), key event M10: maintenance of the right, right maintained"


def test_a_key_event_the_tables_do_not_name_still_reads_by_its_category() -> None:
    words = status_words("A5L17", "patent")
    assert words is not None
    assert words.to_json()["keyEvent"] == {
        "code": "L17", "category": "L", "categoryName": "review of the right", "name": None,
    }  # fmt: skip
    assert words.text == "Active (stage: post-grant challenge), key event L17: review of the right"


def test_a_status_without_key_event_reads_state_and_stage() -> None:
    words = status_words("U0", "design")
    assert words is not None and words.text == "Unspecified (stage: unspecified)"
    assert words.to_json()["keyEvent"] is None


@pytest.mark.parametrize("code", ["", "X4F10", "A7F10", "A4F1", "a4f10", "A4F10 "])
def test_what_is_not_a_status_code_has_no_words(code: str) -> None:
    assert status_words(code, "patent") is None


def test_every_named_key_event_belongs_to_a_category() -> None:
    assert {code[0] for code in KEY_EVENTS} <= set(CATEGORIES)
    assert all(code[1:].isdigit() and len(code) == 3 for code in KEY_EVENTS)
