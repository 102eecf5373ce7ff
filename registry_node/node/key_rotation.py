"""Rotating an office's document-signing key: a new key published, the old one revoked, node.toml updated.

The order keeps the office able to sign at every moment and keeps history verifiable:
1. a new key is made beside the old one: an encrypted file `signing-key-<n>.pem`, or, for a key in a
   PKCS#11 token, a key pair labelled `signing-key-<n>` in the same token;
2. the new key is published in OfficeRegistry (`addSigningKey`);
3. the old key is revoked (`revokeSigningKey`), unless the operator keeps it valid for a while;
4. node.toml names the new key file (written to a temporary file, synced, then renamed).

Revocation is never retroactive on chain: records signed with the old key before the revocation block stay
verifiable; a record signed with it afterwards is `key-revoked`. Run it while the node is stopped, so the
running node never signs with a key it is about to revoke. A crash part-way leaves node.toml naming the
previous key; a rerun then makes and publishes a fresh key (a key file the crash left behind is never used).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from web3 import Web3

from registry_node.node.service import (
    check_chain,
    create_signing_key,
    load_keys,
    open_document_signer,
    token_access,
)
from registry_node.node.settings import KeyLocation, NodeSettings, settings_toml
from registry_node.node.transactor import Transactor
from registry_node.protocol.contract import load_artifact, office_bytes
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.keys.pkcs11 import TokenUri, label_in_use


@dataclass(frozen=True)
class KeyRotation:
    previous_key_id: bytes
    key_id: bytes
    key_file: KeyLocation
    added_block: int | None  # None: the new key was already published (a rerun)
    revoked_block: int | None  # None: the previous key was kept valid (or was already revoked)


def rotate_signing_key(
    settings: NodeSettings,
    password: str,
    w3: Web3,
    algorithm: SigningAlgorithm | None = None,
    revoke_previous: bool = True,
) -> KeyRotation:
    """Publishes a new signing key for the node's office, revokes the previous one, and points node.toml
    at the new key file. Returns what was done; raises RegistryError (nothing changed on chain) when the
    node's keys cannot be read or the chain refuses."""
    keys = load_keys(settings, password)
    previous = keys.signing_key
    new_path = _next_key_location(settings, password)
    info = create_signing_key(settings, new_path, password, algorithm or previous.algorithm)
    open_document_signer(settings, new_path, password)  # the node can open what it will sign with
    contract = check_chain(settings, w3, keys.account)
    transactor = Transactor(w3, keys.account, load_artifact().abi)
    office = office_bytes(settings.office_code)

    published = {bytes(entry[0]): entry for entry in contract.functions.signingKeys(office).call()}
    added_block = None
    if info.key_id not in published:
        call = contract.functions.addSigningKey(info.key_id, info.algorithm.chain_value, info.public_key)
        added_block = int(transactor.send(call)["blockNumber"])
    revoked_block = None
    old = published.get(previous.key_id)
    if revoke_previous and old is not None and int(old[3]) == 0:  # revokedAtBlock 0: still valid
        receipt = transactor.send(contract.functions.revokeSigningKey(previous.key_id))
        revoked_block = int(receipt["blockNumber"])
    _write_settings(dataclasses.replace(settings, signing_key=new_path))
    return KeyRotation(previous.key_id, info.key_id, new_path, added_block, revoked_block)


def _next_key_location(settings: NodeSettings, password: str) -> KeyLocation:
    """`signing-key-2.pem` after `signing-key.pem`, then `-3`…: the first name not taken; in a token, the
    first label not taken."""
    current = settings.signing_key
    if isinstance(current, TokenUri):
        access = token_access(settings, current, password)
        stem = _stem(current.object)
        n = 2
        while label_in_use(candidate := current.with_object(f"{stem}-{n}"), access):
            n += 1
        return candidate
    stem = _stem(current.stem)
    n = 2
    while (path := current.with_name(f"{stem}-{n}{current.suffix}")).exists():
        n += 1
    return path


def _stem(name: str) -> str:
    """`signing-key` of `signing-key-3`: the name without its rotation number."""
    base, _, number = name.rpartition("-")
    return base if base and number.isdigit() else name


def _write_settings(settings: NodeSettings) -> None:
    path = settings.settings_path
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        out.write(settings_toml(settings))
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
