"""Encrypted PKCS#8 with scrypt: a signing-key file that makes every password guess cost memory and time.

`cryptography` encrypts PKCS#8 with PBKDF2 at 2,048 rounds: whoever copies the file tries about a thousand
passwords a second on one CPU core (bench/keys.py), and far more on GPUs, which PBKDF2 suits. PKCS#8 has a
standard slot for a memory-hard function, though: PBES2 (RFC 8018) with scrypt as its key derivation
(RFC 7914 §7, OID 1.3.6.1.4.1.11591.4.11, parameters salt, N, r, p and an optional keyLength). This module
writes that form, with AES-256-CBC, at the parameters of the Ethereum keystore that holds the office's
account (N=2^18, r=8, p=1: 256 MiB and about a second per guess), so both of the office's key files resist
guessing alike. `cryptography` cannot write it, so the ASN.1 is built and read here with asn1crypto (whose
KdfAlgorithm does not know scrypt: `ScryptParams` is defined below); the key comes from `hashlib.scrypt` and
the cipher from `cryptography`. The plaintext is the unencrypted PKCS#8 PrivateKeyInfo DER, so the file is
an ordinary `-----BEGIN ENCRYPTED PRIVATE KEY-----` PEM.

Who else reads these files: `cryptography` (its `load_pem_private_key` opens PBES2/scrypt), and OpenSSL,
within its memory limit. OpenSSL 3.0's PKCS#8 decoder gives scrypt at most 32 MiB (its built-in default,
which the `openssl pkcs8` command cannot raise), so `openssl pkcs8 -in key.pem` reads N up to 2^14 at r=8
(it says "memory limit exceeded" from 2^15, and so refuses the default N=2^18); `openssl pkcs8 -topk8
-scrypt` writes N=2^14, r=8, p=1 without keyLength, and what it writes opens here. To hand a key to OpenSSL,
write it with n=2**14 (or take it through `cryptography`); the node keeps the full cost.

The file is read before any key derivation runs, so a hostile file costs no more than a legitimate one:
scrypt's N, r and p are capped (N a power of two up to 2^20, r ≤ 32, p ≤ 16, at most 1 GiB of memory and at
most four times the default's work), the salt is 8 to 64 bytes, the key 32 bytes, the IV 16; an unknown
scheme, KDF or cipher, a file over 64 KiB, broken base64 and truncated or trailing DER are refused by name.
Legacy files (PBES2 with PBKDF2, PBES1, PKCS#12 PBE) are described here, with their rounds capped, and left
to `cryptography` to open. A bad padding or a plaintext that is no PrivateKeyInfo is a wrong password: with
CBC the two cannot be told apart from an altered file. No error carries the password or key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass

from asn1crypto import core, keys
from asn1crypto.pem import armor
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from registry_node.protocol.errors import ConfigError, RegistryError

SCRYPT_OID = "1.3.6.1.4.1.11591.4.11"  # RFC 7914 §7: id-scrypt
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**18, 8, 1  # the account keystore's (eth-account's default)
MAX_SCRYPT_N, MAX_SCRYPT_R, MAX_SCRYPT_P = 2**20, 32, 16
MAX_SCRYPT_MEMORY = 2**30  # bytes: 128·r·N, scrypt's working memory (N=2^20 at r=8)
MAX_SCRYPT_WORK = 4 * SCRYPT_N * SCRYPT_R * SCRYPT_P  # N·r·p, which scrypt's time follows
MAX_PBKDF_ROUNDS = 10_000_000  # legacy files: about as long as the costliest scrypt accepted
MIN_SALT_BYTES, SALT_BYTES, MAX_SALT_BYTES = 8, 16, 64
KEY_BYTES = 32  # AES-256
IV_BYTES = 16  # the AES block
MAX_FILE_BYTES = 64 * 1024  # a P-256 key's file is under 1 KiB

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ENCRYPTED PRIVATE KEY-----\r?\n(.*?)-----END ENCRYPTED PRIVATE KEY-----", re.DOTALL
)
_CIPHER = "aes256_cbc"
_LEGACY_SCHEMES = ("pbes1_", "pkcs12_")  # asn1crypto's names of PKCS#5 v1.5 and PKCS#12 PBE schemes
_KDF_LABELS = {"pbkdf2": "PBKDF2-HMAC", "pbkdf1": "PBKDF1", "pkcs12_kdf": "PKCS12-KDF"}
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)  # asn1crypto's, on bad DER


class Pkcs8Error(RegistryError):
    """An encrypted PKCS#8 key that cannot be read or written; `reason` names the part and why, never a
    secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WrongPassword(Pkcs8Error):
    """The password does not open the key (or the ciphertext was altered: CBC cannot tell which)."""

    def __init__(self) -> None:
        super().__init__("wrong password, or the key file was altered")


class ScryptParams(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 7914 §7 scrypt-params: SEQUENCE { salt, costParameter (N), blockSize (r),
    parallelizationParameter (p), keyLength OPTIONAL }."""

    _fields = [  # noqa: RUF012 (asn1crypto's class attribute)
        ("salt", core.OctetString),
        ("cost_parameter", core.Integer),
        ("block_size", core.Integer),
        ("parallelization_parameter", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
    ]


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's cost: N (CPU and memory, a power of two), r (block size) and p (parallel lanes)."""

    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    @property
    def memory_bytes(self) -> int:
        return 128 * self.r * self.n

    def at_least(self, other: ScryptCost) -> bool:
        """Whether every parameter is at least `other`'s: a file at this cost needs no re-encryption."""
        return self.n >= other.n and self.r >= other.r and self.p >= other.p

    def __str__(self) -> str:
        return f"scrypt (N=2^{self.n.bit_length() - 1}, r={self.r}, p={self.p})"


@dataclass(frozen=True)
class KeyProtection:
    """How an encrypted PKCS#8 file is protected, read without its password: the key derivation, its cost
    (`scrypt`, or `rounds` for PBKDF2 and the legacy schemes) and the cipher, in asn1crypto's names."""

    kdf: str  # "scrypt", "PBKDF2-HMAC-SHA256", "PKCS12-KDF-SHA1", ...
    cipher: str  # "aes256_cbc", "pkcs12_sha1_tripledes_3key", ...
    scrypt: ScryptCost | None = None
    rounds: int | None = None

    def __str__(self) -> str:
        if self.scrypt is not None:
            return str(self.scrypt)
        return f"{self.kdf}, {self.rounds} rounds"


def encrypt_pkcs8(
    der: bytes, password: str, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> bytes:
    """The PKCS#8 PrivateKeyInfo `der` encrypted under `password` with PBES2/scrypt and AES-256-CBC, as PEM.

    A cost this module would refuse to read is refused here too (ConfigError), so no file is written that
    cannot be opened again."""
    if not password:
        raise ConfigError("password", "must not be empty")
    cost = ScryptCost(n, r, p)
    problem = _cost_problem(cost)
    if problem is not None:
        raise ConfigError(*problem)
    salt, iv = os.urandom(SALT_BYTES), os.urandom(IV_BYTES)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    encryptor = Cipher(algorithms.AES(_derive(password, salt, cost)), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(der) + padder.finalize()) + encryptor.finalize()
    params = ScryptParams(
        {
            "salt": salt,
            "cost_parameter": n,
            "block_size": r,
            "parallelization_parameter": p,
            "key_length": KEY_BYTES,
        }
    )
    info = keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": {
                "algorithm": "pbes2",
                "parameters": {
                    "key_derivation_func": {"algorithm": SCRYPT_OID, "parameters": params},
                    "encryption_scheme": {"algorithm": _CIPHER, "parameters": iv},
                },
            },
            "encrypted_data": ciphertext,
        }
    )
    return bytes(armor("ENCRYPTED PRIVATE KEY", info.dump()))


def decrypt_pkcs8(pem: bytes, password: str) -> bytes:
    """The PrivateKeyInfo DER inside a PBES2/scrypt `pem`; Pkcs8Error says why a file is refused (checked
    before scrypt runs), WrongPassword when the password does not open it."""
    scheme = _scrypt_scheme(_encrypted_private_key_info(pem))
    if scheme is None:
        raise Pkcs8Error("not encrypted with scrypt (PBES2); this reader opens PBES2/scrypt files only")
    key = _derive(password, scheme.salt, scheme.cost)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(scheme.iv)).decryptor()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        padded = decryptor.update(scheme.ciphertext) + decryptor.finalize()
        der = unpadder.update(padded) + unpadder.finalize()
        _ = keys.PrivateKeyInfo.load(der, strict=True)["private_key_algorithm"]["algorithm"].native
    except _PARSE_ERRORS:
        raise WrongPassword() from None
    return der


def read_key_protection(pem: bytes) -> KeyProtection:
    """How `pem` is protected, without its password; Pkcs8Error when this module would refuse to open it."""
    info = _encrypted_private_key_info(pem)
    scheme = _scrypt_scheme(info)
    if scheme is not None:
        return KeyProtection("scrypt", _CIPHER, scrypt=scheme.cost)
    return _legacy_protection(info)


# ------------------------------------------------------------ reading, before any key derivation


@dataclass(frozen=True)
class _ScryptScheme:
    cost: ScryptCost
    salt: bytes
    iv: bytes
    ciphertext: bytes


def _encrypted_private_key_info(pem: bytes) -> keys.EncryptedPrivateKeyInfo:
    if len(pem) > MAX_FILE_BYTES:
        raise Pkcs8Error(f"larger than any key file ({len(pem)} bytes, at most {MAX_FILE_BYTES})")
    blocks = _PEM_BLOCK.findall(pem)
    if not blocks:
        raise Pkcs8Error("not an encrypted PKCS#8 PEM key (keys at rest must be encrypted)")
    if len(blocks) > 1:
        raise Pkcs8Error(f"holds {len(blocks)} encrypted keys; a key file holds one")
    try:
        der = base64.b64decode(re.sub(rb"\s", b"", blocks[0]), validate=True)
    except binascii.Error:
        raise Pkcs8Error("the PEM body is not base64") from None
    try:
        info = keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        _ = info["encryption_algorithm"]["algorithm"].native, info["encrypted_data"].native  # parsed lazily
    except _PARSE_ERRORS:
        raise Pkcs8Error("not a DER EncryptedPrivateKeyInfo (truncated, or not PKCS#8)") from None
    return info


def _scrypt_scheme(info: keys.EncryptedPrivateKeyInfo) -> _ScryptScheme | None:
    """The file's scrypt scheme, checked; None when it is not PBES2 with scrypt (see _legacy_protection)."""
    algorithm = info["encryption_algorithm"]
    if algorithm["algorithm"].native != "pbes2":
        return None
    try:
        kdf = algorithm["parameters"]["key_derivation_func"]
        kdf_oid = kdf["algorithm"].dotted
        scheme = algorithm["parameters"]["encryption_scheme"]
        cipher = scheme["algorithm"].native
    except _PARSE_ERRORS:
        raise Pkcs8Error("PBES2 parameters: not DER (RFC 8018 PBES2-params)") from None
    if kdf_oid != SCRYPT_OID:
        return None
    try:
        params = ScryptParams.load(kdf["parameters"].dump(), strict=True)
        salt, n, r, p, key_length = (
            params[name].native
            for name in ("salt", "cost_parameter", "block_size", "parallelization_parameter", "key_length")
        )
    except _PARSE_ERRORS:
        raise Pkcs8Error("scrypt parameters: not DER (RFC 7914 §7 scrypt-params)") from None
    if cipher != _CIPHER:
        raise Pkcs8Error(f"cipher: only AES-256-CBC is read with scrypt, not {cipher}")
    if not MIN_SALT_BYTES <= len(salt) <= MAX_SALT_BYTES:
        raise Pkcs8Error(f"scrypt salt: must be {MIN_SALT_BYTES} to {MAX_SALT_BYTES} bytes, got {len(salt)}")
    if key_length is not None and key_length != KEY_BYTES:
        raise Pkcs8Error(f"scrypt keyLength: must be {KEY_BYTES} (AES-256), got {key_length}")
    cost = ScryptCost(n, r, p)
    problem = _cost_problem(cost)
    if problem is not None:
        raise Pkcs8Error(f"scrypt {problem[0]}: {problem[1]}")
    try:
        iv = scheme["parameters"].native
    except _PARSE_ERRORS:
        raise Pkcs8Error("AES-256-CBC IV: not DER (an OCTET STRING)") from None
    if not isinstance(iv, bytes) or len(iv) != IV_BYTES:
        length = len(iv) if isinstance(iv, bytes) else "no"
        raise Pkcs8Error(f"AES-256-CBC IV: must be {IV_BYTES} bytes, got {length}")
    ciphertext = info["encrypted_data"].native
    if not ciphertext or len(ciphertext) % IV_BYTES:
        raise Pkcs8Error(f"encrypted data: {len(ciphertext)} bytes is not a whole number of AES blocks")
    return _ScryptScheme(cost, salt, iv, ciphertext)


def _cost_problem(cost: ScryptCost) -> tuple[str, str] | None:
    """(parameter, reason) when a cost is beyond the caps, so a hostile file cannot make scrypt take
    gigabytes or minutes; None when it is within them."""
    n, r, p = cost.n, cost.r, cost.p
    if n < 2 or n > MAX_SCRYPT_N or n & (n - 1):
        return "N", f"must be a power of two from 2 to 2^20, got {n}"
    if not 1 <= r <= MAX_SCRYPT_R:
        return "r", f"must be 1 to {MAX_SCRYPT_R}, got {r}"
    if not 1 <= p <= MAX_SCRYPT_P:
        return "p", f"must be 1 to {MAX_SCRYPT_P}, got {p}"
    if cost.memory_bytes > MAX_SCRYPT_MEMORY:
        mib = cost.memory_bytes // 2**20
        return "N", f"with r={r} needs {mib} MiB (128·r·N), over the cap of {MAX_SCRYPT_MEMORY // 2**20} MiB"
    if n * r * p > MAX_SCRYPT_WORK:
        return "p", f"makes N·r·p {n * r * p}, over the cap of {MAX_SCRYPT_WORK} (4 times the default)"
    return None


def _legacy_protection(info: keys.EncryptedPrivateKeyInfo) -> KeyProtection:
    """A file `cryptography` opens (PBES2 with PBKDF2, PBES1, PKCS#12 PBE), described and its rounds capped;
    any other scheme is refused here, by name."""
    algorithm = info["encryption_algorithm"]
    scheme = algorithm["algorithm"].native
    if scheme != "pbes2" and not scheme.startswith(_LEGACY_SCHEMES):
        oid = algorithm["algorithm"].dotted
        raise Pkcs8Error(f"encryption scheme: unknown (OID {oid}); PBES2 expected")
    try:
        kdf = algorithm.kdf
        if scheme == "pbes2" and kdf != "pbkdf2":
            oid = algorithm["parameters"]["key_derivation_func"]["algorithm"].dotted
            raise Pkcs8Error(f"key derivation: unknown (OID {oid}); scrypt or PBKDF2 expected")
        hmac, rounds = algorithm.kdf_hmac, algorithm.kdf_iterations
        cipher = scheme
        if scheme == "pbes2":
            cipher = algorithm["parameters"]["encryption_scheme"]["algorithm"].native
    except _PARSE_ERRORS:
        raise Pkcs8Error(f"{scheme} parameters: not DER, or an unknown PRF or cipher") from None
    if not isinstance(rounds, int) or not 1 <= rounds <= MAX_PBKDF_ROUNDS:
        raise Pkcs8Error(f"{kdf} rounds: must be 1 to {MAX_PBKDF_ROUNDS:,}, got {rounds}")
    return KeyProtection(f"{_KDF_LABELS.get(kdf, kdf)}-{str(hmac).upper()}", str(cipher), rounds=rounds)


def _derive(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    """scrypt's 32-byte key; `maxmem` is what these parameters need (OpenSSL's 32 MiB default is too little
    from N=2^15 at r=8), and never more than the caps allow."""
    needed = 128 * cost.r * (cost.n + 2) + 128 * cost.r * cost.p  # OpenSSL's own count: V and B
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=needed + 2**20,
        dklen=KEY_BYTES,
    )
