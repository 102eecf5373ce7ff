"""What binding a receipt to the consortium costs: the size of a receipt (schema ipreg/receipt/2) with its
sealed headers and the storage proof of its office key, and the time `ipreg verify --anchor` takes to check
it offline, on real Clique networks of three and of five go-ethereum validators (one per office, period 1 s).

Each network is started once, as a LocalConsortium with one office node per office and no gateway. Every
office registers rights through its own node; one of EP's rights then goes through two ownership changes
(an assignment, then a merger), so one receipt is of a third version whose record carries its history.
Receipts are built in this process as the gateway builds them (`build_receipt` over a ChainReader and the
offices' deep links, at the newest final block, signed by an ephemeral gateway key) and the trust anchor is
read from the chain (`ValidatorHistory.anchor()`), as `ipreg network anchor` writes it. The network is then
stopped and the checks are timed offline, as an auditor runs them, with no validator or node competing for
the machine's cores.

Writes bench/results/receipts.json; for each network and each receipt:

  bytes_compact, bytes_indent2   the receipt as JSON: compact (as the gateway serves it) and indented by 2
                                 (as a person saves it)
  seal_headers                   how many sealed headers follow the receipt's block (up to the first at which
                                 a majority of the validators has sealed)
  seals_bytes, key_proof_bytes   the compact JSON of `seals` and of `officeKeyProof` (the parts the anchor
                                 checks), and their share of the receipt
  anchored_s, consistency_s      median and p95 of `check_receipt(receipt, anchor=anchor)` and, in the same
                                 run, of `check_receipt(receipt)` (consistency only): `runs` calls each
                                 (100; 10 with --quick), alternating, after a few untimed calls
  anchor_cost_ratio              anchored median / consistency median: what checking the seals and the key
                                 proof adds. Machines are noisy; this same-run ratio is the figure to compare

Every receipt is checked first: verified against the anchor (`ok`), and consistent but unbound without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # run as a script: bench/gateway.py would otherwise shadow the `gateway` package

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from web3 import Web3  # noqa: E402

from bench.node_throughput import change_json, right_json  # noqa: E402
from gateway.deep_links import OfficeDocuments  # noqa: E402
from gateway.endpoint_policy import EndpointPolicy  # noqa: E402
from gateway.verify.chain_reads import ChainReader  # noqa: E402
from gateway.verify.receipt_evidence import check_receipt  # noqa: E402
from gateway.verify.receipts import ReceiptUnavailable, build_receipt  # noqa: E402
from gateway.verify.signer import GatewaySigner  # noqa: E402
from gateway.verify.verifier import Verifier  # noqa: E402
from registry_node.devnet.consortium import Founder, LocalConsortium  # noqa: E402
from registry_node.devnet.ganache import free_port  # noqa: E402
from registry_node.devnet.geth import GETH_VERSION  # noqa: E402
from registry_node.devnet.network import GethNetwork  # noqa: E402
from registry_node.experiment.metrics import machine, percentile  # noqa: E402
from registry_node.protocol.chain import ConfirmationDepth, connect  # noqa: E402
from registry_node.protocol.consensus.anchor import ConsortiumAnchor  # noqa: E402
from registry_node.protocol.consensus.signers import ValidatorHistory  # noqa: E402
from registry_node.protocol.contract import load_artifact  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "receipts.json"
NETWORKS = (("EP", "GB", "KR"), ("EP", "GB", "KR", "FR", "DE"))
PERIOD_S = 1
RUNS, QUICK_RUNS = 100, 10
RIGHTS_PER_OFFICE, QUICK_RIGHTS_PER_OFFICE = 2, 1
WARM_UP = 5  # untimed calls of each kind first: the ABI, the codecs and the key objects are loaded once
OUTBOX_TIMEOUT_S = 120
RECEIPT_TIMEOUT_S = 60  # a receipt is refused (409) until a majority has sealed on its block
MERGER_EVIDENCE = "ab" * 32  # the merger deed's SHA-256 (hex)

Say = Callable[[str], None]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------ rights worth a receipt


def moved_right(code: str) -> str:
    """The right of each network that goes through two ownership changes (version 3)."""
    return f"{code}:PAT:{code}7700001"


def seed(consortium: LocalConsortium, per_office: int) -> dict[str, int]:
    """Registers `per_office` patents at each office through its node and takes the first of EP's through an
    assignment and a merger; returns each right with the version its receipt must show, once every change
    is confirmed (final) by its node."""
    versions: dict[str, int] = {}
    for code, office in consortium.offices.items():
        with office.client() as client:
            for i in range(per_office):
                right_id = f"{code}:PAT:{code}77{i + 1:05d}"
                client.register(right_json(right_id))
                versions[right_id] = 1
    moved = moved_right("EP")
    with consortium.offices["EP"].client() as client:
        client.wait_for_outbox(OUTBOX_TIMEOUT_S)
        client.record_ownership_change(moved, 1, change_json(moved))
        client.wait_for_outbox(OUTBOX_TIMEOUT_S)
        merger = {
            **change_json(moved),
            "conveyanceCategory": "merger",
            "assignorBag": [{"name": "Beta GmbH"}],
            "assigneeBag": [{"name": "Gamma Holding AG", "countryCode": "CH"}],
            "effectiveDate": "2026-03-01",
            "recordalDate": "2026-03-20",
            "officeRecordIdentifier": "EP-REEL-0042/FRAME-0117",
            "evidenceDocumentHash": MERGER_EVIDENCE,
        }
        client.record_ownership_change(moved, 2, merger)
        versions[moved] = 3
    for office in consortium.offices.values():
        with office.client() as client:
            client.wait_for_outbox(OUTBOX_TIMEOUT_S)
    return versions


def build_receipts(
    verifier: Verifier, versions: dict[str, int], signer: GatewaySigner
) -> tuple[dict[str, dict[str, Any]], list[float]]:
    """Each right's receipt at the newest final block, as the gateway serves it, and the seconds each took;
    asked again while its block is not final yet (409) or the final block still shows an older version."""
    receipts: dict[str, dict[str, Any]] = {}
    took: list[float] = []
    for right_id, version in versions.items():
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        while True:
            started = time.perf_counter()
            try:
                receipt = build_receipt(verifier.gatherer, right_id, signer=signer)
            except ReceiptUnavailable as err:
                if err.status != 409 or time.monotonic() > deadline:
                    raise
            else:
                if receipt["version"] == version:
                    took.append(time.perf_counter() - started)
                    receipts[right_id] = receipt
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{right_id}: version {version} not at the final block in time")
            time.sleep(PERIOD_S / 2)
    return receipts, took


# ------------------------------------------------------------ what is measured


def compact(value: Any) -> bytes:
    """JSON as the gateway's JSONResponse writes it (no spaces, UTF-8)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sizes(receipt: dict[str, Any]) -> dict[str, Any]:
    total = len(compact(receipt))
    seals = receipt["seals"]
    seals_bytes, key_proof_bytes = len(compact(seals)), len(compact(receipt["officeKeyProof"]))
    return {
        "bytes_compact": total,
        "bytes_indent2": len(json.dumps(receipt, indent=2).encode("utf-8")),
        "seal_headers": len(seals["headers"]) if seals else 0,
        "seals_bytes": seals_bytes,
        "key_proof_bytes": key_proof_bytes,
        "key_proof_slots": len(receipt["officeKeyProof"]["slots"]) if receipt["officeKeyProof"] else 0,
        "storage_proof_bytes": len(compact(receipt["storageProof"])),
        "seals_and_key_proof_share": round((seals_bytes + key_proof_bytes) / total, 3),
    }


def check_first(receipt: dict[str, Any], anchor: ConsortiumAnchor, signer: GatewaySigner) -> None:
    """A receipt is timed only once it verifies against the anchor (and the gateway's key), and is consistent
    but bound to nothing without the anchor."""
    bound = check_receipt(receipt, gateway_key=signer.key.public_key, anchor=anchor)
    assert bound.ok, bound.report()
    alone = check_receipt(receipt)
    assert alone.consistent and not alone.ok, alone.report()


def timings(receipt: dict[str, Any], anchor: ConsortiumAnchor, runs: int) -> dict[str, Any]:
    """`runs` anchored and `runs` consistency-only checks, alternating (which goes first swaps every round),
    so drift on the machine falls on both alike."""
    for _ in range(WARM_UP):
        check_receipt(receipt, anchor=anchor)
        check_receipt(receipt)
    anchored: list[float] = []
    alone: list[float] = []
    for i in range(runs):
        order = ((anchored, anchor), (alone, None))
        for into, trust in order if i % 2 == 0 else reversed(order):
            started = time.perf_counter()
            check_receipt(receipt, anchor=trust)
            into.append(time.perf_counter() - started)
    return {
        "anchored_s": spread(anchored),
        "consistency_s": spread(alone),
        "anchor_cost_ratio": round(statistics.median(anchored) / statistics.median(alone), 3),
    }


def spread(seconds: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(seconds), 6),
        "p95": round(percentile(seconds, 0.95), 6),
        "min": round(min(seconds), 6),
    }


# ------------------------------------------------------------ one network


@dataclass(frozen=True)
class Gathered:
    """What one network leaves for the offline measurements: its receipts and its trust anchor."""

    offices: tuple[str, ...]
    receipts: dict[str, dict[str, Any]]
    anchor: ConsortiumAnchor
    signer: GatewaySigner
    client: str
    set_up_s: float
    build_s: list[float]


def gather(folder: Path, offices: Sequence[str], per_office: int, report: Say = say) -> Gathered:
    """A consortium on one geth validator per office: rights seeded, their receipts built and the anchor
    read. Everything it started is stopped before it returns, so the offline checks are timed on a machine
    that runs no validator and no node."""
    password = secrets.token_urlsafe(16)
    network = GethNetwork(folder / "network", list(offices), password=password, period_s=PERIOD_S)
    consortium = LocalConsortium(folder / "consortium", network, password=password)
    documents = OfficeDocuments(policy=EndpointPolicy(allow_private=True))  # the offices serve on loopback
    started = time.monotonic()
    try:
        report(f"{len(offices)} validators ({','.join(offices)}): creating the consortium ...")
        consortium.create([Founder(code, f"Office {code}", free_port()) for code in offices])
        consortium.start()
        set_up_s = time.monotonic() - started
        report(f"  up in {set_up_s:.0f} s; {per_office} right(s) per office and two ownership changes ...")
        versions = seed(consortium, per_office)
        assert consortium.deployment is not None
        w3 = connect(network.office_rpc_urls(""))
        address = Web3.to_checksum_address(consortium.deployment.address)
        contract = w3.eth.contract(address=address, abi=load_artifact().abi)
        majority = ConfirmationDepth(ConfirmationDepth.MAJORITY)
        verifier = Verifier(ChainReader(w3, contract), documents, majority)
        signer = GatewaySigner.ephemeral()
        receipts, build_s = build_receipts(verifier, versions, signer)
        anchor = ValidatorHistory(w3, address).anchor()
        client = str(w3.client_version)
    finally:
        documents.close()
        consortium.stop()
    return Gathered(tuple(offices), receipts, anchor, signer, client, set_up_s, build_s)


def measure(gathered: Gathered, runs: int, report: Say = say) -> dict[str, Any]:
    """The network's receipts checked, sized and timed offline."""
    load_before = os.getloadavg()
    rows = []
    for right_id, receipt in gathered.receipts.items():
        check_first(receipt, gathered.anchor, gathered.signer)
        report(f"  timing {right_id} (version {receipt['version']}): {runs} checks each way")
        rows.append({
            "right_id": right_id,
            "version": receipt["version"],
            "block": receipt["chain"]["blockNumber"],
            **sizes(receipt),
            **timings(receipt, gathered.anchor, runs),
        })  # fmt: skip
    return {
        "validators": len(gathered.offices),
        "offices": list(gathered.offices),
        "client": gathered.client,
        "majority": len(gathered.offices) // 2 + 1,
        "anchor_validators": len(gathered.anchor.validators),
        "set_up_s": round(gathered.set_up_s, 1),
        "receipt_build_s_median": round(statistics.median(gathered.build_s), 4),
        "load_average_before_timing": [round(x, 2) for x in load_before],
        "summary": summary(rows),
        "receipts": rows,
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The network's receipts together: sizes as a range, times and ratios as medians of the receipts'."""

    def span(key: str) -> list[int]:
        return [min(r[key] for r in rows), max(r[key] for r in rows)]

    def med(pick: Callable[[dict[str, Any]], float], digits: int = 6) -> float:
        return round(statistics.median(pick(r) for r in rows), digits)

    return {
        "receipts": len(rows),
        "bytes_compact": span("bytes_compact"),
        "bytes_indent2": span("bytes_indent2"),
        "seal_headers": span("seal_headers"),
        "seals_bytes": span("seals_bytes"),
        "key_proof_bytes": span("key_proof_bytes"),
        "anchored_median_s": med(lambda r: r["anchored_s"]["median"]),
        "anchored_p95_s": med(lambda r: r["anchored_s"]["p95"]),
        "consistency_median_s": med(lambda r: r["consistency_s"]["median"]),
        "consistency_p95_s": med(lambda r: r["consistency_s"]["p95"]),
        "anchor_cost_ratio": med(lambda r: r["anchor_cost_ratio"], 3),
        "anchor_cost_ratio_range": [
            min(r["anchor_cost_ratio"] for r in rows),
            max(r["anchor_cost_ratio"] for r in rows),
        ],
    }


# ------------------------------------------------------------ the run


def run(runs: int, per_office: int, networks: Sequence[Sequence[str]] = NETWORKS) -> dict[str, Any]:
    load_at_start = os.getloadavg()
    measured = []
    with tempfile.TemporaryDirectory(prefix="ipreg-receipts-bench-") as tmp:
        for offices in networks:
            gathered = gather(Path(tmp) / f"n{len(offices)}", offices, per_office)
            measured.append(measure(gathered, runs))
    return {
        "schema": "ipreg/receipts-bench/1",
        "receipt_schema": "ipreg/receipt/2",
        "network": {"client": f"go-ethereum {GETH_VERSION} (Clique)", "period_s": PERIOD_S},
        "runs": runs,
        "warm_up": WARM_UP,
        "rights_per_office": per_office,
        "networks": {str(m["validators"]): m for m in measured},
        "notes": {
            "bytes": "bytes_compact is json.dumps with separators (',', ':') as the gateway's JSONResponse "
            "serves it, gatewaySignature included; bytes_indent2 is json.dumps(indent=2)",
            "seal_headers": "headers after the receipt's block up to the first at which a majority "
            "(floor(n/2)+1) of distinct validators has sealed; the receipt's own header (blockHeader) is "
            "not counted",
            "timing": "time.perf_counter around check_receipt(receipt, anchor=anchor) and "
            f"check_receipt(receipt), {runs} of each per receipt alternating, after {WARM_UP} untimed calls "
            "of each, once the network is stopped (the check is offline); no gateway key is given to either, "
            "so neither checks the gateway signature",
            "ratio": "anchor_cost_ratio = median anchored / median consistency-only, per receipt; a "
            "network's summary gives the median of its receipts' ratios",
        },
        "environment": {
            **machine(),
            "geth": measured[0]["client"] if measured else None,
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs, one right per office")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)
    runs, per_office = (QUICK_RUNS, QUICK_RIGHTS_PER_OFFICE) if args.quick else (RUNS, RIGHTS_PER_OFFICE)
    figures = run(runs, per_office)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    print(json.dumps({n: m["summary"] for n, m in figures["networks"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
