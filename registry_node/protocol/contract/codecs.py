"""The contract's fixed-size text fields and the records' words: office codes (`bytes2`), status codes
(`bytes5`, e.g. `A4F10`) and detailed event codes (`bytes16`) are ASCII padded with zero bytes on the right.

The enums (right kinds, conveyance kinds) are coded by `records.ChainEnum`, next to their members; key
algorithms by `keys.SigningAlgorithm`.
"""

from __future__ import annotations


def text_bytes(text: str, size: int) -> bytes:
    """ASCII text as a `bytes<size>` field, zero-padded on the right; ValueError if it does not fit."""
    raw = text.encode("ascii")
    if len(raw) > size:
        raise ValueError(f"{text!r} is longer than {size} bytes")
    return raw.ljust(size, b"\0")


def bytes_text(raw: bytes) -> str:
    """A fixed-size text field as text: its ASCII up to the zero-byte padding (a non-ASCII byte shows as
    U+FFFD rather than failing, since the chain, not this code, decides what is stored)."""
    return bytes(raw).rstrip(b"\0").decode("ascii", "replace")


def office_bytes(code: str) -> bytes:
    """An ST.3 office code (`EP`) as the contract's `bytes2` (web3 refuses a code of another length)."""
    return code.encode("ascii")


def office_code(raw: bytes) -> str:
    """The contract's `bytes2` office code as text."""
    return bytes_text(raw)


def status_code(raw: bytes) -> str:
    """The five-character status (`A4F10`); key-event zero bytes are dropped (`A4`)."""
    return bytes_text(raw)
