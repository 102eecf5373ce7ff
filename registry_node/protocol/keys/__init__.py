"""An office's keys: what signs its documents and its transactions, and where the private keys live.

- `signing_key`: the document-signing key's algorithm and id, and the `DocumentSigner` the node signs
  with;
- `files`: keys in encrypted files (the transaction account's Ethereum keystore, the signing key's
  encrypted PKCS#8);
- `certificate`: a self-signed X.509 certificate for a signing key.
"""

from registry_node.protocol.keys.certificate import self_signed_certificate
from registry_node.protocol.keys.files import (
    SIGNING_KEY_SCHEMA,
    KeyFileExists,
    KeyStoreError,
    SigningKeyInfo,
    create_account_keystore,
    generate_signing_key,
    load_account,
    load_signing_key,
    signing_key_metadata_path,
)
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
    "KeyStoreError",
    "OfficeSigningKey",
    "SigningAlgorithm",
    "SigningKeyInfo",
    "SigningPrivateKey",
    "create_account_keystore",
    "generate_signing_key",
    "load_account",
    "load_signing_key",
    "self_signed_certificate",
    "signing_key_metadata_path",
]
