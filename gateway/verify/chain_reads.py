"""Reading the registry's chain state at a stated block: rights, their event history, offices, keys, anchors.

Every read names its block (`block_identifier=N`), so an answer is a fact about that block and can be
cached forever under (block, call): state at a given block never changes. Nothing here reads the
gateway's index; a verdict built from these reads rests on the chain alone. Every request to the chain
goes through `_ask` or `_call`; `cached()` gives a view of the reader that answers from the cache alone and
raises NotCached where it would have to ask the chain.

A right's history comes straight from `eth_getLogs` filtered by the right's id topic and decoded with the
contract's ABI. `RightRegistered` carries the whole state; later events carry what they change, so the
full `RightState` after every version is rebuilt here and can be proven with `matchesState` at the block.
An international registration's `Designated` is one of its versions (a new record, owners and status kept);
the designation it reserves is an entry of its own, whose history is the designated office's
`RightRegistered` (its first decision) and `LegalStatusChanged` (the later ones), read the same way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, Web3Exception

from gateway.verify.facts import (
    AnchorEvent,
    AnchorInfo,
    BlockRef,
    KeyInfo,
    OfficeInfo,
    RightEntry,
    RightVersion,
)
from registry_node.protocol.chain import CHAIN_DOWN, ChainError
from registry_node.protocol.contract import (
    ZERO_ADDRESS,
    OfficeView,
    RightState,
    bytes_text,
    office_bytes,
    office_code,
    status_code,
)
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.records import ConveyanceCategory, RightKind

RIGHT_EVENTS = ("RightRegistered", "OwnershipChanged", "LegalStatusChanged", "RightPublished", "Designated")
ACTIONS = {
    "RightRegistered": "registration",
    "OwnershipChanged": "ownershipChange",
    "LegalStatusChanged": "legalStatusEvent",
    "RightPublished": "publication",
    "Designated": "designation",
}
CACHE_SIZE = 65_536

T = TypeVar("T")


class BlockOutOfRange(Exception):
    """A stated block the registry cannot be read at: before its deployment, or not mined yet."""

    def __init__(self, block: int, reason: str) -> None:
        super().__init__(reason)
        self.block = block
        self.reason = reason


class NotCached(Exception):
    """A read from the cache alone (`ChainReader.cached()`) that the cache does not hold; `what` names the
    read. Not an error: gather again with the chain at hand."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not cached")
        self.what = what


class BlockCache:
    """Answers keyed by (block number, call): bounded, thread-safe, never expired by time.

    A miss is computed once however many threads ask for it at the same moment: the first asks the chain,
    the others wait for its answer (or its error). Without that, a cold cache (the first requests after a
    start, and every new block) sent one identical chain read per waiting request, and the chain node's
    queue became every request's latency.
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
            pending = self._pending.get(key)
            first = pending is None
            if pending is None:
                pending = self._pending[key] = Future()
        if not first:
            return pending.result()  # type: ignore[no-any-return]
        try:
            value = compute()
        except BaseException as err:
            with self._lock:
                del self._pending[key]
            pending.set_exception(err)
            raise
        with self._lock:
            del self._pending[key]
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        pending.set_result(value)
        return value

    def held(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached answer, else `compute()` with no waiting and no sharing: for the cache-only reader,
        which runs on the event loop (it must never wait for another thread's read) and whose `compute`
        raises NotCached."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        return compute()


class _HeldOnly:
    """A BlockCache seen by the cache-only reader: `get` is the cache's `held`."""

    def __init__(self, cache: BlockCache) -> None:
        self.get = cache.held


class ChainReader:
    """Reads the SharedIPRegistry at stated blocks; raises ChainError when the chain cannot answer."""

    def __init__(self, w3: Web3, contract: Contract, start_block: int = 0) -> None:
        self.w3 = w3
        self.contract = contract
        self.start_block = start_block
        self.cache = BlockCache()
        self._topics = {
            "0x" + bytes(keccak(text=_signature(contract, name))).hex(): name for name in RIGHT_EVENTS
        }

    # ------------------------------------------------------------ blocks

    def head(self) -> int:
        return int(self._ask(lambda: self.w3.eth.block_number))

    @property
    def chain_id(self) -> int:
        return int(self.cache.get(("chainId",), lambda: self._ask(lambda: self.w3.eth.chain_id)))

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def block(self, number: int) -> BlockRef:
        def read() -> BlockRef:
            block = self._ask(lambda: self.w3.eth.get_block(number))
            return BlockRef(int(block["number"]), bytes(block["hash"]), int(block["timestamp"]))

        return self.cache.get((number, "block"), read)

    def raw_header(self, number: int) -> dict[str, Any]:
        """The block's JSON-RPC form, header fields as the node gives them (hex strings)."""
        return self.cache.get(
            (number, "rawHeader"),
            lambda: dict(self._rpc("eth_getBlockByNumber", [hex(number), False])),
        )

    def storage_proof(self, slot: bytes, number: int) -> dict[str, Any] | None:
        """EIP-1186 proof of one storage slot of the contract at `number`; None if the chain has no
        eth_getProof."""

        def read() -> dict[str, Any] | None:
            try:
                return dict(self._rpc("eth_getProof", [self.address, ["0x" + slot.hex()], hex(number)]))
            except ChainError:
                return None

        return self.cache.get((number, "proof", slot), read)

    def storage_proofs(self, slots: tuple[bytes, ...], number: int) -> dict[str, Any] | None:
        """EIP-1186 proof of several storage slots of the contract at `number`, in one request."""

        def read() -> dict[str, Any] | None:
            try:
                return dict(
                    self._rpc(
                        "eth_getProof", [self.address, ["0x" + slot.hex() for slot in slots], hex(number)]
                    )
                )
            except ChainError:
                return None

        return self.cache.get((number, "proofs", slots), read)

    # ------------------------------------------------------------ rights

    def right_of(self, right_id: bytes, block: int) -> RightEntry:
        def read() -> RightEntry:
            raw = self._call(self.contract.functions.rightOf(right_id), block)
            version, office, kind, confidential, digest = _fields(raw, 5)
            return RightEntry(
                int(version),
                office_code(office),
                RightKind.chain_name(kind),
                bool(confidential),
                bytes(digest),
            )

        return self.cache.get((block, "rightOf", right_id), read)

    def matches_state(self, right_id: bytes, state: RightState, block: int) -> bool:
        return bool(
            self.cache.get(
                (block, "matchesState", right_id, state.as_tuple()),
                lambda: self._call(self.contract.functions.matchesState(right_id, state.as_tuple()), block),
            )
        )

    def history(self, right_id: bytes, block: int) -> list[RightVersion]:
        """Every version of the right up to `block`, oldest first, each with the full state after it."""
        return self.cache.get((block, "history", right_id), lambda: self._history(right_id, block))

    def _history(self, right_id: bytes, block: int) -> list[RightVersion]:
        logs = self._ask(
            lambda: self.w3.eth.get_logs(
                {
                    "address": self.contract.address,
                    "fromBlock": self.start_block,
                    "toBlock": block,
                    "topics": [list(self._topics), "0x" + right_id.hex()],
                }
            )
        )
        ordered = sorted(logs, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))
        versions: list[RightVersion] = []
        state: RightState | None = None
        sealed = False
        for log in ordered:
            name = self._topics["0x" + bytes(log["topics"][0]).hex()]
            args = _plain(dict(getattr(self.contract.events, name)().process_log(log)["args"]))
            office = office_code(args["office"])
            if name == "RightRegistered":
                record, owner, status = _fields(args["state"], 3)
                state = RightState(bytes(record), bytes(owner), bytes(status))
                sealed = bool(args["confidential"])
                version = 1
            elif state is None:
                continue  # a change without a registration in range: start_block is too late
            elif name == "OwnershipChanged":
                state = RightState(bytes(args["recordHash"]), bytes(args["ownerCommitment"]), state.status)
                version = int(args["version"])
            elif name == "LegalStatusChanged":
                status = bytes(_fields(args["statusEvent"], 5)[0])
                state = RightState(bytes(args["recordHash"]), state.owner_commitment, status)
                version = int(args["version"])
            elif name == "Designated":  # the IR's new record; its owners and status carry over
                state = RightState(bytes(args["recordHash"]), state.owner_commitment, state.status)
                version = int(args["version"])
            else:
                state = RightState(bytes(args["recordHash"]), state.owner_commitment, state.status)
                sealed = False
                version = int(args["version"])
            versions.append(
                RightVersion(
                    version=version,
                    action=ACTIONS[name],
                    office=office,
                    sealed=sealed,
                    block_number=int(log["blockNumber"]),
                    block_hash=bytes(log["blockHash"]),
                    transaction_hash=bytes(log["transactionHash"]),
                    log_index=int(log["logIndex"]),
                    event=name,
                    fields=_json_fields(name, args),
                    state=state,
                    log=_raw_log(log),
                )
            )
        return versions

    # ------------------------------------------------------------ offices and keys

    def office(self, code: str, block: int) -> OfficeInfo | None:
        def read() -> OfficeInfo | None:
            try:
                view = OfficeView.from_call(
                    self._call(self.contract.functions.office(office_bytes(code)), block)
                )
            except ValueError as err:
                raise ChainError(f"unexpected answer to office({code}): {err}") from None
            if view.status == "none":
                return None
            return OfficeInfo(
                code, view.status, view.account, view.name, view.endpoint, view.key_count,
                view.validator or ZERO_ADDRESS,
            )  # fmt: skip

        return self.cache.get((block, "office", code), read)

    def suspended_at(self, code: str, block: int) -> int | None:
        """The block of the office's latest suspension up to `block` (None if never suspended)."""

        def read() -> int | None:
            topic = "0x" + bytes(keccak(text=_signature(self.contract, "OfficeSuspended"))).hex()
            logs = self._ask(
                lambda: self.w3.eth.get_logs(
                    {
                        "address": self.contract.address,
                        "fromBlock": self.start_block,
                        "toBlock": block,
                        "topics": [topic, "0x" + office_bytes(code).ljust(32, b"\0").hex()],
                    }
                )
            )
            return max((int(log["blockNumber"]) for log in logs), default=None)

        return self.cache.get((block, "suspendedAt", code), read)

    def signing_key(self, code: str, key_id: bytes, block: int) -> KeyInfo | None:
        def read() -> KeyInfo | None:
            try:
                raw = self._call(self.contract.functions.signingKey(office_bytes(code), key_id), block)
            except ContractLogicError:
                return None  # the contract refuses an unknown key
            _key_id, algorithm, valid_from, revoked_at, public_key = _fields(raw, 5)
            if int(valid_from) == 0:
                return None
            try:
                algo: SigningAlgorithm | None = SigningAlgorithm.from_chain_value(int(algorithm))
            except ValueError:
                algo = None
            return KeyInfo(code, key_id, algo, int(valid_from), int(revoked_at) or None, bytes(public_key))

        return self.cache.get((block, "signingKey", code, key_id), read)

    def is_key_valid_at(self, code: str, key_id: bytes, version_block: int, block: int) -> bool:
        return bool(
            self.cache.get(
                (block, "isKeyValidAt", code, key_id, version_block),
                lambda: self._call(
                    self.contract.functions.isKeyValidAt(office_bytes(code), key_id, version_block), block
                ),
            )
        )

    # ------------------------------------------------------------ anchors

    def anchor_of(self, root: bytes, block: int) -> AnchorInfo | None:
        def read() -> AnchorInfo | None:
            office, count, number, timestamp = _fields(
                self._call(self.contract.functions.anchorOf(root), block), 4
            )
            if int(number) == 0:
                return None
            return AnchorInfo(root, office_code(office), int(count), int(number), int(timestamp))

        return self.cache.get((block, "anchorOf", root), read)

    def anchor_event(self, root: bytes, block: int) -> AnchorEvent | None:
        """The RootAnchored log of `root` up to `block`, or None."""

        def read() -> AnchorEvent | None:
            event = self.contract.events.RootAnchored()
            topic = "0x" + bytes(self.w3.keccak(text=_signature(self.contract, "RootAnchored"))).hex()
            logs = self._ask(
                lambda: self.w3.eth.get_logs(
                    {
                        "address": self.contract.address,
                        "fromBlock": self.start_block,
                        "toBlock": block,
                        "topics": [topic, "0x" + root.hex()],
                    }
                )
            )
            if not logs:
                return None
            log = logs[0]
            args = _plain(dict(event.process_log(log)["args"]))
            return AnchorEvent(
                block_number=int(log["blockNumber"]),
                block_hash=bytes(log["blockHash"]),
                transaction_hash=bytes(log["transactionHash"]),
                log_index=int(log["logIndex"]),
                fields=_json_fields("RootAnchored", args),
                log=_raw_log(log),
            )

        return self.cache.get((block, "anchorEvent", root), read)

    def verify_record(self, root: bytes, record_hash: bytes, proof: list[bytes], block: int) -> bool:
        return bool(
            self.cache.get(
                (block, "verifyRecord", root, record_hash, tuple(proof)),
                lambda: self._call(self.contract.functions.verifyRecord(root, record_hash, proof), block),
            )
        )

    # ------------------------------------------------------------ plumbing

    def cached(self) -> ChainReader:
        """This reader, sharing its cache, answering from the cache alone: a read it does not hold raises
        NotCached instead of asking the chain."""
        return _CacheOnly(self)

    def _call(self, function: Any, block: int) -> Any:
        try:
            return function.call(block_identifier=block)
        except ContractLogicError:
            raise
        except BadFunctionCallOutput as err:
            if not self._ask(lambda: self.w3.eth.get_code(self.contract.address, block_identifier=block)):
                raise BlockOutOfRange(block, f"the registry was not deployed yet at block {block}") from None
            raise ChainError(f"the chain did not answer: {type(err).__name__}: {err}") from None
        except (*CHAIN_DOWN, Web3Exception, ValueError) as err:
            raise ChainError(f"the chain did not answer: {type(err).__name__}: {err}") from None

    def _rpc(self, method: str, params: list[Any]) -> Any:
        answer = self._ask(lambda: self.w3.provider.make_request(method, params))  # type: ignore[arg-type]
        if "error" in answer or answer.get("result") is None:
            raise ChainError(f"{method} failed: {answer.get('error')}")
        return answer["result"]

    def _ask(self, read: Callable[[], T]) -> T:
        try:
            return read()
        except (*CHAIN_DOWN, Web3Exception, ValueError) as err:
            raise ChainError(f"the chain did not answer: {type(err).__name__}: {err}") from None


class _CacheOnly(ChainReader):
    """A ChainReader over another's cache that never asks the chain."""

    def __init__(self, reader: ChainReader) -> None:
        self.w3 = reader.w3
        self.contract = reader.contract
        self.start_block = reader.start_block
        self.cache = _HeldOnly(reader.cache)  # type: ignore[assignment]
        self._topics = reader._topics

    def cached(self) -> ChainReader:
        return self

    def _call(self, function: Any, block: int) -> Any:
        raise NotCached("a chain call")

    def _ask(self, read: Callable[[], T]) -> T:
        raise NotCached("a chain read")


def _signature(contract: Contract, name: str) -> str:
    """The canonical event signature (`Name(type,...)`, tuples expanded) from the ABI."""
    entry: Mapping[str, Any] = next(
        e for e in contract.abi if e.get("type") == "event" and e.get("name") == name
    )
    return f"{name}({','.join(_abi_type(i) for i in entry['inputs'])})"


def _abi_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


def _fields(value: Any, count: int) -> list[Any]:
    """A struct as web3 returns it (tuple or mapping), as a list in declaration order."""
    items = list(value.values()) if isinstance(value, Mapping) else list(value)
    if len(items) != count:
        raise ChainError(f"unexpected struct of {len(items)} fields (expected {count})")
    return items


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _json_fields(name: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The event's decoded fields in JSON form (bytes as hex, enums named)."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key == "rightId":
            out[key] = bytes(value).hex()
        elif key in ("office", "designatedOffice"):
            out[key] = office_code(value)
        elif key == "kind" and name == "RightRegistered":
            out[key] = RightKind.chain_name(value)
        elif key == "state":
            record, owner, status = _fields(value, 3)
            out[key] = RightState(bytes(record), bytes(owner), bytes(status)).to_json()
        elif key == "conveyance":
            kind, partial, date, evidence = _fields(value, 4)
            out[key] = {
                "kind": ConveyanceCategory.chain_name(kind),
                "partialTransfer": bool(partial),
                "effectiveDate": int(date),
                "evidenceHash": bytes(evidence).hex(),
            }
        elif key == "statusEvent":
            status, previous, detailed, date, corrects = _fields(value, 5)
            out[key] = {
                "status": bytes(status).hex(),
                "statusCode": status_code(status),
                "previousStage": int(previous),
                "detailedEvent": bytes_text(detailed),
                "effectiveDate": int(date),
                "correctsVersion": int(corrects),
            }
        elif isinstance(value, (bytes, bytearray)):
            out[key] = bytes(value).hex()
        else:
            out[key] = value
    return out


def event_fields(name: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """A registry event's decoded arguments in the JSON form its history and receipts show."""
    return _json_fields(name, _plain(dict(args)))


def _raw_log(log: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "address": str(log["address"]),
        "topics": ["0x" + bytes(t).hex() for t in log["topics"]],
        "data": "0x" + bytes(log["data"]).hex(),
    }
