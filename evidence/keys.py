"""The key that signs the evidence ledger and case bundles: Ed25519 (``cryptography``).

Why Ed25519 and not HMAC: whoever can check an HMAC can also forge one, so HR, legal or a court verifying a
bundle would have to be trusted with the worker's key. With Ed25519 the worker (and the export command) hold
the private key; a verifier needs only the public key, which cannot sign. The public key a bundle carries is
not trusted: ``verify`` compares it with the one pinned in settings (``EXITWATCH_EVIDENCE_PUBLIC_KEY``, 64 hex
digits) and refuses a bundle signed by any other key, so re-hashing and re-signing with an attacker's own key
is caught.

The default private key is a development key derived from a fixed phrase (anyone can compute it): set
``EXITWATCH_EVIDENCE_SIGNING_KEY`` (64 hex digits, the 32-byte Ed25519 seed; ``exitwatch evidence keygen``
makes one) in any real deployment.

>>> k = SigningKey.from_hex("11" * 32)
>>> k.public.verify(k.sign(b"x"), b"x")
True
>>> k.public.verify(k.sign(b"x"), b"y")
False
>>> len(k.public.fingerprint)
16
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: The development signing seed (hex): public knowledge, for tests and local runs only.
DEV_SIGNING_SEED = hashlib.sha256(b"exitwatch development evidence signing key").hexdigest()


def _seed(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raise ValueError("EXITWATCH_EVIDENCE_SIGNING_KEY must be 64 hex digits (a 32-byte Ed25519 seed); "
                         "make one with `exitwatch evidence keygen`") from None
    if len(raw) != 32:
        raise ValueError(f"EXITWATCH_EVIDENCE_SIGNING_KEY has {len(raw)} bytes, an Ed25519 seed has 32; "
                         "make one with `exitwatch evidence keygen`")
    return raw


class PublicKey:
    """An Ed25519 public key; ``fingerprint`` is the first 16 hex digits of its SHA-256."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key has 32 bytes, got {len(raw)}")
        self.raw = raw
        self._key = Ed25519PublicKey.from_public_bytes(raw)
        self.hex = raw.hex()
        self.fingerprint = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def from_hex(cls, text: str) -> "PublicKey":
        try:
            return cls(bytes.fromhex(text.strip()))
        except ValueError as exc:
            raise ValueError(f"EXITWATCH_EVIDENCE_PUBLIC_KEY: {exc} (64 hex digits expected)") from None

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self._key.verify(signature, data)
            return True
        except InvalidSignature:
            return False


class SigningKey:
    """An Ed25519 private key with its public half."""

    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = PublicKey(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        self.is_development = seed.hex() == DEV_SIGNING_SEED

    @classmethod
    def from_hex(cls, text: str) -> "SigningKey":
        return cls(_seed(text))

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(os.urandom(32))

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


def signing_key(settings: object | None = None) -> SigningKey:
    """The signing key from settings (``EXITWATCH_EVIDENCE_SIGNING_KEY``), the development key by default."""
    if settings is None:
        from schemas.settings import Settings

        settings = Settings()
    secret = getattr(settings, "evidence_signing_key", None)
    text = secret.get_secret_value() if secret is not None else ""
    return SigningKey.from_hex(text or DEV_SIGNING_SEED)


def pinned_public_key(settings: object | None = None) -> PublicKey:
    """The public key a bundle must be signed with: ``EXITWATCH_EVIDENCE_PUBLIC_KEY`` if set, else the public
    half of the signing key in settings (on a machine that signs)."""
    if settings is None:
        from schemas.settings import Settings

        settings = Settings()
    text = getattr(settings, "evidence_public_key", "") or ""
    if text.strip():
        return PublicKey.from_hex(text)
    return signing_key(settings).public


def require_signing_key(settings: object, who: str) -> None:
    """Refuse the development signing key outside a declared development run (``EXITWATCH_DEV_MODE=1``): with
    it anyone can forge ledger entries and case bundles that verify.

    >>> from schemas.settings import Settings
    >>> require_signing_key(Settings(dev_mode=False), "exitwatch worker")
    Traceback (most recent call last):
    ...
    schemas.secrets.InsecureKeyError: exitwatch worker: EXITWATCH_EVIDENCE_SIGNING_KEY is not set...
    >>> require_signing_key(Settings(dev_mode=True), "exitwatch worker")
    """
    from schemas.secrets import InsecureKeyError

    if getattr(settings, "dev_mode", False):
        return
    key = signing_key(settings)  # a malformed key raises here, saying what is wrong
    if key.is_development:
        raise InsecureKeyError(
            f"{who}: EXITWATCH_EVIDENCE_SIGNING_KEY is not set, so evidence would be signed with the development key "
            "anyone can compute (and forge bundles with). Make one with `exitwatch evidence keygen` and set "
            "EXITWATCH_EVIDENCE_SIGNING_KEY (and EXITWATCH_EVIDENCE_PUBLIC_KEY where bundles are verified); or, for "
            "a development run only, set EXITWATCH_DEV_MODE=1 (or pass --dev)")
