"""Talking to the contract without web3's contract objects: calldata encoded from its ABI, and its custom
errors decoded so a refused change says which rule it broke, with the offending values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_typing import ABIError
from eth_utils.abi import function_abi_to_4byte_selector
from hexbytes import HexBytes


@dataclass(frozen=True)
class RevertReason:
    """A contract refusal: the custom error's name and its arguments, or a plain message."""

    name: str
    args: dict[str, Any]

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.args.items())
        return f"{self.name}({shown})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        text = value.rstrip(b"\0")
        if text and all(0x20 <= b < 0x7F for b in text) and len(value) <= 16:
            return repr(text.decode("ascii"))
        return "0x" + value.hex()
    return repr(value)


class ErrorDecoder:
    """Maps revert data to the contract's custom errors."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._errors: dict[bytes, dict[str, Any]] = {
            bytes(function_abi_to_4byte_selector(cast(ABIError, entry))): entry
            for entry in abi
            if entry.get("type") == "error"
        }

    def decode(self, data: bytes | str | None) -> RevertReason:
        raw = bytes(HexBytes(data)) if data else b""
        entry = self._errors.get(raw[:4])
        if entry is None:
            return RevertReason("Reverted", {"data": "0x" + raw.hex()} if raw else {})
        types = [_abi_type(i) for i in entry["inputs"]]
        values = abi_decode(types, raw[4:])
        return RevertReason(
            entry["name"], {i["name"]: v for i, v in zip(entry["inputs"], values, strict=True)}
        )


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


class CallEncoder:
    """Calldata of a contract's functions, encoded straight from its ABI.

    web3's `build_transaction` spends about 3 ms per call finding and validating the function; a worker
    that signs every accepted change cannot afford that, so it encodes with eth_abi directly.
    """

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._functions: dict[str, tuple[bytes, list[str]]] = {}
        for entry in abi:
            if entry.get("type") == "function":
                selector = bytes(function_abi_to_4byte_selector(cast(Any, entry)))
                self._functions[entry["name"]] = (selector, [_abi_type(i) for i in entry["inputs"]])

    def encode(self, function: str, args: tuple[Any, ...] | list[Any]) -> bytes:
        selector, types = self._functions[function]
        return selector + abi_encode(types, list(args))


def revert_data(err: Exception) -> bytes | str | None:
    """The revert data web3 attached to `err`: a hex string, or a node's error object holding it (ganache
    puts it under `result`, geth-style nodes under `data`)."""
    data = getattr(err, "data", None)
    if isinstance(data, dict):
        data = data.get("data") or data.get("result")
    return data if isinstance(data, bytes | str) else None
