"""The embedded server's own TLS certificate, and certificate fingerprints.

When people on other computers may join, the embedded Synapse also listens on
the network over TLS. There is no certificate authority on a small network, so
Confero generates a self-signed certificate on first use and other computers
pin it by its SHA-256 fingerprint, which the guest link carries. The private
key is an owner-only file in the data folder's secrets folder; it never leaves
this computer.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from pathlib import Path
from typing import Final

__all__ = [
    "CERTIFICATE_FILE",
    "KEY_FILE",
    "ensure_certificate",
    "fingerprint_of_pem",
    "format_fingerprint",
    "parse_fingerprint",
]

CERTIFICATE_FILE: Final = "network_tls.crt"
KEY_FILE: Final = "network_tls.key"
# Long-lived on purpose: the fingerprint is what guests trust, not the dates, and a
# certificate that expires would silently break every guest link ever shared.
_VALID_DAYS: Final = 20 * 365
_HEX_RE: Final = re.compile(r"^[0-9A-Fa-f]{64}$")


def ensure_certificate(secrets_dir: Path, server_name: str) -> tuple[Path, Path]:
    """The certificate and key files, generated on first use; returns their paths.

    Synapse reads both; the key is written 0600 before any byte of it is.
    """
    cert_path, key_path = secrets_dir / CERTIFICATE_FILE, secrets_dir / KEY_FILE
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    # Imported here: only hosts that turn network access on pay for it.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name or "confero")])
    now = datetime.datetime.now(datetime.UTC)
    # Names are informative only: guests check the fingerprint, not the name.
    alt_names: list[x509.GeneralName] = [x509.DNSName(server_name or "confero")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in (cert_path, key_path):  # a half-written pair from a crash: start over
        path.unlink(missing_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def fingerprint_of_pem(pem: bytes) -> bytes:
    """SHA-256 of the certificate's DER form: what a TLS client sees and pins."""
    import ssl

    der = ssl.PEM_cert_to_DER_cert(pem.decode("ascii"))
    return hashlib.sha256(der).digest()


def format_fingerprint(digest: bytes) -> str:
    """``AA:BB:…`` (32 pairs), the usual way to show a fingerprint for comparison."""
    return ":".join(f"{b:02X}" for b in digest)


def parse_fingerprint(text: str) -> bytes:
    """A SHA-256 fingerprint from ``AA:BB:…``, plain hex, or either with ``sha256:``.

    Raises ValueError for anything else.
    """
    raw = text.strip()
    if raw.lower().startswith("sha256:"):
        raw = raw[len("sha256:") :]
    compact = raw.replace(":", "")
    if not _HEX_RE.match(compact):
        raise ValueError("not a SHA-256 fingerprint")
    return bytes.fromhex(compact)
