"""How often a new Clique network of go-ethereum validators starts and keeps sealing, two ways, in one run.

Each start makes a fresh network of `--validators` validators (default 4, the demo's EP, GB, KR and WO),
starts it, and waits for every validator to reach block `--blocks` on the same chain; a chain that has
not moved for `STALL_S` seconds has stalled (Clique's recency rule lets no validator seal on it). Starts
alternate between:

  in-turn first   the others mine for an instant (so that geth takes up the blocks its peers send), then
                  the validator in turn for the next block seals it alone, and the others seal once each
                  holds it (`GethNetwork._seal_all`: how the project starts a network)
  all at once     every validator is told to seal, one after another, as soon as its key is unlocked (how
                  it started one before; a geth not yet told to mine discards the blocks it is sent)

With `--load N`, N processes keep the cores busy meanwhile, as the test suite does (the stalls seen before
came under it). Writes bench/results/validator_start.json: per way, the starts, how many reached the
block, how many stalled and at which block, and the seconds to reach it (median, max).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # run as a script: bench/gateway.py would otherwise shadow the `gateway` package

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from registry_node.devnet.geth import GethError, Validator  # noqa: E402
from registry_node.devnet.network import GethNetwork  # noqa: E402

OFFICES = ("EP", "GB", "KR", "WO", "FR", "DE", "JP", "US")
STALL_S = 20.0
REACH_TIMEOUT_S = 120.0
WAYS = ("in-turn first", "all at once")
RESULTS = ROOT / "bench" / "results" / "validator_start.json"


class AllAtOnce(GethNetwork):
    """The start before: every validator told to seal, one after another, none first."""

    def _seal_in_turn_first(self, validators: list[Validator], head: int, wait_s: float) -> int:
        """None first: every validator is told to seal at once (then kicked again if the chain waits)."""
        return head


def one_start(folder: Path, way: str, validators: int, blocks: int, keep: Path | None) -> dict[str, Any]:
    """One fresh network started `way`; with `keep`, the validators' logs of a start that failed are copied
    there (under the start's folder name)."""
    kind = GethNetwork if way == WAYS[0] else AllAtOnce
    network = kind(folder, list(OFFICES[:validators]), password=secrets.token_urlsafe(12), period_s=1)
    began = time.monotonic()
    try:
        network.start()
        outcome = follow(network, blocks)
    except GethError as err:
        outcome = {"reached": False, "stalled_at": None, "error": str(err)[:300]}
    finally:
        network.stop()
    outcome["seconds"] = round(time.monotonic() - began, 2)
    if keep is not None and not outcome["reached"]:
        for log in (folder / "validators").glob("*/geth.log"):
            target = keep / folder.name / f"{log.parent.name}.log"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, target)
    return outcome


def follow(network: GethNetwork, blocks: int) -> dict[str, Any]:
    """Waits until every validator holds block `blocks`, one hash; stalled if no head moves for STALL_S."""
    validators = [network.validator(code) for code in network.specs]
    deadline = time.monotonic() + REACH_TIMEOUT_S
    highest, moved_at = -1, time.monotonic()
    while time.monotonic() < deadline:
        heads = [v.head() for v in validators]
        if min(heads) >= blocks:
            hashes = {v.rpc("eth_getBlockByNumber", [hex(blocks), False])["hash"] for v in validators}
            if len(hashes) == 1:
                return {"reached": True, "stalled_at": None}
        if max(heads) > highest:
            highest, moved_at = max(heads), time.monotonic()
        elif time.monotonic() - moved_at > STALL_S:
            return {
                "reached": False,
                "stalled_at": highest,
                "heads": dict(zip(network.specs, heads, strict=True)),
            }
        time.sleep(0.2)
    return {
        "reached": False,
        "stalled_at": None,
        "error": f"not at block {blocks} in {REACH_TIMEOUT_S:.0f} s",
    }


def burn(stop: Any) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    reached = [r["seconds"] for r in runs if r["reached"]]
    return {
        "starts": len(runs),
        "reached": len(reached),
        "stalled": sum(1 for r in runs if r["stalled_at"] is not None),
        "stalled_at_blocks": [r["stalled_at"] for r in runs if r["stalled_at"] is not None],
        "errors": [r["error"] for r in runs if r.get("error")],
        "seconds_to_reach_median": round(statistics.median(reached), 2) if reached else None,
        "seconds_to_reach_max": max(reached) if reached else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10, help="starts of each way (default 10)")
    parser.add_argument("--validators", type=int, default=4, choices=range(2, len(OFFICES) + 1))
    parser.add_argument("--blocks", type=int, default=12, help="the block every validator must reach")
    parser.add_argument("--load", type=int, default=2, help="busy processes beside the network (default 2)")
    parser.add_argument("--ways", default=",".join(WAYS), help=f"which starts: {', '.join(WAYS)}")
    parser.add_argument("--keep", type=Path, help="a folder to copy the geth logs of failed starts to")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    asked = [way.strip() for way in args.ways.split(",")]
    if unknown := [way for way in asked if way not in WAYS]:
        parser.error(f"--ways: {', '.join(map(repr, unknown))}: not a way (the ways: {', '.join(WAYS)})")
    ways = [way for way in WAYS if way in asked]

    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=burn, args=(stop,), daemon=True) for _ in range(args.load)]
    for burner in burners:
        burner.start()
    runs: dict[str, list[dict[str, Any]]] = {way: [] for way in ways}
    try:
        with tempfile.TemporaryDirectory(prefix="validator-start-") as scratch:
            for index in range(args.starts):
                for way in ways if index % 2 == 0 else reversed(ways):
                    folder = Path(scratch) / f"{index}-{way.split()[0]}"
                    outcome = one_start(folder, way, args.validators, args.blocks, args.keep)
                    runs[way].append(outcome)
                    print(f"start {index + 1}/{args.starts}, {way}: {outcome}", flush=True)
    finally:
        stop.set()
        for burner in burners:
            burner.join(5)
    figures = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "validators": args.validators,
        "blocks": args.blocks,
        "load_processes": args.load,
        "stall_s": STALL_S,
        "ways": {way: summary(outcomes) for way, outcomes in runs.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures["ways"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
