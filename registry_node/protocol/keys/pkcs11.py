"""An office's keys in a PKCS#11 token (a hardware security module; SoftHSM2 in tests and the HSM demo).

A key in a token never leaves it: the node asks the token to sign. Both of an office's keys can live
there:
- the document-signing key (Ed25519 or ECDSA P-256), a `DocumentSigner`. Its signatures are the same
  bytes a file key gives: Ed25519 as is, ECDSA P-256 over SHA-256 as DER. Verifiers cannot tell the
  difference;
- the transaction account (secp256k1), a `TokenAccount` that signs Ethereum transactions. The token
  gives r and s; the recovery id that Ethereum needs is found by recovering the public key both ways,
  and s is taken in its lower half (EIP-2).

Keys are named by RFC 7512 URIs, `pkcs11:token=EP%20office;object=signing-key`, with the standard
query attributes `module-path` (the token's library) and `pin-source` (`file:` a file holding the PIN).
The key id the contract publishes is the key's CKA_ID (32 bytes, by default the SHA-256 of the public
key), so the token holds everything the node needs, and no file sits beside the key.

A PKCS#11 session must not run two operations at once, so each token has one session per process, and
operations take its lock. Private keys are generated in the token as sensitive and not extractable.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from eth_account._utils.signing import sign_transaction_dict
from eth_account.datastructures import SignedTransaction
from eth_keys.datatypes import PublicKey, Signature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from registry_node.protocol.errors import ConfigError, RegistryError
from registry_node.protocol.keys.signing_key import KEY_ID_LENGTH, SigningAlgorithm

SCHEME = "pkcs11:"
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_CURVES = {SigningAlgorithm.ECDSA_P256: "secp256r1"}
_ED25519_OID = "1.3.101.112"
# Only what the node matches on: an attribute it would ignore (id, serial, …) could select another key
_PATH_ATTRIBUTES = ("token", "object", "type")
_QUERY_ATTRIBUTES = ("module-path", "pin-source", "pin-value")
_VALUE = re.compile(r"^[A-Za-z0-9\-._~%!$&'()*+,=:@/ ]*$")


class TokenError(RegistryError):
    """A token could not be opened or used; `reason` says why without revealing the PIN."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"{uri}: {reason}")
        self.uri = uri
        self.reason = reason


# ------------------------------------------------------------ RFC 7512 URIs


@dataclass(frozen=True)
class TokenUri:
    """A PKCS#11 object: the token's label and the object's label, with where to find the module and PIN."""

    token: str
    object: str
    module_path: str | None = None
    pin_source: str | None = None

    def __post_init__(self) -> None:
        if not self.token:
            raise ConfigError("token", "the PKCS#11 URI must name the token (token=…)")
        if not self.object:
            raise ConfigError("object", "the PKCS#11 URI must name the key object (object=…)")

    @classmethod
    def parse(cls, text: str, setting: str = "pkcs11") -> TokenUri:
        """Reads a `pkcs11:` URI; a ConfigError names `setting` and the attribute that is wrong."""
        if not text.startswith(SCHEME):
            raise ConfigError(setting, f"a PKCS#11 URI starts with {SCHEME!r}")
        body, _, query = text[len(SCHEME) :].partition("?")
        path = _attributes(body, ";", _PATH_ATTRIBUTES, setting)
        options = _attributes(query, "&", _QUERY_ATTRIBUTES, setting)
        if "pin-value" in options:
            raise ConfigError(
                setting, "pin-value: a PIN written in a setting is a secret at rest; use pin-source=file:…"
            )
        if path.get("type", "private") != "private":
            raise ConfigError(setting, f"type: must name a private key, not {path['type']!r}")
        pin_source = options.get("pin-source")
        if pin_source is not None and not pin_source.startswith("file:"):
            raise ConfigError(setting, "pin-source: only file: sources are read")
        try:
            return cls(path.get("token", ""), path.get("object", ""), options.get("module-path"), pin_source)
        except ConfigError as err:
            raise ConfigError(setting, f"{err.field}: {err.reason}") from None

    def __str__(self) -> str:
        text = f"{SCHEME}token={_quote(self.token)};object={_quote(self.object)}"
        query = [
            f"{name}={_quote(value)}"
            for name, value in (("module-path", self.module_path), ("pin-source", self.pin_source))
            if value is not None
        ]
        return text + ("?" + "&".join(query) if query else "")

    def with_object(self, label: str) -> TokenUri:
        return TokenUri(self.token, label, self.module_path, self.pin_source)


def is_token_uri(location: object) -> bool:
    return isinstance(location, TokenUri) or (isinstance(location, str) and location.startswith(SCHEME))


def _attributes(text: str, separator: str, known: tuple[str, ...], setting: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for part in filter(None, text.split(separator)):
        name, equals, raw = part.partition("=")
        if not equals:
            raise ConfigError(setting, f"{part!r}: a PKCS#11 URI attribute is name=value")
        if name not in known:
            raise ConfigError(
                setting, f"{name}: not a PKCS#11 URI attribute this node reads ({', '.join(known)})"
            )
        if name in values:
            raise ConfigError(setting, f"{name}: given twice")
        if not _VALUE.match(raw):
            raise ConfigError(setting, f"{name}: characters outside RFC 7512 must be %-encoded")
        values[name] = unquote(raw)
    return values


def _quote(value: str) -> str:
    return quote(value, safe="/:@!$'()*+,-._~")


# ------------------------------------------------------------ reaching a token


@dataclass(frozen=True)
class TokenAccess:
    """What opens a token besides its URI: the PKCS#11 module and the user PIN."""

    module: str
    pin: str = field(repr=False)

    @classmethod
    def resolve(cls, uri: TokenUri, module: str | None, pin: str | None, setting: str) -> TokenAccess:
        """The URI's own module-path and pin-source win; else `module` and `pin` (from settings, the
        environment, or the node password)."""
        chosen_module = uri.module_path or module
        if not chosen_module:
            raise ConfigError(setting, "no PKCS#11 module: set pkcs11_module or the URI's module-path")
        if not Path(chosen_module).is_file():
            raise ConfigError(setting, f"module-path: no such file {chosen_module}")
        if uri.pin_source is not None:
            pin_path = Path(uri.pin_source.removeprefix("file:"))
            try:
                pin = pin_path.read_text("utf-8").rstrip("\n")
            except OSError as err:
                raise ConfigError(setting, f"pin-source: cannot read {pin_path}: {err.strerror}") from None
        if not pin:
            raise ConfigError(
                setting, "no PIN for the token: give pin-source, IPREG_NODE_PKCS11_PIN or a password"
            )
        return cls(chosen_module, pin)


class _TokenSession:
    """One logged-in session on one token, shared by every key of that token in this process."""

    def __init__(self, session: Any, pin: str) -> None:
        self.session = session
        self.lock = threading.Lock()
        self._pin_digest = hashlib.sha256(pin.encode("utf-8")).digest()

    def opened_with(self, pin: str) -> bool:
        return hmac.compare_digest(self._pin_digest, hashlib.sha256(pin.encode("utf-8")).digest())


_sessions: dict[tuple[str, str], _TokenSession] = {}
_sessions_lock = threading.Lock()


def _session(uri: TokenUri, access: TokenAccess) -> _TokenSession:
    import pkcs11  # imported here: a node whose keys are in files never loads a PKCS#11 library

    key = (access.module, uri.token)
    with _sessions_lock:
        if key in _sessions:
            if not _sessions[key].opened_with(access.pin):
                raise TokenError(str(uri), "the token refused the PIN")
            return _sessions[key]
        try:
            library = pkcs11.lib(access.module)
            try:
                token = library.get_token(token_label=uri.token)
            except pkcs11.NoSuchToken:
                # The module lists the tokens as they were when it was loaded. Starting it again finds a
                # token made since, and ends this process's earlier sessions on it: a node has one token
                # and finds it at once; only lab tools making tokens as they go get here.
                for stale in [cached for cached in _sessions if cached[0] == access.module]:
                    del _sessions[stale]
                library.reinitialize()
                token = library.get_token(token_label=uri.token)
            opened = _TokenSession(token.open(user_pin=access.pin, rw=True), access.pin)
        except pkcs11.NoSuchToken:
            raise TokenError(str(uri), f"no token labelled {uri.token!r} in {access.module}") from None
        except pkcs11.PinIncorrect:
            raise TokenError(str(uri), "the token refused the PIN") from None
        except pkcs11.PinLocked:
            raise TokenError(str(uri), "the token's PIN is locked") from None
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as err:
            raise TokenError(str(uri), f"cannot open the token: {type(err).__name__} {err}") from None
        _sessions[key] = opened
        return opened


def close_sessions() -> None:
    """Closes every session this process opened (tests that re-create tokens call it)."""
    with _sessions_lock:
        for opened in _sessions.values():
            with contextlib.suppress(Exception):  # a token that went away is closed already
                opened.session.close()
        _sessions.clear()


def _find_key(opened: _TokenSession, uri: TokenUri, object_class: Any) -> Any:
    import pkcs11

    try:
        return opened.session.get_key(object_class=object_class, label=uri.object)
    except pkcs11.NoSuchKey:
        raise TokenError(str(uri), f"no key labelled {uri.object!r} in token {uri.token!r}") from None
    except pkcs11.MultipleObjectsReturned:
        raise TokenError(
            str(uri), f"several keys are labelled {uri.object!r}; labels must be unique"
        ) from None


def _ec_point(public_key: Any) -> bytes:
    """The public point from CKA_EC_POINT, which tokens give as a DER OCTET STRING."""
    from asn1crypto.core import OctetString
    from pkcs11 import Attribute

    raw = bytes(public_key[Attribute.EC_POINT])
    try:
        return bytes(OctetString.load(raw).native)
    except ValueError:
        return raw  # some tokens give the bare point


# ------------------------------------------------------------ the document-signing key


class TokenSigningKey:
    """A document-signing key that stays in its token; the same signatures as `OfficeSigningKey`."""

    def __init__(
        self,
        uri: TokenUri,
        opened: _TokenSession,
        private: Any,
        algorithm: SigningAlgorithm,
        key_id: bytes,
        public_key: bytes,
    ) -> None:
        self.uri = uri
        self._opened = opened
        self._private = private
        self._algorithm = algorithm
        self._key_id = key_id
        self._public_key = public_key

    def __repr__(self) -> str:
        return f"TokenSigningKey({self.uri}, {self._algorithm.value}, key id {self._key_id.hex()[:16]}…)"

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def algorithm(self) -> SigningAlgorithm:
        return self._algorithm

    @property
    def public_key_bytes(self) -> bytes:
        return self._public_key

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism

        with self._opened.lock:
            if self._algorithm is SigningAlgorithm.ED25519:
                return bytes(self._private.sign(data, mechanism=Mechanism.EDDSA))
            raw = bytes(self._private.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA))
        half = len(raw) // 2
        return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))


@dataclass(frozen=True)
class TokenKeyInfo:
    """A key made in a token, and what the office publishes on chain for it."""

    uri: TokenUri
    algorithm: SigningAlgorithm
    key_id: bytes
    public_key: bytes


def create_signing_key_in_token(
    uri: TokenUri, access: TokenAccess, algorithm: SigningAlgorithm, key_id: bytes | None = None
) -> TokenKeyInfo:
    """Generates a document-signing key pair in the token under `uri.object`; refuses a label in use."""
    from pkcs11 import Attribute, KeyType, Mechanism
    from pkcs11.util.ec import encode_named_curve_parameters

    opened = _session(uri, access)
    _refuse_label_in_use(opened, uri)
    with opened.lock:
        if algorithm is SigningAlgorithm.ED25519:
            parameters = opened.session.create_domain_parameters(
                KeyType.EC_EDWARDS,
                {Attribute.EC_PARAMS: encode_named_curve_parameters(_ED25519_OID)},
                local=True,
            )
            mechanism = Mechanism.EC_EDWARDS_KEY_PAIR_GEN
        else:
            parameters = opened.session.create_domain_parameters(
                KeyType.EC,
                {Attribute.EC_PARAMS: encode_named_curve_parameters(_CURVES[algorithm])},
                local=True,
            )
            mechanism = Mechanism.EC_KEY_PAIR_GEN
        public, private = _generate(parameters, uri, mechanism)
        point = _ec_point(public)
        chosen_id = key_id if key_id is not None else hashlib.sha256(point).digest()
        if len(chosen_id) != KEY_ID_LENGTH:
            raise ConfigError("key_id", f"must be {KEY_ID_LENGTH} bytes, got {len(chosen_id)}")
        public[Attribute.ID] = chosen_id
        private[Attribute.ID] = chosen_id
    return TokenKeyInfo(uri, algorithm, chosen_id, point)


def open_signing_key(uri: TokenUri, access: TokenAccess) -> TokenSigningKey:
    """The document-signing key at `uri`, checked: Ed25519 or P-256, with a 32-byte CKA_ID."""
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import encode_named_curve_parameters

    opened = _session(uri, access)
    with opened.lock:
        private = _find_key(opened, uri, ObjectClass.PRIVATE_KEY)
        public = _find_key(opened, uri, ObjectClass.PUBLIC_KEY)
        key_id = bytes(private[Attribute.ID])
        key_type = private.key_type
        parameters = bytes(public[Attribute.EC_PARAMS]) if key_type is KeyType.EC else b""
        point = _ec_point(public)
    if key_type is KeyType.EC_EDWARDS:
        algorithm = SigningAlgorithm.ED25519
    elif key_type is KeyType.EC and parameters == encode_named_curve_parameters("secp256r1"):
        algorithm = SigningAlgorithm.ECDSA_P256
    else:
        raise TokenError(str(uri), "not a document-signing key: it must be Ed25519 or ECDSA P-256")
    if len(key_id) != KEY_ID_LENGTH:
        raise TokenError(
            str(uri), f"CKA_ID: must be the {KEY_ID_LENGTH}-byte key id, got {len(key_id)} bytes"
        )
    return TokenSigningKey(uri, opened, private, algorithm, key_id, point)


# ------------------------------------------------------------ the transaction account


class TokenAccount:
    """An Ethereum account whose secp256k1 key stays in the token; signs transactions like LocalAccount."""

    def __init__(self, uri: TokenUri, opened: _TokenSession, private: Any, public_point: bytes) -> None:
        self.uri = uri
        self._opened = opened
        self._private = private
        self._public = PublicKey(public_point[1:])
        self.address: str = self._public.to_checksum_address()

    def __repr__(self) -> str:
        return f"TokenAccount({self.uri}, {self.address})"

    def sign_msg_hash(self, message_hash: bytes) -> Signature:
        """A recoverable signature of a 32-byte hash, made by the token (what eth-account's signer calls)."""
        from pkcs11 import Mechanism

        with self._opened.lock:
            raw = bytes(self._private.sign(message_hash, mechanism=Mechanism.ECDSA))
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        if s > SECP256K1_ORDER // 2:
            s = SECP256K1_ORDER - s
        for v in (0, 1):
            signature = Signature(vrs=(v, r, s))
            if signature.recover_public_key_from_msg_hash(message_hash) == self._public:
                return signature
        raise TokenError(str(self.uri), "the token's signature does not recover to its public key")

    def sign_transaction(self, transaction_dict: Mapping[str, Any]) -> SignedTransaction:
        """Signs like `LocalAccount.sign_transaction`: `from`, if given, must be this account."""
        unsigned = dict(transaction_dict)
        sender = unsigned.pop("from", None)
        if sender is not None and to_checksum_address(sender) != self.address:
            raise TypeError(f"from field must match the token's account {self.address}, but it was {sender}")
        v, r, s, encoded = sign_transaction_dict(self, unsigned)  # type: ignore[arg-type]
        return SignedTransaction(
            raw_transaction=HexBytes(encoded), hash=HexBytes(keccak(encoded)), r=r, s=s, v=v
        )


def create_account_in_token(uri: TokenUri, access: TokenAccess) -> str:
    """Generates a secp256k1 transaction key in the token under `uri.object`; returns its address."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, Mechanism
    from pkcs11.util.ec import encode_named_curve_parameters

    opened = _session(uri, access)
    _refuse_label_in_use(opened, uri)
    with opened.lock:
        try:
            parameters = opened.session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256k1")}, local=True
            )
            public, _private = _generate(parameters, uri, Mechanism.EC_KEY_PAIR_GEN)
        except pkcs11.PKCS11Error as err:
            raise TokenError(
                str(uri),
                f"the token cannot make a secp256k1 key ({type(err).__name__}); keep the "
                "transaction account in a keystore file",
            ) from None
        point = _ec_point(public)
    address = PublicKey(point[1:]).to_checksum_address()
    return str(address)


def open_account(uri: TokenUri, access: TokenAccess) -> TokenAccount:
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import encode_named_curve_parameters

    opened = _session(uri, access)
    with opened.lock:
        private = _find_key(opened, uri, ObjectClass.PRIVATE_KEY)
        public = _find_key(opened, uri, ObjectClass.PUBLIC_KEY)
        is_k1 = private.key_type is KeyType.EC and bytes(public[Attribute.EC_PARAMS]) == (
            encode_named_curve_parameters("secp256k1")
        )
        point = _ec_point(public)
    if not is_k1:
        raise TokenError(str(uri), "not a transaction key: an Ethereum account is a secp256k1 key")
    return TokenAccount(uri, opened, private, point)


# ------------------------------------------------------------ generation


def check_label_free(uri: TokenUri, access: TokenAccess) -> None:
    """Refuses, before anything is made, a label the token already uses."""
    _refuse_label_in_use(_session(uri, access), uri)


def label_in_use(uri: TokenUri, access: TokenAccess) -> bool:
    from pkcs11 import Attribute

    opened = _session(uri, access)
    with opened.lock:
        return any(True for _ in opened.session.get_objects({Attribute.LABEL: uri.object}))


def _refuse_label_in_use(opened: _TokenSession, uri: TokenUri) -> None:
    """Keys are never replaced: a second key under the same label would make the first unreachable."""
    from pkcs11 import Attribute

    with opened.lock:
        if any(True for _ in opened.session.get_objects({Attribute.LABEL: uri.object})):
            raise TokenError(str(uri), f"token {uri.token!r} already holds an object labelled {uri.object!r}")


def _generate(parameters: Any, uri: TokenUri, mechanism: Any) -> tuple[Any, Any]:
    from pkcs11 import Attribute

    return parameters.generate_keypair(  # type: ignore[no-any-return]
        store=True,
        label=uri.object,
        mechanism=mechanism,
        public_template={Attribute.VERIFY: True},
        private_template={
            Attribute.SIGN: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.PRIVATE: True,
        },
    )
