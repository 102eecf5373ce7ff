"""An office's keys: what signs its documents and its transactions, and where the private keys live.

- `signing_key`: the document-signing key's algorithm and id, and the `DocumentSigner` the node signs
  with;
- `files`: keys in encrypted files (the transaction account's Ethereum keystore, the signing key's
  encrypted PKCS#8), and their re-encryption in place;
- `pkcs8_scrypt`: the signing key's file format, PKCS#8 encrypted with PBES2/scrypt, and what protects a
  PKCS#8 file, read without its password;
- `certificate`: a self-signed X.509 certificate for a signing key.
"""

from registry_node.protocol.keys.certificate import self_signed_certificate
from registry_node.protocol.keys.files import (
    SIGNING_KEY_SCHEMA,
    KeyFileExists,
    KeyStoreError,
    SigningKeyInfo,
    WrongKeyPassword,
    create_account_keystore,
    describe_account_protection,
    describe_key_protection,
    generate_signing_key,
    load_account,
    load_signing_key,
    rewrite_account_keystore,
    rewrite_signing_key,
    signing_key_metadata_path,
)
from registry_node.protocol.keys.pkcs8_scrypt import KeyProtection, ScryptCost
from registry_node.protocol.keys.signing_key import (
    KEY_ID_LENGTH,
    DocumentSigner,
    OfficeSigningKey,
    SigningAlgorithm,
    SigningPrivateKey,
)

__all__ = [
    "KEY_ID_LENGTH",
    "SIGNING_KEY_SCHEMA",
    "DocumentSigner",
    "KeyFileExists",
    "KeyProtection",
    "KeyStoreError",
    "OfficeSigningKey",
    "ScryptCost",
    "SigningAlgorithm",
    "SigningKeyInfo",
    "SigningPrivateKey",
    "WrongKeyPassword",
    "create_account_keystore",
    "describe_account_protection",
    "describe_key_protection",
    "generate_signing_key",
    "load_account",
    "load_signing_key",
    "rewrite_account_keystore",
    "rewrite_signing_key",
    "self_signed_certificate",
    "signing_key_metadata_path",
]
