"""Integrity of a catalog: sha256 checksums of archives, an Ed25519 signature of the index.

The province keeps a private key (``yidi catalog keygen``, never in a
repository) and signs ``index.json`` with it; ``index.json.sig`` holds the
signature and ``key.pub`` the public key, both in hex. A county pins that public
key in its ``scenarios.yaml`` and refuses an index it does not verify.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from runtime.catalog import CatalogError


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def keygen(path: Path) -> str:
    """Write a new private key to ``path`` (mode 600) and its public key to ``path.pub``;
    return the public key in hex."""
    if path.exists():
        raise CatalogError(f"{path} already exists; choose another file or remove it first")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = public_hex(key)
    Path(f"{path}.pub").write_text(public + "\n", "utf-8")
    return public


def public_hex(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CatalogError(f"cannot read the signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CatalogError(f"{path} is not an Ed25519 key (make one with: yidi catalog keygen)")
    return key


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return key.sign(data).hex()


def verify(public: str, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (hex) is ``public``'s (hex) signature of ``data``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public.strip()))
        key.verify(bytes.fromhex(signature.strip()), data)
    except (ValueError, InvalidSignature):
        return False
    return True


def valid_public_key(text: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(text.strip()))
    except ValueError:
        return False
    return True
