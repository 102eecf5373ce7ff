"""What an uploaded document is: a node's signed document JSON, a bare record JSON, an ST.96 XML or any other
file; and what a record claims to be (its right id and version: a right record names its right under
`right.rightId`, a designated office's decision record its designation under `designationId`).

Plain data in, plain data out: the evidence gatherer reads the upload with these, and the judge reads records
with `claims`.
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.verify.facts import Candidate
from registry_node.protocol.records import RIGHT_ID, canonical_bytes, chain_right_id, split_designation_id
from registry_node.protocol.signing import DetachedSignature, SignatureFormatError
from registry_node.protocol.st96 import St96Error, canonical_xml

LIGHT_UPLOAD_BYTES = 64 * 1024  # see is_light
RIGHT_RECORD = "ipreg/right-record/"
DESIGNATION_RECORD = "ipreg/designation-record/"


@dataclass(frozen=True)
class Upload:
    """What an upload turned out to be."""

    form: str  # signed-record, record, st96-xml, file
    canonical: bytes | None = None
    signature: DetachedSignature | None = None
    anchor: Mapping[str, Any] | None = None
    error: str | None = None


def classify(data: bytes, content_type: str | None, filename: str | None) -> Upload:
    head = data.lstrip()[:1]
    if head == b"<" or _named_xml(content_type, filename):
        try:
            canonical_xml(data)
            return Upload("st96-xml")
        except St96Error:
            return Upload("file")
    if head != b"{":
        return Upload("file")
    try:
        parsed = json.loads(data)
    except ValueError:
        return Upload("file")
    if not isinstance(parsed, dict):
        return Upload("file")
    if "canonical" in parsed and "signature" in parsed:
        try:
            canonical = base64.b64decode(str(parsed["canonical"]), validate=True)
            signature = DetachedSignature.from_json(parsed["signature"])
        except (binascii.Error, ValueError, SignatureFormatError) as err:
            return Upload("signed-record", error=f"malformed signed document: {err}")
        anchor = parsed.get("anchor") if isinstance(parsed.get("anchor"), dict) else None
        return Upload("signed-record", canonical, signature, anchor)
    if str(parsed.get("schema", "")).startswith((RIGHT_RECORD, DESIGNATION_RECORD)):
        try:
            return Upload("record", canonical_bytes(parsed))
        except Exception as err:  # rfc8785 refuses some values (NaN, huge integers)
            return Upload("record", error=f"cannot canonicalise the record: {err}")
    return Upload("file")


def is_light(data: bytes, content_type: str | None = None, filename: str | None = None) -> bool:
    """A JSON upload of at most LIGHT_UPLOAD_BYTES: once the chain reads it needs are cached, verifying it
    takes about a millisecond of CPU (an ST.96 XML is parsed and canonicalised first, which takes longer)."""
    return (
        len(data) <= LIGHT_UPLOAD_BYTES
        and data.lstrip()[:1] == b"{"
        and not _named_xml(content_type, filename)
    )


def _named_xml(content_type: str | None, filename: str | None) -> bool:
    return (content_type or "").endswith("xml") or (filename or "").lower().endswith(".xml")


def claims(canonical: bytes) -> tuple[str | None, int | None]:
    """The entry id and version a record names, (None, None) when it names no valid one: a right record's
    `right.rightId` (a right, never a designation), a designation record's `designationId`."""
    try:
        data = json.loads(canonical)
        if str(data.get("schema", "")).startswith(DESIGNATION_RECORD):
            right_id = data["designationId"]
            designation = True
        else:
            right_id = data["right"]["rightId"]
            designation = False
        version = data.get("version")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None
    if not isinstance(right_id, str) or not RIGHT_ID.match(right_id):
        return None, None
    if (split_designation_id(right_id) is not None) != designation:
        return None, None
    return right_id, version if isinstance(version, int) else None


def hex32(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str):
        raw = bytes.fromhex(value.removeprefix("0x"))
        if len(raw) == 32:
            return raw
    raise ValueError("not 32 bytes of hex")


def as_candidate(item: Any) -> Candidate | None:
    """A look-up's answer (a Candidate, an index row or a mapping) as a Candidate; None if it names none."""
    if isinstance(item, Candidate):
        return item
    get = item.get if isinstance(item, dict) else lambda name, default=None: getattr(item, name, default)
    raw = get("chain_right_id") or get("chainRightId")
    right_id = get("right_id") or get("rightId")
    if raw is None and isinstance(right_id, str) and RIGHT_ID.match(right_id):
        raw = chain_right_id(right_id)
    try:
        chain_rid = hex32(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
    return Candidate(chain_rid, right_id if isinstance(right_id, str) else None)


def parse_multipart(body: bytes, content_type: str) -> tuple[bytes, str | None, str | None] | None:
    """The first file part of a multipart/form-data body: (bytes, its content type, its filename)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return payload, part.get_content_type(), part.get_filename()
    return None
