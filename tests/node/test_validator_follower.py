"""The votes an office node proposes to its validator so that Clique's signers follow the contract."""

from __future__ import annotations

from registry_node.node.validators import Vote, votes_needed

A, B, C, D = (f"0x{digit * 40}" for digit in "abcd")


def test_an_admitted_offices_validator_is_voted_in_and_nothing_else_changes() -> None:
    assert votes_needed({A, B, C, D}, {A, B, C}) == [Vote(D, True)]


def test_a_suspended_offices_validator_is_voted_out() -> None:
    assert votes_needed({A, B}, {A, B, C}) == [Vote(C, False)]


def test_a_replaced_validator_is_voted_in_before_the_old_one_is_voted_out() -> None:
    assert votes_needed({A, B, D}, {A, B, C}) == [Vote(D, True), Vote(C, False)]


def test_when_the_chain_already_follows_the_contract_no_vote_is_cast() -> None:
    assert votes_needed({A, B, C}, {C, B, A}) == []
