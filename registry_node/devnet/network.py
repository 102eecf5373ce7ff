"""A Clique network of go-ethereum validators, one per office, in one folder: made, started, stopped, cut
off and healed here, and asked for its status (`ipreg network`, and the consortium's `LocalChain`).

The plan (ports, addresses, namespaces) is fixed when the network is made and kept in network.json beside
the validators' folders and the deployer's encrypted key (deployer.json), so every URL is known before it
starts and a later command takes it up again (`GethNetwork.load`).

Isolated (`isolate=True`): each validator runs in a network namespace of its own, joined to a bridge on
the host by a veth pair. Cutting that veth (`partition`) really cuts the validator off: it reaches no
validator, and no node or gateway reaches it. `heal` joins it again; `stop` removes the namespaces, the
veths and the bridge.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_node.devnet.ganache import free_port
from registry_node.devnet.geth import (
    DEFAULT_CHAIN_ID,
    DEFAULT_GAS_LIMIT,
    DEFAULT_PERIOD_S,
    OFFICE_CODE,
    PEERING_TIMEOUT_S,
    GethError,
    Validator,
    ValidatorPorts,
    ValidatorSpec,
    clique_genesis,
    new_node_key,
)
from registry_node.protocol.chain import CHAIN_DOWN, rpc_batch, web3_for
from registry_node.protocol.keys.files import encrypt_account_key

GENESIS_BALANCE_WEI = 10**24
# The isolated network: a bridge on the host, one /24 per network (picked from its folder), host at .1.
ISOLATED_PREFIX = "10.231"
BRIDGE_PREFIX = "iprb"


SUBNETS = 250


def isolated_subnet(folder: Path) -> int:
    """The third octet of a new isolated network's /24: the first, from one picked by its folder, whose
    bridge does not exist on this machine (another network of ours uses it)."""
    start = int.from_bytes(hashlib.sha256(str(folder.resolve()).encode()).digest()[:2], "big")
    for step in range(SUBNETS):
        subnet = 1 + (start + step) % SUBNETS
        if not Path(f"/sys/class/net/{BRIDGE_PREFIX}{subnet}").exists():
            return subnet
    raise GethError(f"every isolated subnet {ISOLATED_PREFIX}.1-{SUBNETS}.0/24 is in use by another network")


NETWORK_FILE = "network.json"
DEPLOYER_FILE = "deployer.json"


class GethNetwork:
    """A Clique network of one validator per office, in one folder; a `LocalChain` for the consortium.

    The plan (ports, keys' addresses, namespaces) is fixed when the network is made, so every URL is known
    before it starts. `start` makes it fresh; `resume` starts it again on its folder, state kept; `stop`
    stops every validator. A network made by `ipreg network up` is taken up again with `GethNetwork.load`.
    """

    name = "geth"

    def __init__(
        self,
        folder: Path,
        offices: Sequence[str],
        *,
        password: str | None,
        period_s: int = DEFAULT_PERIOD_S,
        first_rpc_port: int | None = None,
        isolate: bool = False,
        detached: bool = False,
        chain_id: int = DEFAULT_CHAIN_ID,
        gas_limit: int = DEFAULT_GAS_LIMIT,
    ) -> None:
        if not offices:
            raise GethError("a network needs at least one office's validator")
        for code in offices:
            if not OFFICE_CODE.match(code):
                raise GethError(f"--offices: {code!r} is not an ST.3 office code (two capital letters)")
        if len(set(offices)) != len(offices):
            raise GethError(f"--offices: an office is named twice in {','.join(offices)}")
        if not 0 <= period_s <= 60:
            raise GethError(f"--period must be 0 to 60 seconds, got {period_s}")
        self.folder = folder.resolve()
        self.password = password
        self.period_s = period_s
        self.chain_id = chain_id
        self.gas_limit = gas_limit
        self.isolate = isolate
        self.detached = detached  # validators outlive this process (`ipreg network up`)
        self.subnet = isolated_subnet(self.folder) if isolate else 0
        self.first_rpc_port = first_rpc_port
        self._deployer: LocalAccount | None = Account.create()
        self._sealing_keys: dict[str, LocalAccount] = {}
        self._node_keys: dict[str, bytes] = {}
        self.specs: dict[str, ValidatorSpec] = {}
        for code in offices:
            self._plan(code)

    # ------------------------------------------------------------ planning and describing

    def _plan(self, code: str) -> ValidatorSpec:
        index = len(self.specs)
        if self.first_rpc_port is not None:
            ports = ValidatorPorts.from_base(self.first_rpc_port, index)
        else:
            ports = ValidatorPorts(free_port(), free_port(), free_port())
        sealing_key: LocalAccount = Account.create()
        node_key, node_public = new_node_key()
        host, namespace = "127.0.0.1", None
        if self.isolate:
            host, namespace = f"{ISOLATED_PREFIX}.{self.subnet}.{10 + index}", f"ipreg{self.subnet}-{code}"
        spec = ValidatorSpec(code, sealing_key.address, node_public, ports, host, namespace)
        self._sealing_keys[code] = sealing_key
        self._node_keys[code] = node_key
        self.specs[code] = spec
        return spec

    @property
    def deployer(self) -> LocalAccount:
        """The account the genesis funds, which deploys the consortium and funds the offices (its key is
        kept encrypted in deployer.json, for `ipreg chain deploy --keystore`)."""
        if self._deployer is None:
            path = self.folder / DEPLOYER_FILE
            try:
                self._deployer = Account.from_key(
                    Account.decrypt(json.loads(path.read_text()), self._password())
                )
            except (OSError, ValueError) as err:
                raise GethError(f"{path}: cannot decrypt the deployer's key ({type(err).__name__})") from None
        return self._deployer

    def _password(self) -> str:
        if self.password is None:
            raise GethError("the network's password is needed (IPREG_NETWORK_PASSWORD or --password-file)")
        return self.password

    @property
    def rpc_url(self) -> str:
        """The first validator's RPC: where the deployer deploys."""
        return next(iter(self.specs.values())).rpc_url

    @property
    def rpc_urls(self) -> dict[str, str]:
        """Each office's validator RPC."""
        return {code: spec.rpc_url for code, spec in self.specs.items()}

    def validators(self) -> dict[str, str]:
        """Each office's sealing address."""
        return {code: spec.address for code, spec in self.specs.items()}

    def office_rpc_urls(self, code: str) -> list[str]:
        """The office's own validator first, then the others in order; an office without a validator (not
        yet admitted to the network) gets them all."""
        urls = self.rpc_urls
        own = [urls[code]] if code in urls else []
        return own + [url for other, url in urls.items() if other != code]

    def validator(self, code: str) -> Validator:
        if code not in self.specs:
            raise GethError(f"no validator of office {code} in this network ({', '.join(self.specs)})")
        return Validator(self.specs[code], self.folder / "validators" / code, self.chain_id)

    @property
    def netrestrict(self) -> str:
        return f"{ISOLATED_PREFIX}.{self.subnet}.0/24" if self.isolate else "127.0.0.0/8"

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "periodSeconds": self.period_s,
            "gasLimit": self.gas_limit,
            "isolate": self.isolate,
            "subnet": self.subnet,
            "firstRpcPort": self.first_rpc_port,
            "deployer": self.deployer.address,
            "validators": [spec.to_json() for spec in self.specs.values()],
        }

    @classmethod
    def exists(cls, folder: Path) -> bool:
        return (folder / NETWORK_FILE).is_file()

    @classmethod
    def load(cls, folder: Path, password: str | None, detached: bool = False) -> GethNetwork:
        """The network `ipreg network up` (or a consortium) made in `folder`; the password is needed to
        start validators and to deploy, not to stop them or ask their status."""
        path = folder / NETWORK_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
            specs = [ValidatorSpec.from_json(v) for v in data["validators"]]
        except FileNotFoundError:
            raise GethError(f"no network in {folder}: start one with `ipreg network up`") from None
        except (KeyError, TypeError, ValueError) as err:
            raise GethError(f"{path}: not a network this tooling made ({err!r})") from None
        network = cls.__new__(cls)
        network.folder = folder.resolve()
        network.password = password
        network.period_s = int(data["periodSeconds"])
        network.chain_id = int(data["chainId"])
        network.gas_limit = int(data["gasLimit"])
        network.isolate = bool(data["isolate"])
        network.detached = detached
        network.subnet = int(data["subnet"])
        network.first_rpc_port = data.get("firstRpcPort")
        network._deployer = None
        network._sealing_keys, network._node_keys = {}, {}
        network.specs = {spec.office: spec for spec in specs}
        return network

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / NETWORK_FILE).write_text(json.dumps(self.to_json(), indent=2) + "\n")
        deployer = self.folder / DEPLOYER_FILE
        if not deployer.exists():
            deployer.write_text(json.dumps(encrypt_account_key(self.deployer.key, self._password())))
            deployer.chmod(0o600)

    # ------------------------------------------------------------ LocalChain

    def start(self, funded: Iterable[str] = ()) -> None:
        """Makes the network fresh (genesis funding the deployer and `funded`) and starts every validator."""
        if (self.folder / NETWORK_FILE).exists():
            raise GethError(f"{self.folder} already holds a network: resume it, or delete the folder first")
        self._check_ports()
        self.folder.mkdir(parents=True, exist_ok=True)
        balances = {self.deployer.address: GENESIS_BALANCE_WEI} | dict.fromkeys(funded, GENESIS_BALANCE_WEI)
        genesis = self.folder / "genesis.json"
        sealers = list(self.validators().values())
        genesis.write_text(
            json.dumps(
                clique_genesis(self.chain_id, self.period_s, sealers, balances, self.gas_limit), indent=2
            )
        )
        for code in self.specs:
            self.validator(code).create(
                genesis, self._sealing_keys[code], self._node_keys[code], self._password()
            )
        self._save()
        self.resume()

    def resume(self) -> None:
        """Starts every validator that is not running, on its folder."""
        if self.isolate:
            self._isolation_up()
        for code in self.specs:
            self.validator(code).write_peers(self.specs.values())
        for code in self.specs:
            self.validator(code).start(self._password(), self.netrestrict, self.gas_limit, self.detached)
        for code in self.specs:  # all peered before any seals: see Validator.command
            if not self.validator(code).wait_peers(len(self.specs) - 1, PEERING_TIMEOUT_S):
                raise GethError(
                    f"validator {code} did not peer with the others within {PEERING_TIMEOUT_S:.0f} s "
                    f"(see {self.validator(code).log})"
                )
        self._seal_all()

    def _seal_all(self) -> None:
        """Every validator seals; returns once the chain has moved on, kicking the sealers again if not.

        A geth discards the blocks its peers send ("Syncing, discarded propagated block") until it has synced
        from a heavier peer or been told to mine, and on a new chain no peer is heavier. Validators told to
        seal one after another each sealed a first block of their own, could not seal the next on it (Clique's
        recency rule) and never took up the others': with four validators the chain stalled in 2 to 4 starts
        of 10 (`bench/validator_start.py`). So the others first mine for an instant, which makes geth take up
        propagated blocks; then the validator in turn seals the next block alone (an in-turn block is heavier
        than any other), and the others seal once each holds it.
        """
        validators = [self.validator(code) for code in self.specs]
        start = max(v.head() for v in validators)
        wait_s = 3 * max(1, self.period_s) + 2
        start = self._seal_in_turn_first(validators, start, wait_s)
        for _ in range(3):
            for validator in validators:
                validator.seal()
            if _within(lambda: validators[0].head() > start, wait_s):
                return
        raise GethError(
            f"the validators do not seal (see the geth.log files under {self.folder / 'validators'})"
        )

    def _seal_in_turn_first(self, validators: list[Validator], head: int, wait_s: float) -> int:
        """The validator in turn for block `head + 1` seals it alone; once every validator holds it (within
        `wait_s`), the head the others' sealing must then pass: `head + 1`, else `head`."""
        leader = self._in_turn(head + 1)
        if leader is None:
            return head
        for validator in validators:
            if validator.spec.office != leader.spec.office:
                validator.accept_blocks()
        leader.seal()
        return head + 1 if _within(lambda: all(v.head() > head for v in validators), wait_s) else head

    def _in_turn(self, number: int) -> Validator | None:
        """This network's validator in turn for block `number` (Clique: the signers sorted by address, block
        n's is the (n mod count)th), or None if that signer is not one of this network's validators."""
        first = self.validator(next(iter(self.specs)))
        signers = sorted(str(a).lower() for a in first.rpc("clique_getSigners", ["latest"]) or ())
        if not signers:
            return None
        in_turn = signers[number % len(signers)]
        code = next((c for c, spec in self.specs.items() if spec.address.lower() == in_turn), None)
        return self.validator(code) if code is not None else None

    def stop(self) -> None:
        for code in reversed(list(self.specs)):
            self.validator(code).stop()
        if self.isolate:
            self._isolation_down()

    def state_bytes(self) -> int | None:
        return sum(p.stat().st_size for p in (self.folder / "validators").rglob("*") if p.is_file())

    # ------------------------------------------------------------ one validator

    def start_validator(self, code: str) -> None:
        """Starts one office's validator again, the others running: it seals at once. A block it seals on
        its stale head loses to the longer chain, which geth's sync (every 10 s, and on each peer's new
        block) brings it; its sealing pauses while it syncs."""
        validator = self.validator(code)
        validator.start(self._password(), self.netrestrict, self.gas_limit, self.detached)
        validator.seal()

    def stop_validator(self, code: str, kill: bool = False) -> None:
        """Stops one office's validator: SIGTERM, or SIGKILL with `kill`."""
        validator = self.validator(code)
        validator.kill() if kill else validator.stop()

    def add_validator(self, code: str) -> ValidatorSpec:
        """Makes and starts a validator for an office joining the consortium: it syncs from the others and
        seals once the validators have voted it in (the office nodes do that, following the contract)."""
        if code in self.specs:
            raise GethError(f"office {code} already has a validator in this network")
        if not OFFICE_CODE.match(code):
            raise GethError(f"{code!r} is not an ST.3 office code (two capital letters)")
        spec = self._plan(code)
        self._check_ports([spec])
        self.validator(code).create(
            self.folder / "genesis.json", self._sealing_keys[code], self._node_keys[code], self._password()
        )
        self._save()
        if self.isolate:
            self._isolation_up()
        for other in self.specs:
            self.validator(other).write_peers(self.specs.values())  # for their next start
        self.start_validator(code)
        return spec

    def _check_ports(self, specs: Iterable[ValidatorSpec] | None = None) -> None:
        for spec in specs if specs is not None else self.specs.values():
            spec.check_ports_free()

    # ------------------------------------------------------------ isolation: namespaces, veths, a bridge

    @property
    def bridge(self) -> str:
        return f"{BRIDGE_PREFIX}{self.subnet}"

    def _veth(self, code: str) -> str:
        return f"iprv{self.subnet}{code.lower()}"

    def _isolation_up(self) -> None:
        """The bridge, and a namespace joined to it by a veth for each validator (what exists is kept)."""
        _ip("link", "add", self.bridge, "type", "bridge", ok_if="File exists")
        _ip("addr", "add", f"{ISOLATED_PREFIX}.{self.subnet}.1/24", "dev", self.bridge, ok_if="File exists")
        _ip("link", "set", self.bridge, "up")
        for code, spec in self.specs.items():
            assert spec.namespace is not None
            veth, inner = self._veth(code), f"iprn{self.subnet}{code.lower()}"
            _ip("netns", "add", spec.namespace, ok_if="File exists")
            if not _exists_link(veth):
                _ip("link", "add", veth, "type", "veth", "peer", "name", inner)
                _ip("link", "set", inner, "netns", spec.namespace)
                _ip("-n", spec.namespace, "addr", "add", f"{spec.host}/24", "dev", inner)
                _ip("-n", spec.namespace, "link", "set", inner, "up")
                _ip("-n", spec.namespace, "link", "set", "lo", "up")
                _ip("link", "set", veth, "master", self.bridge)
            _ip("link", "set", veth, "up")

    def _isolation_down(self) -> None:
        for code, spec in self.specs.items():
            _ip("link", "del", self._veth(code), ok_if="Cannot find device")
            if spec.namespace:
                _ip("netns", "del", spec.namespace, ok_if="No such file")
        _ip("link", "del", self.bridge, ok_if="Cannot find device")

    def partition(self, code: str) -> None:
        """Cuts the office's validator off the network (its veth goes down): it can reach no one, and no
        node or gateway can reach it."""
        self._require_isolated("partition")
        self.validator(code)
        _ip("link", "set", self._veth(code), "down")

    def heal(self, code: str) -> None:
        self._require_isolated("heal")
        self.validator(code)
        _ip("link", "set", self._veth(code), "up")

    def _require_isolated(self, what: str) -> None:
        if not self.isolate:
            raise GethError(
                f"{what} needs a network started with --isolate (each validator in its own namespace)"
            )


def _within(check: Callable[[], bool], timeout_s: float) -> bool:
    """Whether `check()` holds within `timeout_s` (asked every 0.1 s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _exists_link(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode == 0


def _ip(*args: str, ok_if: str | None = None) -> None:
    """Runs `ip ARGS`; an error whose message contains `ok_if` is no error (the thing exists, or is gone)."""
    try:
        result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GethError("--isolate needs the `ip` command (Debian package iproute2)") from None
    if result.returncode != 0 and not (ok_if and ok_if in result.stderr):
        raise GethError(
            f"--isolate: `ip {' '.join(args)}` failed: {result.stderr.strip()} (network namespaces and veth "
            "pairs need root, or CAP_NET_ADMIN and CAP_SYS_ADMIN; this machine refused)"
        )


# ------------------------------------------------------------ status

RECENT_BLOCKS = 64
CLIQUE_IN_TURN = 2  # a Clique block's difficulty when its sealer was in turn (1 out of turn)


@dataclass(frozen=True)
class ValidatorStatus:
    """What `ipreg network status` shows of one validator; None where it does not answer."""

    office: str
    rpc: str
    pid: int | None
    head_number: int | None = None
    head_hash: str | None = None
    peers: int | None = None
    signers: tuple[str, ...] | None = None
    sealed_recent: int | None = None  # of the last RECENT_BLOCKS blocks, how many this validator sealed
    head_sealer: str | None = None  # whose seal the head carries: an office of the network, else an address
    head_in_turn: bool | None = None  # whether the head was sealed in turn (Clique difficulty 2)
    sealing: bool | None = None  # whether its miner runs (geth pauses it while it syncs)
    syncing: bool | None = None
    error: str | None = None

    def describe(self) -> str:
        """The line `ipreg network status` prints for this validator."""
        if self.error is not None or self.head_number is None:
            return f"{self.office}  {self.rpc}  pid {self.pid or '-'}  {self.error or 'down'}"
        turn = "in turn" if self.head_in_turn else "out of turn"
        sealed_by = f" sealed by {self.head_sealer} {turn}" if self.head_sealer else ""
        state = "syncing" if self.syncing else "sealing" if self.sealing else "not sealing"
        return (
            f"{self.office}  {self.rpc}  pid {self.pid}  "
            f"head {self.head_number} {self.head_hash}{sealed_by}  peers {self.peers}  {state}  "
            f"signers {len(self.signers or ())}  sealed {self.sealed_recent} of the last {RECENT_BLOCKS}"
        )

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["signers"] = list(self.signers) if self.signers is not None else None
        return data


def validator_status(
    spec: ValidatorSpec, pid: int | None, timeout_s: float = 3.0, offices: Mapping[str, str] | None = None
) -> ValidatorStatus:
    """Asks the validator itself: its head, its peers, the signers it knows, whether it seals or syncs, and
    whose seals its last RECENT_BLOCKS blocks carry (clique_getSigner), in two JSON-RPC batches."""
    w3 = web3_for(spec.rpc_url, timeout_s)
    try:
        head, peers, signers, mining, syncing = rpc_batch(
            w3,
            [
                ("eth_getBlockByNumber", ["latest", False]),
                ("net_peerCount", []),
                ("clique_getSigners", ["latest"]),
                ("eth_mining", []),
                ("eth_syncing", []),
            ],
        )
        number = int(head.result["number"], 16)
        recent = range(max(1, number - RECENT_BLOCKS + 1), number + 1)
        sealers = rpc_batch(w3, [("clique_getSigner", [hex(n)]) for n in recent])
    except (*CHAIN_DOWN, KeyError, TypeError, ValueError) as err:
        return ValidatorStatus(spec.office, spec.rpc_url, pid, error=f"does not answer: {type(err).__name__}")
    mine = spec.address.lower()
    head_sealer = sealers[-1].result if sealers and isinstance(sealers[-1].result, str) else None
    if head_sealer is not None and offices:
        head_sealer = offices.get(head_sealer.lower(), head_sealer)
    return ValidatorStatus(
        office=spec.office,
        rpc=spec.rpc_url,
        pid=pid,
        head_number=number,
        head_hash=str(head.result["hash"]),
        peers=int(peers.result, 16) if peers.result else 0,
        signers=tuple(str(s) for s in (signers.result or [])),
        sealed_recent=sum(1 for s in sealers if isinstance(s.result, str) and s.result.lower() == mine),
        head_sealer=head_sealer,
        head_in_turn=int(head.result["difficulty"], 16) == CLIQUE_IN_TURN if number else None,
        sealing=bool(mining.result),
        syncing=syncing.result not in (False, None),
    )


def network_status(network: GethNetwork) -> list[ValidatorStatus]:
    offices = {spec.address.lower(): code for code, spec in network.specs.items()}
    return [
        validator_status(spec, network.validator(code).pid, offices=offices)
        for code, spec in network.specs.items()
    ]
