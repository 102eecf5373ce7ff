"""EIP-1186 proofs from a real chain, checked by `state_proofs` (py-trie walks the tries): a real proof of a
right's or an anchor's slot verifies to the word eth_getStorageAt reads; a tampered account or storage
proof, a wrong state root, a rewritten value and an absent account each fail with a `ProofError` that
says what broke, and no mutation of a proof ever escapes as another exception."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import rlp  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.verify.state_proofs import (
    ProofError,
    anchor_slot,
    right_slot,
    unpack_anchor,
    unpack_right,
    verify_storage,
)
from tests.support.chain import FreshChain, GanacheFactory, anchor_root, deploy_fresh, register_right

ZERO_WORD = b"\0" * 32


class Proof(NamedTuple):
    """An eth_getProof answer for one slot, as bytes, with the state root of its block."""

    state_root: bytes
    address: bytes
    slot: bytes
    account_proof: list[bytes]
    storage_proof: list[bytes]
    storage_hash: bytes
    word: bytes  # what eth_getStorageAt reads at that block

    def verify(self, **changes: Any) -> tuple[bytes, bytes]:
        """(word, storage root) proven; the account's other fields are the judge's to compare."""
        fields = self._replace(**changes)
        word, storage_root, _account = verify_storage(
            fields.state_root, fields.address, fields.slot, fields.account_proof, fields.storage_proof
        )
        return word, storage_root


class Chain(NamedTuple):
    fresh: FreshChain
    right_id: bytes
    root: bytes
    before: int  # a block before the right was registered
    block: int


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def proof_of(fresh: FreshChain, slot: bytes, block: int, address: str | None = None) -> Proof:
    address = address or fresh.contract.address
    answer = fresh.w3.provider.make_request(
        "eth_getProof",  # type: ignore[arg-type]
        [address, ["0x" + slot.hex()], hex(block)],
    )["result"]
    header = fresh.w3.provider.make_request("eth_getBlockByNumber", [hex(block), False])["result"]  # type: ignore[arg-type]
    (storage,) = answer["storageProof"]
    word = bytes(fresh.w3.eth.get_storage_at(address, int.from_bytes(slot, "big"), block)).rjust(32, b"\0")
    return Proof(
        state_root=_bytes(header["stateRoot"]),
        address=_bytes(address),
        slot=slot,
        account_proof=[_bytes(node) for node in answer["accountProof"]],
        storage_proof=[_bytes(node) for node in storage["proof"]],
        storage_hash=_bytes(answer["storageHash"]),
        word=word,
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    factory = GanacheFactory(Path(tmp_path_factory.mktemp("proofs")))
    try:
        fresh = deploy_fresh(factory)
        before = fresh.w3.eth.block_number
        right_id = register_right(fresh, "EP", "proven")
        register_right(fresh, "GB", "neighbour")  # more than one leaf in the storage trie
        root = anchor_root(fresh, "KR", "proven")
        yield Chain(fresh, right_id, root, before, fresh.w3.eth.block_number)
    finally:
        factory.stop_all()


@pytest.fixture(scope="module")
def right_proof(chain: Chain) -> Proof:
    return proof_of(chain.fresh, right_slot(chain.right_id), chain.block)


def altered(node: bytes) -> bytes:
    """The node with one bit of its last non-empty item flipped: still a well-formed trie node, but not the
    one its parent references."""
    items = rlp.decode(node)
    last = max(i for i, item in enumerate(items) if isinstance(item, bytes) and item)
    items[last] = items[last][:-1] + bytes([items[last][-1] ^ 0x01])
    return bytes(rlp.encode(items))


def test_a_real_proof_of_a_rights_slot_verifies_to_the_stored_word(chain: Chain, right_proof: Proof) -> None:
    word, storage_root = right_proof.verify()
    assert word == right_proof.word != ZERO_WORD
    assert storage_root == right_proof.storage_hash
    packed = unpack_right(word)
    version, office, kind, confidential, digest = chain.fresh.contract.functions.rightOf(
        chain.right_id
    ).call()
    assert (version, office) == (1, b"EP")
    assert (packed.version, packed.office, packed.kind, packed.confidential) == (1, "EP", kind, confidential)
    assert packed.state_digest == bytes(digest)


def test_a_real_proof_of_an_anchors_slot_verifies_to_the_stored_word(chain: Chain) -> None:
    proof = proof_of(chain.fresh, anchor_slot(chain.root), chain.block)
    word, _ = proof.verify()
    assert word == proof.word
    anchor = unpack_anchor(word)
    office, count, block_number, timestamp = chain.fresh.contract.functions.anchorOf(chain.root).call()
    assert office == b"KR"
    assert (anchor.office, anchor.count, anchor.block_number, anchor.timestamp) == (
        "KR",
        count,
        block_number,
        timestamp,
    )


def test_a_slot_never_written_is_proven_empty(chain: Chain) -> None:
    proof = proof_of(chain.fresh, right_slot(b"\x42" * 32), chain.block)
    word, storage_root = proof.verify()
    assert word == ZERO_WORD and storage_root == proof.storage_hash
    assert unpack_right(word).version == 0


def test_an_absent_account_is_refused(chain: Chain) -> None:
    nobody = "0x" + "42" * 20
    proof = proof_of(chain.fresh, right_slot(chain.right_id), chain.block, address=nobody)
    with pytest.raises(ProofError, match="the account does not exist under this state root"):
        proof.verify()


@pytest.mark.parametrize("node", [0, -1])
@pytest.mark.parametrize(("which", "named"), [("account_proof", "account"), ("storage_proof", "storage")])
def test_a_tampered_account_or_storage_proof_is_refused(
    right_proof: Proof, which: str, named: str, node: int
) -> None:
    tampered = list(getattr(right_proof, which))
    tampered[node] = altered(tampered[node])
    with pytest.raises(ProofError, match=f"{named} proof: the proof does not lead from the root to the key"):
        right_proof.verify(**{which: tampered})


def test_a_proof_checked_against_another_state_root_is_refused(chain: Chain, right_proof: Proof) -> None:
    earlier = proof_of(chain.fresh, right_slot(chain.right_id), chain.before)
    assert earlier.word == ZERO_WORD  # the right was not registered yet
    for root in (earlier.state_root, b"\x33" * 32):
        with pytest.raises(ProofError, match="account proof: the proof does not lead from the root"):
            right_proof.verify(state_root=root)


def test_a_rewritten_value_in_the_storage_leaf_is_refused(right_proof: Proof) -> None:
    path, value = rlp.decode(right_proof.storage_proof[-1])
    assert rlp.decode(value) == right_proof.word.lstrip(b"\0")  # the leaf holds the word, RLP-encoded
    forged = rlp.encode([path, rlp.encode(b"\x01" + right_proof.word.lstrip(b"\0")[1:])])
    with pytest.raises(ProofError, match="storage proof: the proof does not lead from the root to the key"):
        right_proof.verify(storage_proof=[*right_proof.storage_proof[:-1], forged])


def test_a_proof_of_one_slot_never_proves_another_slots_word(chain: Chain, right_proof: Proof) -> None:
    try:
        word, _ = right_proof.verify(slot=anchor_slot(chain.root))
    except ProofError as err:
        assert "storage proof" in str(err)
    else:
        assert word == ZERO_WORD  # the other key's path ends inside the proof: proven absent from it


def test_a_node_that_is_not_rlp_or_not_a_trie_node_is_refused(right_proof: Proof) -> None:
    with pytest.raises(ProofError, match="storage proof: a proof node is not RLP"):
        right_proof.verify(storage_proof=[*right_proof.storage_proof, b"\xf8"])
    with pytest.raises(
        ProofError, match=r"storage proof: a proof node is not a trie node \(ValidationError\)"
    ):
        right_proof.verify(storage_proof=[*right_proof.storage_proof, rlp.encode([b"a", b"b", b"c"])])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_mutation_of_a_proof_escapes_as_another_exception(right_proof: Proof, data: Any) -> None:
    which = data.draw(st.sampled_from(["account_proof", "storage_proof"]))
    nodes = list(getattr(right_proof, which))
    index = data.draw(st.integers(0, len(nodes) - 1))
    node = nodes[index]
    at = data.draw(st.integers(0, len(node) - 1))
    nodes[index] = data.draw(
        st.one_of(
            st.just(node[:at] + bytes([data.draw(st.integers(0, 255))]) + node[at + 1 :]),
            st.just(node[:at]),
            st.binary(max_size=600),
        )
    )
    try:
        word, _ = right_proof.verify(**{which: nodes})
    except ProofError:
        return
    assert word == right_proof.word  # a change that still verifies left the proven value as it was
