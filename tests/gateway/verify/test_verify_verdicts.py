"""The tamper matrix: each case is verified against the real chain and real office nodes, and gets its
verdict with the checks that explain it."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from conftest import EVIDENCE, World  # type: ignore[import-not-found]  # this folder's conftest

from gateway.verify.facts import Candidate
from gateway.verify.models import Verdict
from registry_node.protocol.records import chain_right_id

ST96 = Path(__file__).resolve().parents[2] / "assets" / "st96"


def results(verdict: Verdict) -> dict[str, str]:
    return {c.name: c.result for c in verdict.checks}


def test_the_current_version_of_a_right_is_authentic_current(world: World) -> None:
    verdict = world.verifier.verify_right(world.facts["three_versions"])

    assert verdict.verdict == "authentic-current"
    assert verdict.version == verdict.current_version == 3
    checks = results(verdict)
    for name in ("chain-state", "document-fetch", "record-hash", "right-id", "signature", "key-validity"):
        assert checks[name] == "pass", name
    assert verdict.block.number == world.w3.eth.block_number
    body = verdict.to_json()
    assert body["block"]["hash"] == world.w3.eth.get_block(verdict.block.number)["hash"].to_0x_hex()


def test_a_right_read_by_its_chain_id_is_verified_the_same_way(world: World) -> None:
    rid = world.facts["three_versions"]
    verdict = world.verifier.verify_right("0x" + chain_right_id(rid).hex())
    assert verdict.verdict == "authentic-current"
    assert verdict.right_id == rid


def test_a_stated_past_block_sees_the_version_current_then(world: World) -> None:
    rid = world.facts["three_versions"]
    history = world.reader.history(chain_right_id(rid), world.w3.eth.block_number)
    verdict = world.verifier.verify_right(rid, at_block=history[0].block_number)
    assert verdict.verdict == "authentic-current"
    assert verdict.version == 1
    assert verdict.block.number == history[0].block_number


def test_an_older_version_uploaded_is_superseded_and_names_the_current_one(world: World) -> None:
    rid = world.facts["three_versions"]
    first = world.document("EP", rid, 1)
    verdict = world.verifier.verify_document(json.dumps(first).encode())
    assert verdict.verdict == "authentic-superseded"
    assert verdict.version == 1
    assert verdict.current_version == 3
    assert "version 3" in next(c.detail for c in verdict.checks if c.name == "current-version")


def test_a_bare_record_json_is_verified_with_the_signature_fetched_from_its_office(world: World) -> None:
    rid = world.facts["three_versions"]
    record = world.document("EP", rid, 3)["record"]
    verdict = world.verifier.verify_document(json.dumps(record, indent=2).encode())
    assert verdict.verdict == "authentic-current"
    assert results(verdict)["document-fetch"] == "pass"


def test_one_byte_changed_in_a_record_is_tampered(world: World) -> None:
    document = world.document("EP", world.facts["three_versions"], 3)
    canonical = base64.b64decode(document["canonical"]).replace(b"Nordic", b"Nordik")
    document["canonical"] = base64.b64encode(canonical).decode()
    verdict = world.verifier.verify_document(json.dumps(document).encode())
    assert verdict.verdict == "tampered"
    assert results(verdict)["record-hash"] == "fail"
    assert results(verdict)["signature"] == "fail"


def test_a_swapped_signature_is_bad_signature(world: World) -> None:
    document = world.document("GB", world.facts["gb"], 1)
    document["signature"] = world.gb.other_signature
    verdict = world.verifier.verify_document(json.dumps(document).encode())
    assert verdict.verdict == "bad-signature"
    assert results(verdict)["record-hash"] == "pass"
    assert results(verdict)["signature"] == "fail"


def test_a_document_signed_after_its_key_was_revoked_is_key_revoked(world: World) -> None:
    verdict = world.verifier.verify_right(world.facts["signed_after_revocation"])
    assert verdict.verdict == "key-revoked"
    checks = results(verdict)
    assert checks["signature"] == "pass"
    assert checks["key-validity"] == "fail"
    assert f"revoked at block {world.facts['revoked_at']}" in next(
        c.detail for c in verdict.checks if c.name == "signing-key"
    )


def test_records_signed_before_the_revocation_stay_authentic(world: World) -> None:
    verdict = world.verifier.verify_right(world.facts["three_versions"])
    assert verdict.verdict == "authentic-current"
    assert results(verdict)["key-validity"] == "pass"


def test_a_confidential_right_says_only_that_its_seal_is_on_chain(world: World) -> None:
    verdict = world.verifier.verify_right(world.facts["confidential"])
    assert verdict.verdict == "confidential"
    assert "document-fetch" not in results(verdict)


def test_a_right_of_a_suspended_office_says_so_and_stays_verifiable(world: World) -> None:
    verdict = world.verifier.verify_right(world.facts["kr"])
    assert verdict.verdict == "authentic-current"
    standing = next(c for c in verdict.checks if c.name == "office-standing")
    assert "suspended" in standing.detail
    assert "never retroactive" in standing.detail


def test_a_deep_link_that_returns_an_altered_document_is_tampered(world: World) -> None:
    with world.hostile("alter"):
        verdict = world.verifier.verify_right(world.facts["gb"])
    assert verdict.verdict == "tampered"
    assert results(verdict)["record-hash"] == "fail"


def test_a_deep_link_that_swaps_the_signature_is_bad_signature(world: World) -> None:
    with world.hostile("swap-signature"):
        verdict = world.verifier.verify_right(world.facts["gb"])
    assert verdict.verdict == "bad-signature"


def test_an_office_endpoint_that_is_down_is_office_unreachable_with_what_was_still_checked(
    world: World,
) -> None:
    with world.nodes["KR"].server.stopped():
        verdict = world.verifier.verify_right(world.facts["kr"])
    assert verdict.verdict == "office-unreachable"
    assert results(verdict)["chain-state"] == "pass"
    assert results(verdict)["document-fetch"] == "fail"
    assert verdict.still_checked is not None
    assert "chain-state: pass" in verdict.still_checked


def test_a_signed_upload_is_still_checked_when_its_office_is_down(world: World) -> None:
    document = world.document("KR", world.facts["kr"], 1)
    with world.nodes["KR"].server.stopped():
        verdict = world.verifier.verify_document(json.dumps(document).encode())
    assert verdict.verdict == "authentic-current"  # the upload carries its signature: nothing to fetch
    assert results(verdict)["signature"] == "pass"


def test_silent_huge_and_redirecting_endpoints_are_bounded(world: World) -> None:
    """The silent endpoint never answers while the verification runs, so a verdict proves the timeout."""
    for mode, words in (
        ("slow", "no answer within 1 s"),
        ("huge", f"over {256 * 1024} bytes"),
        ("redirect", "redirected (302)"),
    ):
        with world.hostile(mode):
            verdict = world.verifier.verify_right(world.facts["gb"])
        assert verdict.verdict == "office-unreachable", mode
        assert words in next(c.detail for c in verdict.checks if c.name == "document-fetch"), mode


def test_an_anchored_record_with_its_merkle_proof_is_authentic_current(world: World) -> None:
    item = world.facts["anchored"][0]
    upload = {
        "canonical": base64.b64encode(item["canonical"]).decode(),
        "signature": item["signature"].to_json(),
        "anchor": {"root": item["root"].hex(), "proof": [p.hex() for p in item["proof"]]},
    }
    verdict = world.verifier.verify_document(json.dumps(upload).encode())
    assert verdict.verdict == "authentic-current", verdict.to_json()
    assert results(verdict)["merkle-proof"] == "pass"
    assert results(verdict)["key-validity"] == "pass"  # the key was valid at the anchor's block

    upload["anchor"]["proof"] = [hashlib.sha256(b"forged").hexdigest()]  # type: ignore[index]
    assert world.verifier.verify_document(json.dumps(upload).encode()).verdict == "tampered"


def test_an_evidence_document_is_found_through_the_locate_hook_and_checked_on_chain(world: World) -> None:
    rid = world.facts["three_versions"]

    def locate(digest: bytes) -> list[Candidate]:
        return [Candidate(chain_right_id(rid), rid)] if digest == hashlib.sha256(EVIDENCE).digest() else []

    verdict = world.verifier.verify_document(EVIDENCE, filename="deed.pdf", locate=locate)
    assert verdict.verdict == "authentic-current"
    assert "ownership change version 2" in next(c.detail for c in verdict.checks if c.name == "evidence-hash")
    assert world.verifier.verify_document(b"some other file", locate=locate).verdict == "unknown"


def test_an_unknown_right_is_unknown(world: World) -> None:
    assert world.verifier.verify_right("EP:PAT:EP9999999").verdict == "unknown"


def test_an_st96_xml_is_matched_through_its_c14n_hash(world: World) -> None:
    from registry_node.protocol.st96 import parse_st96

    source = (ST96 / "patent_application_publication.xml").read_bytes()
    ep = world.nodes["EP"]
    document = parse_st96(source)
    ep.office.register(document.right, source_xml=source)
    ep.worker.drain()
    verdict = world.verifier.verify_document(source, content_type="application/xml")
    assert verdict.verdict == "authentic-current", verdict.to_json()
    assert results(verdict)["source-xml"] == "pass"

    altered = source.replace(b"conical burr", b"conical burs")
    tampered = world.verifier.verify_document(altered, filename="publication.xml")
    assert tampered.verdict == "tampered"
    assert results(tampered)["source-xml"] == "fail"
