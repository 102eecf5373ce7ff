"""Re-encrypting a node's key files in place (`ipreg node rekey`): the signing key onto scrypt, and both keys
under a new password when the operator changes it.

A signing key written before scrypt came in is PBKDF2 at 2,048 rounds; `rekey` writes the same key again with
scrypt at the account keystore's cost (N=2^18, r=8, p=1), so the key id, the public key the contract holds
and every signature stay as they were. A file already on scrypt at that cost or more is left as it is, unless
the password changes. With a new password both files are rewritten, since the node opens them with one
password; the account keystore is otherwise left alone (it is scrypt at that cost already).

Order and crashes: both files are opened before anything is written, so a wrong password changes nothing.
Each file is replaced atomically (a checked temporary file renamed over it: `files.rewrite_…`). The signing
key goes first; a crash before the keystore follows leaves the two files under different passwords, and the
same command run again finishes the job: a file that already opens with the new password counts as done.
Run it while the node is stopped or not: a running node holds its keys in memory and never rereads them.

A key in a PKCS#11 token has no file to re-encrypt: the token guards it, and its PIN is changed with the
token's own tools. `rekey` refuses a signing key held in a token, and a new password when the account is in
one; with the account in a token and the signing key in a file, it re-encrypts the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from registry_node.node.settings import NodeSettings
from registry_node.protocol.errors import RegistryError
from registry_node.protocol.keys import (
    KeyProtection,
    ScryptCost,
    WrongKeyPassword,
    describe_account_protection,
    describe_key_protection,
    load_account,
    load_signing_key,
    rewrite_account_keystore,
    rewrite_signing_key,
)
from registry_node.protocol.keys.pkcs8_scrypt import SCRYPT_N
from registry_node.protocol.keys.pkcs11 import TokenUri

Opened = TypeVar("Opened")


@dataclass(frozen=True)
class KeyFileRekey:
    """What `rekey` did to one key file: its protection before and after (`after` None: left as it was)."""

    path: Path
    before: KeyProtection
    after: KeyProtection | None
    new_password: bool  # the file is now under the new password (rewritten now, or by an interrupted run)

    def message(self) -> str:
        """One line for the operator, e.g. "signing-key.pem: re-encrypted with scrypt (N=2^18, r=8, p=1);
        was PBKDF2-HMAC-SHA256, 2048 rounds"."""
        under = " under the new password" if self.new_password else ""
        if self.after is None:
            return f"{self.path.name}: left as it is{under}: {self.before}"
        return f"{self.path.name}: re-encrypted with {self.after}{under}; was {self.before}"

    def to_json(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "before": str(self.before),
            "after": str(self.after) if self.after else None,
            "rewritten": self.after is not None,
            "newPassword": self.new_password,
        }


@dataclass(frozen=True)
class NodeRekey:
    signing_key: KeyFileRekey
    account: KeyFileRekey | None  # None: the account is in a PKCS#11 token


class KeyInToken(RegistryError):
    """`rekey` was asked to re-encrypt a key that a PKCS#11 token holds, which has no file."""

    def __init__(self, uri: TokenUri, what: str) -> None:
        super().__init__(
            f"{what} is in the PKCS#11 token ({uri}): there is no file to re-encrypt; the token guards it, "
            "and its PIN is changed with the token's own tools"
        )


def rekey_node(
    settings: NodeSettings, password: str, new_password: str | None = None, scrypt_n: int | None = None
) -> NodeRekey:
    """Re-encrypts the node's signing key with scrypt (`scrypt_n` None: 2**18) and, with `new_password`,
    both key files under it; raises RegistryError, having changed nothing, when a file does not open."""
    changing = new_password is not None and new_password != password
    target = new_password if changing and new_password is not None else password
    signing_path, account_path = settings.signing_key, settings.account_keystore
    if isinstance(signing_path, TokenUri):
        raise KeyInToken(signing_path, "the signing key")
    if isinstance(account_path, TokenUri) and changing:
        raise KeyInToken(account_path, "the transaction account")
    signing_before = describe_key_protection(signing_path)
    account_in_file = account_path if isinstance(account_path, Path) else None
    account_before = describe_account_protection(account_in_file) if account_in_file else None

    key, key_password = _open(lambda pw: load_signing_key(signing_path, pw), password, target)
    account = None
    if changing and account_in_file is not None:
        account, account_password = _open(lambda pw: load_account(account_in_file, pw), password, target)

    cost = ScryptCost(n=scrypt_n or SCRYPT_N)
    signing_after = None
    on_target = signing_before.scrypt is not None and signing_before.scrypt.at_least(cost)
    if key_password != target or not on_target:
        signing_after = rewrite_signing_key(signing_path, key, target, scrypt_n)
    account_after = None
    if account is not None and account_in_file is not None and account_password != target:
        account_after = rewrite_account_keystore(account_in_file, account, target, scrypt_n)
    account_rekey = None
    if account_in_file is not None and account_before is not None:
        account_rekey = KeyFileRekey(account_in_file, account_before, account_after, changing)
    return NodeRekey(KeyFileRekey(signing_path, signing_before, signing_after, changing), account_rekey)


def _open(load: Callable[[str], Opened], password: str, target: str) -> tuple[Opened, str]:
    """What `load` opens with `password`, or else with `target` (the new password: the file was rewritten by
    an interrupted rekey), and the password that opened it; WrongKeyPassword for `password` when neither
    does."""
    try:
        return load(password), password
    except WrongKeyPassword as wrong:
        if target == password:
            raise
        first = wrong
    try:
        return load(target), target
    except WrongKeyPassword:
        raise first from None
