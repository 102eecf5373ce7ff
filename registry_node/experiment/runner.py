"""One experiment run: a fresh local consortium (`registry_node.devnet.consortium`: a deployment, one
`ipreg node run` process per office, a real gateway), the seeded workload submitted open loop (arrival
rate) or closed loop (concurrency), faults injected on schedule, then the checks against the chain and
the report.

Ctrl-C stops submitting; what was observed so far is still read back, checked and written. How the
workload is submitted and each operation observed is `driver.py`'s.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from web3 import Web3
from web3.contract import Contract

from registry_node.devnet.chains import ExistingChain, GanacheChain, HardhatChain, LocalChain
from registry_node.devnet.consortium import Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.devnet.network import GethNetwork
from registry_node.experiment import checks
from registry_node.experiment.collect import (
    collect_chain_facts,
    read_chain_rights,
    read_gateway_index,
    wait_gateway_caught_up,
)
from registry_node.experiment.config import VALIDATOR_FAULT_KINDS, ChainConfig, ExperimentConfig
from registry_node.experiment.driver import POLL_S, WorkloadDriver, open_entries, outbox_entries
from registry_node.experiment.faults import ConsortiumFaults, FaultInjector, Restored
from registry_node.experiment.heads import HeadLog, HeadWatcher
from registry_node.experiment.metrics import compute_figures, machine
from registry_node.experiment.observations import ChainFacts, FaultRecord
from registry_node.experiment.refusals import explain_refusals
from registry_node.experiment.report import write_report
from registry_node.node.client import NodeClient
from registry_node.protocol.chain import connect, web3_for
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.errors import ConfigError, RegistryError

GATEWAY_CATCH_UP_S = 120.0
CATCH_UP_S = 60.0  # how long a validator brought back is watched until it has the others' head
PASSWORD_BYTES = 24


class ExperimentRun:
    def __init__(self, config: ExperimentConfig, out_dir: Path, console: Console | None = None) -> None:
        self.config = config
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.run_dir = (out_dir / f"{config.name}-{stamp}").resolve()
        self.console = console or Console(stderr=True)
        password = secrets.token_urlsafe(PASSWORD_BYTES)  # opens the offices' keys and the validators'
        self.chain = chain_for(config, self.run_dir, password)
        self.consortium = LocalConsortium(
            self.run_dir,
            self.chain,
            password=password,
            gateway_port=free_port() if config.gateway else None,
            env={
                "IPREG_GATEWAY_POLL_INTERVAL_S": "0.2",
                "IPREG_NODE_ANCHOR_BATCH_SIZE": str(config.batch_size),
            },
        )
        self.breaker = ConsortiumFaults(self.consortium)
        self.faults: list[FaultRecord] = []
        self.stop = threading.Event()
        self.interrupted = False
        self.timings: dict[str, float] = {}
        self._clients: dict[str, NodeClient] = {}  # filled once the nodes are created
        self.driver = WorkloadDriver(config, self._clients, self.consortium.gateway_url, self.stop)
        self.records = self.driver.records
        self._entries: dict[tuple[str, int], dict[str, Any]] = {}  # (office, outbox id) -> entry
        self.deferred_gas: list[float] = []
        self._first_block = 0
        self._heads: HeadWatcher | None = None

    # ------------------------------------------------------------ the whole run

    def run(self) -> Path:
        """Runs the experiment and writes its results; returns the run's folder."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        self.console.print(
            f"[bold]{self.config.name}[/]: {self.config.offices} offices, {self.config.mode}, "
            f"{self.config.chain.describe}, {self.config.load.describe} -> {self.run_dir}"
        )
        started = datetime.now(UTC)
        clock = time.monotonic()
        try:
            w3, contract = self._set_up()
            self._first_block = int(w3.eth.block_number) + 1
            self.timings["setup_s"] = round(time.monotonic() - clock, 2)
            try:
                self._drive()
            except KeyboardInterrupt:
                self._interrupt()
            self._finish(w3, contract, started)
        except KeyboardInterrupt:
            self._interrupt()
            self._finish(None, None, started)
        finally:
            self._stop_all()
        return self.run_dir

    def _interrupt(self) -> None:
        self.interrupted = True
        self.stop.set()
        self.console.print("[yellow]interrupted: writing the partial results[/]")

    # ------------------------------------------------------------ setting up

    def _set_up(self) -> tuple[Web3, Contract]:
        """The consortium created and started, each office's client ready."""
        self.console.print(f"chain: {self.chain.name} at {self.chain.rpc_url}")
        founders = [
            Founder(code, f"{code} office (experiment {self.config.name})", free_port())
            for code in self.config.office_codes
        ]
        deployment = self.consortium.create(founders, max_offices=max(8, len(founders)))
        self.console.print(
            f"deployed SharedIPRegistry at {deployment.address} "
            f"(chain id {deployment.chain_id}), {len(founders)} offices"
        )
        for code, office in self.consortium.offices.items():
            self._clients[code] = office.client()
        self.consortium.start()
        w3 = connect(self._watched_urls())
        address = Web3.to_checksum_address(deployment.address)
        return w3, w3.eth.contract(address=address, abi=load_artifact().abi)

    def _watched_urls(self) -> list[str]:
        """The chain nodes the run reads (its head watch, and the chain facts at the end): a validator no
        fault strikes first, the others as failover, so what is read is a running node's own chain."""
        struck = {f.office for f in self.config.faults if f.kind in VALIDATOR_FAULT_KINDS}
        spared = [code for code in self.chain.validators() if code not in struck]
        return self.chain.office_rpc_urls(spared[-1] if spared else "")

    def _stop_all(self) -> None:
        if self._heads is not None:
            self._heads.stop()
        for client in self._clients.values():
            client.close()
        self.consortium.stop()

    # ------------------------------------------------------------ driving the workload

    def _drive(self) -> None:
        self.driver.start()
        self._heads = HeadWatcher(web3_for(self._watched_urls(), timeout_s=5), self.driver.now)
        self._heads.start()
        injector = FaultInjector(self.config.faults, self, self.console)
        self.faults = injector.happened
        faults = threading.Thread(target=injector.run, name="faults", daemon=True)
        faults.start()
        total = self.config.workload.operations
        columns = (
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.console, transient=False) as progress:
            bars = {
                name: progress.add_task(name, total=total) for name in ("submitted", "accepted", "confirmed")
            }
            settle_deadline: float | None = None
            while True:
                counts = self.driver.counts()
                for name, task in bars.items():
                    progress.update(task, completed=counts[name], total=total or max(1, counts["submitted"]))
                if not self.driver.load_running():
                    settle_deadline = settle_deadline or time.monotonic() + self.config.settle_timeout_s
                    if counts["open"] == 0 or time.monotonic() > settle_deadline:
                        break
                time.sleep(0.2)
        faults.join(timeout=120)
        self.driver.stop_tracking(timeout_s=10)

    # ------------------------------------------------------------ faults (what FaultInjector breaks)

    def kill_node(self, code: str, down_s: float) -> Restored:
        gate = self.driver.office_gates[code]
        gate.close_and_drain()
        pending = open_entries(self._clients[code])
        with self.breaker.node_killed(code):
            self.stop.wait(down_s)
        restored = Restored(self.now(), f"SIGKILL with {pending} outbox entries pending or sent")
        gate.up.set()
        return restored

    def restart_chain(self, down_s: float) -> Restored:
        with self.breaker.chain_stopped():
            self.stop.wait(down_s)
        return Restored(
            self.now(), f"{self.chain.name} stopped and resumed from its data dir; nodes kept accepting"
        )

    def restart_gateway(self, down_s: float) -> Restored:
        self.driver.gateway_gate.close_and_drain()
        with self.breaker.gateway_stopped():
            self.stop.wait(down_s)
        restored = Restored(self.now(), "stopped (SIGTERM) and started on its index")
        self.driver.gateway_gate.up.set()
        return restored

    def break_validator(self, kind: str, code: str, down_s: float) -> Restored:
        """A validator killed, stopped or cut off for `down_s`; restored once it answers again, with how
        long it took to reach the head the others had when it came back."""
        breaks = {
            "kill_validator": (self.breaker.validator_killed, "SIGKILL, started again"),
            "restart_validator": (self.breaker.validator_stopped, "stopped (SIGTERM), started again"),
            "partition_validator": (self.breaker.validator_partitioned, "cut off the network, healed"),
        }
        breaking, what = breaks[kind]
        network = self.breaker.network()
        others = [c for c in network.validators() if c != code]
        before = _head(network, others)
        with breaking(code):
            self.stop.wait(down_s)
        back = self.now()
        during = _head(network, others)
        caught_up = _wait_caught_up(network, code, during, CATCH_UP_S)
        sealed = f"the others sealed {during - before} blocks meanwhile" if before and during else ""
        synced = (
            f"it reached their head {during} in {caught_up:.1f} s"
            if caught_up is not None
            else f"it did not reach their head {during} within {CATCH_UP_S:.0f} s"
        )
        return Restored(back, f"{what} after {down_s:g} s; {sealed}; {synced}")

    def progress_share(self) -> float:
        return self.driver.progress_share()

    def load_running(self) -> bool:
        return self.driver.load_running()

    def now(self) -> float:
        return self.driver.now()

    # ------------------------------------------------------------ after the run

    def _finish(self, w3: Web3 | None, contract: Contract | None, started: datetime) -> None:
        wall_s = self.now() if self.driver.started else 0.0
        self.timings["drive_s"] = round(wall_s, 2)
        checking = time.monotonic()
        if self.interrupted and w3 is not None:
            self.driver.join_load(timeout_s=30)  # submissions in flight finish; queued ones are dropped
            self.driver.settle_grace()
        self.driver.stop_tracking()
        heads: HeadLog | None = self._heads.stop() if self._heads is not None else None
        self._heads = None
        facts: ChainFacts | None = None
        exactly_once: dict[str, Any] = {"verdict": checks.FAIL}
        index: dict[str, Any] = {"verdict": checks.NOT_RUN, "reason": "gateway: false"}
        try:
            if w3 is None or contract is None:
                raise RegistryError("interrupted before the chain was up")
            self._attach_transactions()
            self._revive_chain_after_interrupt(w3)
            facts = collect_chain_facts(w3, contract, self._first_block, self.chain.state_bytes())
            self._attach_gas(facts)
            exactly_once = checks.check_exactly_once(self.records, facts.events)
        except Exception as err:  # an interrupted run still writes what it has
            exactly_once["reason"] = f"the chain could not be read: {type(err).__name__}: {err}"[:300]
        if self.config.gateway:
            try:
                if facts is None or contract is None:
                    raise RegistryError("the chain could not be read")
                gateway = self.consortium.gateway
                if gateway is None or not gateway.running:
                    raise RegistryError("the gateway is not running (stopped by Ctrl-C?)")
                index = self._check_index(contract, facts)
            except Exception as err:
                index = {"verdict": checks.FAIL, "reason": f"{type(err).__name__}: {err}"[:300]}
        figures = compute_figures(self.config, self.records, facts, wall_s, self.deferred_gas, heads)
        refusals = explain_refusals(self.records)
        self.timings["checks_s"] = round(time.monotonic() - checking, 2)
        results = {
            "schema": "ipreg/experiment-results/1",
            "name": self.config.name,
            "started": started.isoformat(timespec="seconds"),
            "interrupted": self.interrupted,
            "config": self.config.to_json(),
            "environment": self._environment(w3),
            "deployment": deployment.to_json() if (deployment := self.consortium.deployment) else None,
            "exactly_once": exactly_once["verdict"],
            "index_matches_chain": index["verdict"],
            "ops_confirmed": figures["ops_confirmed"],
            "checks": {"exactly_once": exactly_once, "index_matches_chain": index},
            "refusals": refusals,
            "faults": [f.to_json() for f in self.faults],
            "timings": self.timings,
            "figures": figures,
        }
        write_report(self.run_dir, results, self.records)
        verdict_style = "green" if results["exactly_once"] == checks.PASS else "red"
        self.console.print(
            f"[{verdict_style}]exactly_once {results['exactly_once']}[/], index_matches_chain "
            f"{results['index_matches_chain']}, {figures['ops_confirmed']} operations confirmed, "
            f"{refusals['refused']} refused and {refusals['unsent']} unsent unexpectedly "
            f"({refusals['refused_as_intended']} refused as intended), "
            f"{figures['throughput_ops_per_s']:.2f} ops/s -> {self.run_dir / 'report.md'}"
        )

    def _revive_chain_after_interrupt(self, w3: Web3) -> None:
        """Ctrl-C in a terminal reaches the chain too: a ganache is started again on its data so the
        partial run can still be checked against it."""
        try:
            w3.eth.block_number  # noqa: B018 - does the chain answer?
        except Exception:
            if not (self.interrupted and self.config.chain.keeps_data):
                raise
            self.chain.stop()
            self.chain.resume()

    def _attach_transactions(self) -> None:
        """Each accepted operation's transaction and block, from its node's outbox (kept for the gas)."""
        for code, client in self._clients.items():
            try:
                for entry in outbox_entries(client, None):
                    self._entries[(code, int(entry["id"]))] = entry
            except (RegistryError, httpx.HTTPError):  # a node stopped by Ctrl-C: its gas stays unknown
                continue
        for record in self.records:
            found = self._entries.get((record.op.office, record.outbox_id or -1))
            if found:
                record.tx_hash = (found.get("txHash") or "").lower() or None
                record.block_number = found.get("blockNumber")

    def _attach_gas(self, facts: ChainFacts) -> None:
        """A transaction's gas and bytes are shared among the outbox entries it carried, and an entry's
        among the operations it stands for (an anchor: every record under it). Entries no operation
        stands for are the deferred registrations of anchored rights, first changed."""
        per_tx: dict[str, int] = defaultdict(int)
        for entry in self._entries.values():
            if entry.get("txHash"):
                per_tx[str(entry["txHash"]).lower()] += 1
        per_entry: dict[tuple[str, int], int] = defaultdict(int)
        for record in self.records:
            if record.tx_hash and record.outbox_id is not None:
                per_entry[(record.op.office, record.outbox_id)] += 1
        for record in self.records:
            if record.tx_hash and record.tx_hash in facts.gas_by_tx and record.outbox_id is not None:
                share = per_tx[record.tx_hash] * per_entry[(record.op.office, record.outbox_id)]
                record.gas = facts.gas_by_tx[record.tx_hash] / share
                record.chain_bytes = facts.bytes_by_tx.get(record.tx_hash, 0) / share
        for key, entry in self._entries.items():
            tx_hash = str(entry.get("txHash") or "").lower()
            if key not in per_entry and tx_hash in facts.gas_by_tx:
                self.deferred_gas.append(facts.gas_by_tx[tx_hash] / per_tx[tx_hash])

    def _check_index(self, contract: Contract, facts: ChainFacts) -> dict[str, Any]:
        status = wait_gateway_caught_up(self.consortium.gateway_url, facts.last_block, GATEWAY_CATCH_UP_S)
        keys = sorted({e.key for e in facts.events if e.name == "RightRegistered"})
        chain_rights = read_chain_rights(contract, keys)
        count, items = read_gateway_index(self.consortium.gateway_url)
        result = checks.check_index(chain_rights, count, items)
        result["gateway_status"] = status
        return result

    def _environment(self, w3: Web3 | None) -> dict[str, Any]:
        client = None
        with contextlib.suppress(Exception):
            client = w3.client_version if w3 is not None else None
        return {
            **machine(),
            "chain": self.chain.name,
            "chain_client": client,
            "rpc_url": self.chain.rpc_url,
            "validators": self.chain.validators(),
            "confirmation_poll_s": POLL_S,
        }


def run_experiment(config: ExperimentConfig, out_dir: Path, console: Console | None = None) -> Path:
    return ExperimentRun(config, out_dir, console).run()


def chain_for(experiment: ExperimentConfig, work_dir: Path, password: str) -> LocalChain:
    """The chain the experiment asks for; an existing network's deployer key comes from the environment. A
    geth network's validators are the first offices', on free ports, their keys under `password`."""
    config: ChainConfig = experiment.chain
    if config.kind == "geth":
        return GethNetwork(
            work_dir / "network",
            experiment.office_codes[: config.validators],
            password=password,
            period_s=config.period_s,
            isolate=config.isolate,
            gas_limit=config.block_gas_limit,
        )
    if config.kind == "ganache":
        return GanacheChain(work_dir / "chain", block_gas_limit=config.block_gas_limit)
    if config.kind == "hardhat":
        return HardhatChain(work_dir / "logs" / "hardhat.log", block_gas_limit=config.block_gas_limit)
    assert config.url is not None
    key = os.environ.get(config.deployer_key_env)
    if not key:
        raise ConfigError(
            "chain.deployer_key_env", f"set {config.deployer_key_env} to the deployer's private key (0x-hex)"
        )
    try:
        deployer = Account.from_key(key)
    except (ValueError, TypeError):
        raise ConfigError(
            "chain.deployer_key_env", f"{config.deployer_key_env} is not a private key"
        ) from None
    return ExistingChain(config.url, deployer)


def _head(network: GethNetwork, codes: list[str]) -> int:
    """The highest head among these validators (0 if none answers)."""
    heads = []
    for code in codes:
        with contextlib.suppress(RegistryError):
            heads.append(network.validator(code).head())
    return max(heads, default=0)


def _wait_caught_up(network: GethNetwork, code: str, head: int, timeout_s: float) -> float | None:
    """Seconds until the validator's head reaches `head`, or None if it does not within `timeout_s`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        with contextlib.suppress(RegistryError):
            if network.validator(code).head() >= head:
                return time.monotonic() - start
        time.sleep(0.2)
    return None
