"""An office's keys in a PKCS#11 token (real SoftHSM2 tokens): the signatures verify as file keys' do, the
transaction key signs what a real chain accepts, `ipreg node init --pkcs11` and rotation work in the
token, and the private keys never leave it."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_node.devnet.chains import fund
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.key_rotation import rotate_signing_key
from registry_node.node.office import Office
from registry_node.node.outbox import OutboxWorker
from registry_node.node.rekey import KeyInToken, rekey_node
from registry_node.node.service import init_node, load_keys, register_signing_key
from registry_node.node.settings import NodeSettings, load_settings, settings_toml, token_digest
from registry_node.node.store import Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.errors import ConfigError
from registry_node.protocol.keys import OfficeSigningKey, SigningAlgorithm
from registry_node.protocol.keys.pkcs11 import (
    TokenAccess,
    TokenError,
    TokenUri,
    create_account_in_token,
    create_signing_key_in_token,
    open_account,
    open_signing_key,
)
from registry_node.protocol.records import chain_right_id
from registry_node.protocol.signing import DetachedSignature, sign_document, verify_signature
from tests.support.chain import GanacheFactory
from tests.support.records import granted_patent
from tests.support.softhsm import PIN, TokenFactory

IPREG = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ipreg"
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


# ------------------------------------------------------------ URIs


def test_a_pkcs11_uri_reads_its_token_object_module_and_pin_source() -> None:
    uri = TokenUri.parse(
        "pkcs11:token=EP%20office;object=signing-key;type=private"
        "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin"
    )
    assert (uri.token, uri.object) == ("EP office", "signing-key")
    assert uri.module_path == SOFTHSM and uri.pin_source == "file:/run/secrets/pin"
    assert TokenUri.parse(str(uri)) == uri


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("pkcs11:object=signing-key", "token"),
        ("pkcs11:token=EP", "object"),
        ("pkcs11:token=EP;object=k;colour=blue", "colour: not a PKCS#11 URI attribute"),
        ("pkcs11:token=EP;object=k;id=%01", "id: not a PKCS#11 URI attribute this node reads"),
        ("pkcs11:token=EP;object=k;type=public", "type: must name a private key"),
        ("pkcs11:token=EP;object=k?pin-value=1234", "pin-value: a PIN written in a setting is a secret"),
        ("pkcs11:token=EP;object=k?pin-source=https://pins.example/ep", "pin-source: only file:"),
        ("pkcs11:token=EP;token=GB;object=k", "token: given twice"),
        ("pkcs11:token=E\"P;object=k", "%-encoded"),
    ],
    ids=["no-token", "no-object", "unknown-attribute", "unmatched-id", "public-key", "pin-in-uri",
         "pin-from-url", "twice", "unencoded"],
)  # fmt: skip
def test_a_bad_pkcs11_uri_is_refused_naming_the_setting_and_the_attribute(text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as refused:
        TokenUri.parse(text, "signing_key")
    assert refused.value.field == "signing_key" and reason in refused.value.reason


def test_node_toml_names_keys_in_a_token_and_reads_them_back(tmp_path: Path) -> None:
    uri = TokenUri("EP office", "signing-key")
    settings = NodeSettings(
        office_code="EP",
        office_name="European Patent Office",
        data_dir=tmp_path,
        operator_token_sha256=token_digest("token"),
        signing_key=uri,
        account_keystore="pkcs11:token=EP%20office;object=account",
        pkcs11_module=SOFTHSM,
    )
    settings.settings_path.write_text(settings_toml(settings), "utf-8")
    text = settings.settings_path.read_text("utf-8")
    assert 'signing_key = "pkcs11:token=EP%20office;object=signing-key"' in text
    reloaded = load_settings(settings.settings_path)
    assert reloaded.signing_key == uri and reloaded.account_keystore == uri.with_object("account")
    assert reloaded.pkcs11_module == SOFTHSM


# ------------------------------------------------------------ signing in the token


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm), ids=lambda a: a.value)
def test_a_token_signature_verifies_exactly_like_a_file_key_signature(
    algorithm: SigningAlgorithm, new_token: TokenFactory
) -> None:
    token = new_token()
    made = create_signing_key_in_token(token.uri, token.access, algorithm)
    key = open_signing_key(token.uri, token.access)
    file_key = OfficeSigningKey.generate(algorithm)

    canonical = b'{"rightId":"EP:PAT:EP20190012345","version":1}'
    signature = sign_document(canonical, key, "EP")

    assert key.key_id == made.key_id and key.public_key_bytes == made.public_key
    assert len(key.public_key_bytes) == len(file_key.public_key_bytes)  # the contract's form, as a file key's
    assert signature.algorithm is algorithm and signature.key_id == made.key_id
    assert verify_signature(canonical, signature, made.public_key, algorithm)
    assert not verify_signature(canonical + b" ", signature, made.public_key, algorithm)
    if algorithm is SigningAlgorithm.ECDSA_P256:
        decode_dss_signature(signature.signature)  # DER, as cryptography writes it for a file key
    else:
        assert len(signature.signature) == 64


def test_the_private_key_is_sensitive_and_never_leaves_the_token(new_token: TokenFactory) -> None:
    token = new_token()
    create_signing_key_in_token(token.uri, token.access, SigningAlgorithm.ED25519)
    probe = f"""
import pkcs11
from pkcs11 import Attribute, ObjectClass
with pkcs11.lib({SOFTHSM!r}).get_token(token_label={token.label!r}).open(user_pin={PIN!r}) as session:
    private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="signing-key")
    print(private[Attribute.SENSITIVE], private[Attribute.EXTRACTABLE])
    try:
        private[Attribute.VALUE]
    except pkcs11.AttributeSensitive:
        print("refused")
"""
    # another process holding the PIN, as an intruder on the office's machine would
    result = subprocess.run(
        [str(IPREG.parent / "python"), "-c", probe],
        env={**os.environ, **token.hsm.env()}, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.stdout.split() == ["True", "False", "refused"], result.stderr


def test_a_wrong_pin_is_refused_without_showing_it(new_token: TokenFactory) -> None:
    token = new_token()
    with pytest.raises(TokenError) as refused:
        open_signing_key(token.uri, TokenAccess(token.access.module, "not the pin 0000"))
    assert "refused the PIN" in str(refused.value) and "0000" not in str(refused.value)


def test_a_label_in_use_is_never_replaced(new_token: TokenFactory) -> None:
    token = new_token()
    first = create_signing_key_in_token(token.uri, token.access, SigningAlgorithm.ED25519)
    with pytest.raises(TokenError, match="already holds an object labelled 'signing-key'"):
        create_signing_key_in_token(token.uri, token.access, SigningAlgorithm.ED25519)
    assert open_signing_key(token.uri, token.access).key_id == first.key_id


def test_a_transaction_key_is_not_taken_for_a_document_signing_key(new_token: TokenFactory) -> None:
    token = new_token()
    create_account_in_token(token.uri, token.access)
    with pytest.raises(TokenError, match="Ed25519 or ECDSA P-256"):
        open_signing_key(token.uri, token.access)


def test_transactions_signed_in_the_token_recover_to_its_account_with_a_low_s(
    new_token: TokenFactory,
) -> None:
    token = new_token()
    uri = token.uri.with_object("account")
    address = create_account_in_token(uri, token.access)
    account = open_account(uri, token.access)
    assert account.address == address
    for nonce in range(8):  # about half of raw ECDSA signatures have a high s, which Ethereum refuses
        tx = {"to": "0x" + "11" * 20, "value": nonce, "gas": 21_000, "maxFeePerGas": 10**9,
              "maxPriorityFeePerGas": 1, "nonce": nonce, "chainId": 1515, "from": address}  # fmt: skip
        signed = account.sign_transaction(tx)
        assert Account.recover_transaction(signed.raw_transaction) == address
        assert signed.s <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
    with pytest.raises(TypeError, match="from field must match"):
        account.sign_transaction({**tx, "from": "0x" + "22" * 20})


# ------------------------------------------------------------ a node whose keys are in a token


def test_a_node_with_its_keys_in_a_token_writes_to_a_real_chain_signs_records_and_rotates_in_the_token(
    tmp_path: Path, start_ganache: GanacheFactory, new_token: TokenFactory
) -> None:
    token = new_token()
    deployer: LocalAccount = Account.create()
    chain = start_ganache([deployer.key.to_0x_hex()])
    w3 = connect(chain.rpc_url)
    settings = NodeSettings(
        office_code="EP",
        office_name="European Patent Office",
        data_dir=tmp_path / "ep",
        operator_token_sha256=token_digest("token"),
        rpc_url=chain.rpc_url,
        signing_key=token.uri,
        account_keystore=token.uri.with_object("account"),
        pkcs11_module=SOFTHSM,
    )
    node = init_node(settings, PIN, SigningAlgorithm.ECDSA_P256)
    assert sorted(p.name for p in settings.data_dir.iterdir()) == ["node.toml"]  # no key file at all
    fund(w3, deployer, node.address)
    deployment = deploy_consortium(
        Transactor(w3, deployer, load_artifact().abi),
        ConsortiumConfig([FoundingOffice("EP", settings.office_name, node.address, "https://ep.example")]),
    )
    settings = dataclasses.replace(settings, contract_address=deployment.address)
    settings.settings_path.write_text(settings_toml(settings), "utf-8")
    contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)

    keys = load_keys(settings, PIN)
    registration = register_signing_key(settings, keys, w3)  # a transaction the token signed

    published = {bytes(k[0]): k for k in contract.functions.signingKeys(b"EP").call()}
    assert registration.block_number is not None and registration.key_id in published
    public_key = bytes(published[registration.key_id][4])
    store = Store(tmp_path / "ep.sqlite")
    accepted = Office("EP", store, keys.signing_key).register(granted_patent("EP:PAT:EP20190012345"))
    OutboxWorker(store, w3, contract, keys.account).drain(60)  # the token signs the registration too
    stored = store.version(accepted.right_id, 1)
    assert stored is not None
    signature = DetachedSignature.from_json(stored.signature)
    assert verify_signature(stored.canonical, signature, public_key, SigningAlgorithm.ECDSA_P256)
    assert contract.functions.rightOf(chain_right_id(accepted.right_id)).call()[0] == 1

    rotation = rotate_signing_key(settings, PIN, w3)
    assert rotation.key_file == token.uri.with_object("signing-key-2")
    assert rotation.revoked_block is not None
    assert not contract.functions.isKeyValidAt(b"EP", registration.key_id, rotation.revoked_block).call()
    assert contract.functions.isKeyValidAt(b"EP", rotation.key_id, rotation.revoked_block).call()
    reloaded = load_settings(settings.settings_path)
    assert reloaded.signing_key == token.uri.with_object("signing-key-2")
    assert load_keys(reloaded, PIN).signing_key.key_id == rotation.key_id


def test_ipreg_node_init_pkcs11_makes_both_keys_in_the_token_and_names_them_in_node_toml(
    tmp_path: Path, new_token: TokenFactory
) -> None:
    token = new_token()
    env = {**os.environ, **token.hsm.env(), "IPREG_NODE_PKCS11_PIN": PIN, "IPREG_NODE_PASSWORD": "unused"}
    command = [
        str(IPREG), "node", "init", "--office", "GB", "--name", "UK Intellectual Property Office",
        "--data-dir", str(tmp_path / "gb"), "--pkcs11", f"pkcs11:token={token.label}",
        "--pkcs11-module", SOFTHSM, "--json",
    ]  # fmt: skip
    made = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert made.returncode == 0, made.stderr
    shown = json.loads(made.stdout)
    toml = (tmp_path / "gb" / "node.toml").read_text("utf-8")
    assert f'signing_key = "pkcs11:token={token.label};object=signing-key"' in toml
    assert f'account_keystore = "pkcs11:token={token.label};object=account"' in toml
    assert f'pkcs11_module = "{SOFTHSM}"' in toml
    assert sorted(p.name for p in (tmp_path / "gb").iterdir()) == ["node.toml"]
    assert open_account(token.uri.with_object("account"), token.access).address == shown["account"]
    assert open_signing_key(token.uri, token.access).key_id.hex() == shown["signingKey"]["keyId"]

    again = subprocess.run(
        [*command[:8], str(tmp_path / "gb2"), *command[9:]],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert again.returncode != 0 and "already holds an object labelled" in again.stderr
    assert not (tmp_path / "gb2" / "node.toml").exists()


def test_rekey_refuses_a_signing_key_held_in_a_token_which_has_no_file(
    tmp_path: Path, new_token: TokenFactory
) -> None:
    token = new_token()
    settings = NodeSettings(
        office_code="KR",
        office_name="Korean Intellectual Property Office",
        data_dir=tmp_path / "kr",
        operator_token_sha256=token_digest("token"),
        signing_key=token.uri,
        account_keystore=token.uri.with_object("account"),
        pkcs11_module=SOFTHSM,
    )
    init_node(settings, PIN, SigningAlgorithm.ED25519)
    with pytest.raises(KeyInToken, match=r"is in the PKCS#11 token .* no file to re-encrypt"):
        rekey_node(settings, PIN, "a new password")
    assert sorted(p.name for p in settings.data_dir.iterdir()) == ["node.toml"]
