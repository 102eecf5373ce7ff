"""Writes the hostile signing-key files of tests/assets/keys/hostile/ (run once; the files are committed).

Each file is an encrypted PKCS#8 PEM with one part made hostile: scrypt parameters that would take gigabytes
or minutes, salts, IVs and key lengths of the wrong size, unknown algorithms, broken DER or base64, a PBKDF2
time bomb for the legacy path, and a ciphertext altered after encryption. The key inside is a fresh Ed25519
key encrypted under tests/node/test_key_files_kdf.py's PASSWORD at N=2^4, so whatever is not hostile in a file
is what the reader expects. Run: `.venv/bin/python tests/assets/keys/write_hostile_keys.py`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from asn1crypto import algos, core, keys
from asn1crypto.pem import armor
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from registry_node.protocol.keys.pkcs8_scrypt import SCRYPT_OID, ScryptParams  # noqa: E402

PASSWORD = "correct horse battery staple"
HOSTILE = Path(__file__).resolve().parent / "hostile"
N, R, P = 2**4, 8, 1
PBES2_OID = bytes.fromhex("06092a864886f70d01050d")  # 1.2.840.113549.1.5.13, DER
UNKNOWN_SCHEME_OID = bytes.fromhex("06092a864886f70d010563")  # 1.2.840.113549.1.5.99: no such scheme


def encrypted(der: bytes, salt: bytes, iv: bytes) -> bytes:
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padder.update(der) + padder.finalize()) + encryptor.finalize()


def info_der(
    *,
    kdf_oid: str = SCRYPT_OID,
    kdf_params: Any = None,
    cipher: str = "aes256_cbc",
    iv: Any = None,
    ciphertext: bytes | None = None,
    **scrypt: Any,
) -> bytes:
    """An EncryptedPrivateKeyInfo for a real key, with the given parts replaced."""
    der = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    salt, real_iv = os.urandom(16), os.urandom(16)
    fields = {"salt": salt, "cost_parameter": N, "block_size": R, "parallelization_parameter": P}
    fields.update({"key_length": 32, **scrypt})
    params = kdf_params if kdf_params is not None else ScryptParams(fields)
    value = keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": {
                "algorithm": "pbes2",
                "parameters": {
                    "key_derivation_func": {"algorithm": kdf_oid, "parameters": params},
                    "encryption_scheme": {"algorithm": cipher, "parameters": real_iv if iv is None else iv},
                },
            },
            "encrypted_data": encrypted(der, salt, real_iv) if ciphertext is None else ciphertext,
        }
    )
    return bytes(value.dump())


def pem(der: bytes) -> bytes:
    return bytes(armor("ENCRYPTED PRIVATE KEY", der))


def pbkdf2_time_bomb() -> bytes:
    """A cryptography-written PBKDF2 file whose round count is raised to 2^31 - 1."""
    legacy = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    value = keys.EncryptedPrivateKeyInfo.load(legacy)
    kdf_params = value["encryption_algorithm"]["parameters"]["key_derivation_func"]["parameters"]
    kdf_params["iteration_count"] = 2**31 - 1
    return bytes(value.dump(force=True))


def altered_ciphertext() -> bytes:
    valid = keys.EncryptedPrivateKeyInfo.load(info_der())
    data = bytearray(valid["encrypted_data"].native)
    data[-1] ^= 0x01  # the last block decrypts to a bad padding
    valid["encrypted_data"] = bytes(data)
    return bytes(valid.dump(force=True))


def files() -> dict[str, bytes]:
    valid = info_der()
    return {
        "scrypt_n_2_to_the_30.pem": pem(info_der(cost_parameter=2**30)),
        "scrypt_n_not_a_power_of_two.pem": pem(info_der(cost_parameter=100_000)),
        "scrypt_n_zero.pem": pem(info_der(cost_parameter=0)),
        "scrypt_r_64.pem": pem(info_der(block_size=64)),
        "scrypt_p_1024.pem": pem(info_der(parallelization_parameter=1024)),
        "scrypt_memory_2_gib.pem": pem(info_der(cost_parameter=2**20, block_size=16)),
        "scrypt_work_16_times_the_default.pem": pem(
            info_der(cost_parameter=2**18, block_size=8, parallelization_parameter=16)
        ),
        "scrypt_salt_of_4_bytes.pem": pem(info_der(salt=b"salt")),
        "scrypt_salt_of_65_bytes.pem": pem(info_der(salt=os.urandom(65))),
        "scrypt_key_length_16.pem": pem(info_der(key_length=16)),
        "scrypt_params_not_a_sequence.pem": pem(info_der(kdf_params=core.Null())),
        "kdf_unknown_oid.pem": pem(info_der(kdf_oid="1.3.6.1.4.1.11591.4.99")),
        "cipher_aes_256_gcm.pem": pem(
            info_der(cipher="aes256_gcm", iv=algos.CcmParams({"aes_nonce": os.urandom(12), "aes_icvlen": 16}))
        ),
        "cipher_unknown_oid.pem": pem(info_der(cipher="1.2.3.4.5", iv=core.OctetString(os.urandom(16)))),
        "encryption_scheme_unknown_oid.pem": pem(valid.replace(PBES2_OID, UNKNOWN_SCHEME_OID, 1)),
        "iv_of_8_bytes.pem": pem(info_der(iv=os.urandom(8))),
        "ciphertext_of_33_bytes.pem": pem(info_der(ciphertext=os.urandom(33))),
        "der_truncated.pem": pem(valid[: len(valid) // 2]),
        "der_with_trailing_bytes.pem": pem(valid + b"\x00\x00"),
        "der_garbage.pem": pem(os.urandom(120)),
        "pem_body_not_base64.pem": b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + base64.b64encode(valid)[:40]
        + b"!*not base64*!\n-----END ENCRYPTED PRIVATE KEY-----\n",
        "two_keys_in_one_file.pem": pem(valid) + pem(info_der()),
        "pbkdf2_2_to_the_31_rounds.pem": pem(pbkdf2_time_bomb()),
        "ciphertext_altered.pem": pem(altered_ciphertext()),
    }


def main() -> None:
    HOSTILE.mkdir(exist_ok=True)
    for name, content in files().items():
        (HOSTILE / name).write_bytes(content)
        print(f"{HOSTILE / name}: {len(content)} bytes")


if __name__ == "__main__":
    main()
