"""A self-signed X.509 certificate for an office's document-signing key, for tools that want one."""

from __future__ import annotations

import datetime
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.keys.signing_key import OfficeSigningKey

OFFICE_CODE = re.compile(r"^[A-Z]{2}$")


def self_signed_certificate(
    key: OfficeSigningKey, office_code: str, office_name: str, days: int = 365
) -> bytes:
    """A self-signed X.509 certificate (PEM) for the signing key, for tools that want one.

    Its subject key identifier is the key id, so the certificate points at the key the contract
    publishes; the chain, not the certificate, decides whether the key was valid when it signed.
    """
    if not OFFICE_CODE.match(office_code):
        raise ConfigError("office_code", "must be a WIPO ST.3 code: two capital letters")
    if not office_name.strip():
        raise ConfigError("office_name", "must not be empty")
    if days < 1:
        raise ConfigError("days", f"must be at least 1, got {days}")
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{office_code} document signing"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, office_name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier(key.key_id), critical=False)
    )
    digest = None if isinstance(key.private_key, Ed25519PrivateKey) else hashes.SHA256()
    certificate = builder.sign(key.private_key, digest)
    return certificate.public_bytes(serialization.Encoding.PEM)
