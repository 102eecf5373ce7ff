"""`ipreg node rekey`, run as an operator runs it: the node's signing key re-encrypted with scrypt in place,
the same key before and after; both keys under a new password; nothing changed by a wrong password; and
(`rekey_node` itself) an interrupted run finished by the next one. The command writes at the production
cost (N=2^18), so each of its rewrites takes a few seconds; the files a test starts from are cheap (N=2^4)
or legacy (PBKDF2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from registry_node.cli.main import app
from registry_node.node.rekey import rekey_node
from registry_node.node.settings import PASSWORD_ENV, NodeSettings, settings_toml, token_digest
from registry_node.protocol.keys import (
    OfficeSigningKey,
    WrongKeyPassword,
    create_account_keystore,
    load_account,
    load_signing_key,
    rewrite_signing_key,
)
from registry_node.protocol.signing import sign_document, verify_signature
from tests.support.keys import FAST_SCRYPT_N, write_legacy_signing_key

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a new horse, a new battery"


@dataclass(frozen=True)
class LegacyNode:
    """A node folder as an older version left it: a signing key on PBKDF2, an account keystore."""

    settings: NodeSettings
    key: OfficeSigningKey
    address: str
    password_file: Path

    def rekey(self, *args: str, password_file: Path | None = None) -> Result:
        password = password_file or self.password_file
        command = [
            "node",
            "rekey",
            "--data-dir",
            str(self.settings.data_dir),
            "--password-file",
            str(password),
        ]
        return CliRunner().invoke(app, [*command, *args], env={PASSWORD_ENV: None})


@pytest.fixture
def legacy_node(tmp_path: Path) -> LegacyNode:
    settings = NodeSettings(
        office_code="EP",
        office_name="European Patent Office",
        data_dir=tmp_path / "ep",
        operator_token_sha256=token_digest("token"),
    )
    settings.data_dir.mkdir(mode=0o700)
    settings.settings_path.write_text(settings_toml(settings), "utf-8")
    address = create_account_keystore(settings.account_keystore, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    key = write_legacy_signing_key(settings.signing_key, PASSWORD)
    password_file = tmp_path / "password.txt"
    password_file.write_text(PASSWORD + "\n", "utf-8")
    return LegacyNode(settings, key, address, password_file)


def new_password_file(tmp_path: Path) -> Path:
    path = tmp_path / "new-password.txt"
    path.write_text(NEW_PASSWORD + "\n", "utf-8")
    return path


def test_rekey_puts_a_legacy_signing_key_on_scrypt_and_the_key_stays_the_same(
    legacy_node: LegacyNode,
) -> None:
    settings = legacy_node.settings
    account_before = settings.account_keystore.read_bytes()

    result = legacy_node.rekey()

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "signing-key.pem: re-encrypted with scrypt (N=2^18, r=8, p=1); was PBKDF2-HMAC-SHA256, 2048 rounds",
        "account.json: left as it is: scrypt (N=2^4, r=8, p=1)",
    ]
    rekeyed = load_signing_key(settings.signing_key, PASSWORD)
    assert rekeyed.key_id == legacy_node.key.key_id
    assert rekeyed.public_key_bytes == legacy_node.key.public_key_bytes
    signature = sign_document(b"canonical record", rekeyed, "EP")
    assert verify_signature(
        b"canonical record", signature, legacy_node.key.public_key_bytes, rekeyed.algorithm
    )
    assert settings.account_keystore.read_bytes() == account_before
    assert sorted(p.name for p in settings.data_dir.iterdir()) == [
        "account.json", "node.toml", "signing-key.pem", "signing-key.pem.json"
    ]  # fmt: skip

    scrypt_file = settings.signing_key.read_bytes()
    again = legacy_node.rekey()
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == "signing-key.pem: left as it is: scrypt (N=2^18, r=8, p=1)"
    assert settings.signing_key.read_bytes() == scrypt_file


def test_rekey_with_a_new_password_rewrites_both_keys_under_it(
    legacy_node: LegacyNode, tmp_path: Path
) -> None:
    settings = legacy_node.settings

    result = legacy_node.rekey("--new-password-file", str(new_password_file(tmp_path)))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "signing-key.pem: re-encrypted with scrypt (N=2^18, r=8, p=1) under the new password; "
        "was PBKDF2-HMAC-SHA256, 2048 rounds",
        "account.json: re-encrypted with scrypt (N=2^18, r=8, p=1) under the new password; "
        "was scrypt (N=2^4, r=8, p=1)",
    ]
    assert load_signing_key(settings.signing_key, NEW_PASSWORD).key_id == legacy_node.key.key_id
    assert load_account(settings.account_keystore, NEW_PASSWORD).address == legacy_node.address
    with pytest.raises(WrongKeyPassword):
        load_signing_key(settings.signing_key, PASSWORD)
    assert NEW_PASSWORD not in result.output and PASSWORD not in result.output


def test_a_wrong_password_changes_nothing_and_the_error_names_no_secret(
    legacy_node: LegacyNode, tmp_path: Path
) -> None:
    settings = legacy_node.settings
    before = {p.name: p.read_bytes() for p in settings.data_dir.iterdir()}
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the password\n", "utf-8")

    result = legacy_node.rekey("--new-password-file", str(new_password_file(tmp_path)), password_file=wrong)

    assert result.exit_code == 1
    assert result.stderr == f"error: {settings.signing_key}: wrong password, or the key file was altered\n"
    assert "not the password" not in result.output and NEW_PASSWORD not in result.output
    assert {p.name: p.read_bytes() for p in settings.data_dir.iterdir()} == before


def test_a_rekey_interrupted_between_the_two_files_is_finished_by_running_it_again(
    legacy_node: LegacyNode,
) -> None:
    settings = legacy_node.settings
    # the first run rewrote the signing key under the new password, then stopped before the keystore
    rewrite_signing_key(settings.signing_key, legacy_node.key, NEW_PASSWORD, scrypt_n=FAST_SCRYPT_N)

    done = rekey_node(settings, PASSWORD, NEW_PASSWORD, scrypt_n=FAST_SCRYPT_N)

    assert done.signing_key.to_json() == {
        "file": str(settings.signing_key),
        "before": "scrypt (N=2^4, r=8, p=1)",
        "after": None,
        "rewritten": False,
        "newPassword": True,
    }
    assert done.signing_key.message() == (
        "signing-key.pem: left as it is under the new password: scrypt (N=2^4, r=8, p=1)"
    )
    assert done.account.message() == (
        "account.json: re-encrypted with scrypt (N=2^4, r=8, p=1) under the new password; "
        "was scrypt (N=2^4, r=8, p=1)"
    )
    assert load_signing_key(settings.signing_key, NEW_PASSWORD).key_id == legacy_node.key.key_id
    assert load_account(settings.account_keystore, NEW_PASSWORD).address == legacy_node.address
