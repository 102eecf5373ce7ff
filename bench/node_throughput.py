"""Office-node throughput against raw transactions, on one fresh ganache, in one run.

Writes bench/results/node.json:
  node_changes_per_s     ownership changes accepted by a running node's API (`ipreg node run`, 8 concurrent
                         HTTP clients) and confirmed on chain, per second
  raw_tx_per_s           the same contract call (recordOwnershipChange) signed locally and sent raw straight
                         to the same ganache, pipelined, per second until the last receipt: the best of one
                         by one and JSON-RPC batches, measured before and after the node (the higher counts)
  ratio                  node_changes_per_s / raw_tx_per_s (target >= 0.8)
  bulk_rights_per_s      rights imported and confirmed from generated ST.96 files in anchor mode: parsed
                         on every core (a ParsePool), signed, stored, and proven by Merkle roots anchored
                         one transaction per ANCHOR_BATCH records (target >= 1,000)
  bulk_registered_per_s  the same import in per-right mode: every right gets its own state on chain
                         (registerBatch), bounded by ganache's EVM
  bulk_parse_workers_start_s
                         starting the parse workers, once, before the bulk clocks (a node keeps them)

`--only bulk` measures the anchored bulk import alone (on a fresh chain) and prints it; it writes a file only
when `--out` is given, so a quick run never leaves a partial node.json behind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry_node.devnet.chains import fund
from registry_node.devnet.ganache import Ganache, free_port
from registry_node.node.anchors import inclusion_proof
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.office import Accepted, Office
from registry_node.node.outbox import OutboxWorker
from registry_node.node.store import OutboxState, Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import ConfirmationDepth, connect, fee_fields, rpc_batch
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import OfficeSigningKey, load_account
from registry_node.protocol.records import chain_right_id
from registry_node.protocol.st96 import ParsePool

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "node.json"
IPREG = ROOT / ".venv" / "bin" / "ipreg"
PASSWORD = "bench password"
GRANTED = b"A1A10"
EVIDENCE = hashlib.sha256(b"deed").hexdigest()
SAMPLE = ROOT / "tests" / "assets" / "st96" / "patent_application_publication.xml"
BULK_BATCH = 250  # registrations per registerBatch transaction (about 7.3M gas)
ANCHOR_BATCH = 1000  # records per anchored Merkle root (the node's default anchor_batch_size)


def ipreg(*args: str, env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run([str(IPREG), *args], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"ipreg {' '.join(args)} failed: {result.stderr}")
    return json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def right_json(right_id: str) -> dict[str, Any]:
    return {
        "rightId": right_id,
        "rightKindCategory": "patent",
        "applicationNumberText": right_id.split(":")[2],
        "filingDate": "2023-05",
        "inventionTitle": "Heat exchanger",
        "ownerBag": [{"name": "Acme Ltd", "countryCode": "GB"}],
        "legalStatus": {"stateCode": "A", "stageCode": 1, "keyEventCode": "A10"},
    }


def change_json(right_id: str) -> dict[str, Any]:
    return {
        "conveyanceCategory": "assignment",
        "assignorBag": [{"name": "Acme Ltd"}],
        "assigneeBag": [{"name": "Beta GmbH", "countryCode": "DE"}],
        "effectiveDate": "2026-01-15",
        "recordalDate": "2026-02-01",
        "rightIdBag": [right_id],
        "evidenceDocumentHash": EVIDENCE,
    }


def raw_baseline(w3: Web3, contract: Any, account: LocalAccount, n: int, tag: str) -> dict[str, float]:
    """recordOwnershipChange signed locally and sent raw, pipelined: changes/s to the last receipt, sent
    one eth_sendRawTransaction at a time (`single`) and as JSON-RPC batches of 100 (`batched`, the
    transport the node's worker uses). Each way gets its own n rights; signing is done before the clock
    starts."""
    states = {i: (hashlib.sha256(f"raw {tag} {i}".encode()).digest(),
                  hashlib.sha256(f"o {i}".encode()).digest(), GRANTED) for i in range(2 * n)}  # fmt: skip
    ids = {i: chain_right_id(f"EP:PAT:RAW{tag.upper()}{i}") for i in range(2 * n)}
    transactor = Transactor(w3, account, load_artifact().abi)
    for start in range(0, 2 * n, 200):
        batch = [(ids[i], 0, False, states[i]) for i in range(start, min(2 * n, start + 200))]
        transactor.send(contract.functions.registerBatch(batch))
    fees = fee_fields(w3)
    conveyance = (0, False, 20260115, bytes.fromhex(EVIDENCE))

    def signed(first: int) -> list[bytes]:
        nonce = w3.eth.get_transaction_count(account.address, "pending")
        raws = []
        for k, i in enumerate(range(first, first + n)):
            call = contract.functions.recordOwnershipChange(
                ids[i], 1, states[i], hashlib.sha256(b"new").digest(), states[i][1], conveyance
            )
            tx = call.build_transaction({"from": account.address, "chainId": w3.eth.chain_id,
                                         "nonce": nonce + k, "gas": 120_000, **fees})  # fmt: skip
            raws.append(bytes(account.sign_transaction(tx).raw_transaction))
        return raws

    def confirmed(hashes: list[Any]) -> None:
        for tx_hash in hashes:
            assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1

    raws = signed(0)
    started = time.perf_counter()
    confirmed([w3.eth.send_raw_transaction(raw) for raw in raws])
    single = n / (time.perf_counter() - started)

    raws = signed(n)
    started = time.perf_counter()
    hashes = []
    for start in range(0, n, 100):
        answers = rpc_batch(
            w3, [("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in raws[start : start + 100]]
        )
        hashes += [answer.result for answer in answers]
    confirmed(hashes)
    batched = n / (time.perf_counter() - started)
    return {"single": single, "batched": batched}


def node_changes(
    url: str, token: str, store: Store, n: int, accepted_per_s: list[float] | None = None
) -> float:
    """Ownership changes through the node's API, per second until every one is confirmed on chain; the rate
    at which the node answered them 202 is appended to `accepted_per_s` when it is given."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for i in range(n):
            client.post("/v1/rights", json={"right": right_json(f"EP:PAT:NODE{i}")}).raise_for_status()
        wait_confirmed(store, n)
        started = time.perf_counter()

        def transfer(i: int) -> None:
            body = {"expectedVersion": 1, "change": change_json(f"EP:PAT:NODE{i}")}
            client.post(f"/v1/rights/EP:PAT:NODE{i}/ownership-changes", json=body).raise_for_status()

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(transfer, range(n)))
        if accepted_per_s is not None:
            accepted_per_s.append(n / (time.perf_counter() - started))
        wait_confirmed(store, 2 * n)
        return n / (time.perf_counter() - started)


def wait_confirmed(store: Store, count: int, timeout_s: float = 600) -> None:
    """Waits until the node's own store (read beside it: SQLite WAL) has `count` confirmed entries."""
    deadline = time.monotonic() + timeout_s
    while store.count((OutboxState.CONFIRMED,)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} changes not confirmed within {timeout_s:.0f} s")
        time.sleep(0.05)


def st96_files(folder: Path, files: int, first: int) -> list[Path]:
    """Generated ST.96 patent publications, each a different application number."""
    template = SAMPLE.read_text("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(first, first + files):
        path = folder / f"EP{i:07d}.xml"
        path.write_text(template.replace("19175123.4", f"2{i:07d}.4"), "utf-8")
        paths.append(path)
    return paths


def start_parse_workers(pool: ParsePool) -> float:
    """Starts the pool's workers; the seconds it took."""
    started = time.perf_counter()
    pool.start()
    seconds = time.perf_counter() - started
    print(f"parse workers: {pool.workers} started in {seconds:.2f} s", flush=True)
    return seconds


def bulk_import(
    w3: Web3,
    contract: Any,
    account: LocalAccount,
    pool: ParsePool,
    folder: Path,
    files: int,
    first: int,
    anchored: bool,
    confirmations: int | ConfirmationDepth = 1,
) -> float:
    """Generated ST.96 files imported by an office (parsed on every core by the pool's running workers,
    signed, stored in one transaction) and taken to the chain, per right (registerBatch transactions) or
    anchored (one anchor transaction per ANCHOR_BATCH records): rights per second, from reading the first
    file until the last transaction is confirmed (at `confirmations` depth)."""
    paths = st96_files(folder / ("anchored" if anchored else "registered"), files, first)
    store = Store(folder / ("anchored.sqlite" if anchored else "registered.sqlite"))
    office = Office("EP", store, OfficeSigningKey.generate())
    worker = OutboxWorker(store, w3, contract, account, confirmations, batch_size=BULK_BATCH)
    started = time.perf_counter()
    outcomes = pool.import_files(paths)
    documents = [o.document for o in outcomes if o.document is not None]
    rights: list[tuple[Any, bytes | None]] = [(d.right, d.source) for d in documents]
    accepted = office.anchor_many(rights, ANCHOR_BATCH).results if anchored else office.register_many(rights)
    worker.drain(timeout_s=900)
    elapsed = time.perf_counter() - started
    assert len(documents) == files and all(isinstance(a, Accepted) for a in accepted)
    assert store.count((OutboxState.CONFIRMED,)) == store.count()
    if anchored:  # every record is proven on chain by its anchor
        for a in accepted[:: max(1, files // 50)]:
            assert isinstance(a, Accepted)
            anchor = store.anchor_of(a.right_id, 1)
            assert anchor is not None
            proof = inclusion_proof(anchor, a.record_hash)
            assert contract.functions.verifyRecord(anchor.root, a.record_hash, proof).call()
    return files / elapsed


def run(changes: int, files: int, only_bulk: bool = False) -> dict[str, Any]:
    load_at_start = os.getloadavg()
    deployer: LocalAccount = Account.create()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPREG_NODE_")}
    env["IPREG_NODE_PASSWORD"] = PASSWORD
    abi = load_artifact().abi
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        chain = Ganache(base / "chain", port=free_port(), funded_accounts=["0x" + deployer.key.hex()])
        with chain, ParsePool() as pool:
            w3 = connect(chain.rpc_url)
            port = free_port()
            init = [
                "node",
                "init",
                "--office",
                "EP",
                "--name",
                "European Patent Office",
                "--json",
                "--data-dir",
                str(base / "ep"),
                "--rpc",
                chain.rpc_url,
                "--listen-port",
                str(port),
            ]
            node = ipreg(*init, env=env)
            fund(w3, deployer, node["account"])
            config = ConsortiumConfig([FoundingOffice("EP", "European Patent Office", node["account"],
                                                      f"http://127.0.0.1:{port}")])  # fmt: skip
            deployment = deploy_consortium(Transactor(w3, deployer, abi), config)
            with (base / "ep" / "node.toml").open("a", encoding="utf-8") as toml:
                toml.write(f'contract_address = "{deployment.address}"\nchain_id = {deployment.chain_id}\n')
            contract = w3.eth.contract(address=deployment.address, abi=abi)
            account = load_account(base / "ep" / "account.json", PASSWORD)

            if only_bulk:
                pool_start_s = start_parse_workers(pool)
                print(f"bulk import: {files} generated ST.96 files, anchored ...", flush=True)
                bulk_per_s = bulk_import(w3, contract, account, pool, base, files, 0, anchored=True)
                return {"bulk_rights_per_s": round(bulk_per_s, 2), "bulk_files": files,
                        "bulk_parse_workers_start_s": round(pool_start_s, 2),
                        "environment": environment(load_at_start),
                        "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip

            print(f"raw baseline: {changes} signed recordOwnershipChange transactions ...", flush=True)
            raw = [raw_baseline(w3, contract, account, changes, "before")]
            print(
                f"  {raw[0]['single']:.1f} tx/s one by one, {raw[0]['batched']:.1f} tx/s in batches",
                flush=True,
            )

            pool_start_s = start_parse_workers(pool)
            print(f"bulk import: {files} generated ST.96 files, anchored ...", flush=True)
            bulk_per_s = bulk_import(w3, contract, account, pool, base, files, 0, anchored=True)
            print(f"  {bulk_per_s:.1f} rights/s", flush=True)
            print(f"bulk import: {files} generated ST.96 files, each right registered ...", flush=True)
            registered_per_s = bulk_import(w3, contract, account, pool, base, files, files, anchored=False)
            print(f"  {registered_per_s:.1f} rights/s", flush=True)

            print(f"node API: {changes} ownership changes ...", flush=True)
            log = (base / "node.log").open("wb")
            process = subprocess.Popen([str(IPREG), "node", "run", "--data-dir", str(base / "ep")], env=env,
                                       stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
            try:
                url = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise SystemExit(f"node did not start: {(base / 'node.log').read_text()[-2000:]}")
                    time.sleep(0.1)
                node_per_s = node_changes(
                    url, node["operatorToken"], Store(base / "ep" / "node.sqlite"), changes
                )
            finally:
                process.terminate()
                process.wait(timeout=30)
            print(f"  {node_per_s:.1f} changes/s", flush=True)
            print(f"raw baseline again: {changes} signed recordOwnershipChange transactions ...", flush=True)
            raw.append(raw_baseline(w3, contract, account, changes, "after"))
            print(
                f"  {raw[1]['single']:.1f} tx/s one by one, {raw[1]['batched']:.1f} tx/s in batches",
                flush=True,
            )
            raw_per_s = max(max(r.values()) for r in raw)
            client = w3.client_version
    return {
        "node_changes_per_s": round(node_per_s, 2),
        "raw_tx_per_s": round(raw_per_s, 2),
        "ratio": round(node_per_s / raw_per_s, 3),
        "changes": changes,
        "raw_tx_per_s_measured": [{k: round(v, 2) for k, v in r.items()} for r in raw],
        "bulk_rights_per_s": round(bulk_per_s, 2),
        "bulk_registered_per_s": round(registered_per_s, 2),
        "bulk_files": files,
        "bulk_parse_workers_start_s": round(pool_start_s, 2),
        "notes": {
            "ratio": "raw_tx_per_s is the best of four raw runs (one by one and JSON-RPC batches of 100, "
            "before and after the node's run); the node is `ipreg node run` with its outbox worker, fed by "
            "8 HTTP clients",
            "bulk_rights_per_s": f"anchor mode: records parsed (on {pool.workers} worker processes), signed, "
            f"stored, and anchored under Merkle roots of {ANCHOR_BATCH} (one anchor transaction each), "
            "confirmed; rights get per-right state when first changed",
            "bulk_parse_workers_start_s": "starting the parse workers (and their fork server, which imports "
            "the caller's main module), before the bulk clocks start, as a running node keeps its workers "
            "from one import to the next; paid once per process",
            "bulk_registered_per_s": f"per-right mode: every right registered on chain in registerBatch "
            f"transactions of {BULK_BATCH}, confirmed; bounded by ganache's EVM (~29k gas per right)",
        },
        "targets": {"ratio": 0.8, "bulk_rights_per_s": 1000},
        "chain": {"client": client},
        "environment": environment(load_at_start),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def environment(load_at_start: tuple[float, float, float]) -> dict[str, Any]:
    """Where the figures were measured; the load averages (1, 5, 15 min) say how shared the machine was."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=500, help="ownership changes, each way (>= 500)")
    parser.add_argument("--files", type=int, default=5000, help="ST.96 files in each bulk import")
    parser.add_argument(
        "--only", choices=["bulk"], help="measure only the anchored bulk import (written only with --out)"
    )
    parser.add_argument("--out", type=Path, help=f"results file (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    results = run(args.changes, args.files, only_bulk=args.only == "bulk")
    out = args.out or (None if args.only else RESULTS)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    if args.only:
        print(json.dumps(results))
        return 0
    print(
        json.dumps(
            {
                k: results[k]
                for k in (
                    "node_changes_per_s",
                    "raw_tx_per_s",
                    "ratio",
                    "bulk_rights_per_s",
                    "bulk_registered_per_s",
                )
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
