"""The keys exitwatch holds, checked before use, and the AES-256-GCM sealing of identifying data at rest.

Two keys come from the settings: ``EXITWATCH_PSEUDONYM_KEY`` (HMAC of the pseudonyms in ``alerts.secops``)
and ``EXITWATCH_DATA_KEY`` (AES-256-GCM of the worker's per-employee state in its table and changelog). Both
have a development default in :mod:`schemas.settings`, public in this repository: with the development
pseudonym key anyone reverses every pseudonym by hashing HR ids, with the development data key anyone reads
the state. :func:`require_keys` refuses them (and keys shorter than :data:`MIN_KEY_CHARS`) unless the run is
declared a development run (``EXITWATCH_DEV_MODE=1`` or ``--dev``).

>>> from schemas.settings import Settings
>>> require_keys(Settings(dev_mode=False), "exitwatch worker")
Traceback (most recent call last):
...
schemas.secrets.InsecureKeyError: exitwatch worker: EXITWATCH_PSEUDONYM_KEY is the development key ...
>>> require_keys(Settings(dev_mode=True), "exitwatch worker")  # a declared development run: accepted
>>> c = Sealer(b"k" * 32)
>>> box = c.seal(b'{"hr": null}', b"E00042")
>>> box[:4], c.open(box, b"E00042")
(b'\\x00ew1', b'{"hr": null}')
>>> c.open(b'{"hr": null}', b"E00042")  # a value written before sealing was on reads as it was
b'{"hr": null}'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sys
from typing import Any

from schemas.settings import Settings

#: Shortest key accepted outside development mode (``secrets.token_urlsafe(32)`` gives 43 characters).
MIN_KEY_CHARS = 16
DEV_PSEUDONYM_KEY = Settings.model_fields["pseudonym_key"].default.get_secret_value()
DEV_DATA_KEY = Settings.model_fields["data_key"].default.get_secret_value()
#: How to make a key, quoted in the errors.
MAKE_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class InsecureKeyError(ValueError):
    """A development or too-short key outside a declared development run; the message says what to set."""


def key_problems(s: Settings) -> list[str]:
    """What is wrong with the keys for a production run (empty: nothing)."""
    out = []
    for env, value, dev in (("EXITWATCH_PSEUDONYM_KEY", s.pseudonym_key.get_secret_value(), DEV_PSEUDONYM_KEY),
                            ("EXITWATCH_DATA_KEY", s.data_key.get_secret_value(), DEV_DATA_KEY)):
        if value == dev:
            out.append(f"{env} is the development key from schemas/settings.py")
        elif len(value) < MIN_KEY_CHARS:
            out.append(f"{env} is shorter than {MIN_KEY_CHARS} characters")
    return out


def require_keys(s: Settings, who: str) -> None:
    """Raise :class:`InsecureKeyError` when a key is unfit and the run is not a declared development run."""
    problems = key_problems(s)
    if not problems or s.dev_mode:
        return
    raise InsecureKeyError(
        f"{who}: {'; '.join(problems)} (public: with it anyone reverses the pseudonyms or reads the state). "
        f"Set each to a secret of your own, e.g. export EXITWATCH_PSEUDONYM_KEY=\"$({MAKE_KEY})\" "
        f"EXITWATCH_DATA_KEY=\"$({MAKE_KEY})\"; or, for a development run only, set EXITWATCH_DEV_MODE=1 "
        "(or pass --dev)")


def warn_dev_keys(s: Settings, who: str) -> None:
    """One line on stderr when a key is unfit (for offline tools that accept it, such as ``exitwatch replay``)."""
    problems = key_problems(s)
    if problems and not s.dev_mode:
        print(f"{who}: warning: {'; '.join(problems)}; pseudonyms it writes can be reversed by anyone. Set "
              "EXITWATCH_PSEUDONYM_KEY and EXITWATCH_DATA_KEY (or EXITWATCH_DEV_MODE=1 to silence this in "
              "development)", file=sys.stderr)


def declare_dev_mode(env: dict[str, str] | None = None) -> None:
    """Mark this process (and the processes it starts) as a development run, unless the caller said otherwise.

    For the demo, the benchmark and fault harnesses: they run on generated companies with the development keys.
    """
    (os.environ if env is None else env).setdefault("EXITWATCH_DEV_MODE", "1")


# ---------------------------------------------------------------------------------------------- sealing
#: Marks a sealed value; a serialised state starts with ``{`` so an unsealed one is told apart.
MAGIC = b"\x00ew1"


def data_key_bytes(s: Settings, previous: bool = False) -> bytes:
    """The 32-byte AES key derived from ``EXITWATCH_DATA_KEY`` (HKDF-SHA256, so any long secret string fits);
    ``previous``: from ``EXITWATCH_DATA_KEY_PREVIOUS``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    secret = s.data_key_previous if previous else s.data_key
    assert secret is not None
    value = secret if isinstance(secret, str) else secret.get_secret_value()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"exitwatch-data-key-v1",
                info=b"state").derive(value.encode())


class Sealer:
    """AES-256-GCM of a value bound to its key (the employee id is the associated data: a sealed state moved
    to another employee does not open). Layout: ``MAGIC | 12-byte nonce | ciphertext+tag``.

    The nonce is synthetic: an HMAC-SHA256 of the associated data and the value under a second key (the SIV
    construction). So two different values never share a nonce unless the 96-bit HMACs collide, and the same
    value for the same employee seals to the same bytes, which keeps a rewrite of an unchanged state an
    unchanged changelog record (what the worker's repeat detection and its tests compare). What that lets a
    reader of the changelog learn is only that a state did not change.
    """

    def __init__(self, key: bytes, previous: Sealer | None = None) -> None:
        """``previous``: the sealer of the key before a rotation, tried when a value does not open with ``key``."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise ValueError("AES-256 needs a 32-byte key")
        self.previous = previous
        self._aead = AESGCM(key)
        self._nonce_key = hmac.new(key, b"exitwatch-synthetic-nonce-v1", hashlib.sha256).digest()
        self.key_id = hashlib.sha256(key).hexdigest()[:8]

    def seal(self, value: bytes, aad: bytes) -> bytes:
        nonce = hmac.new(self._nonce_key, len(aad).to_bytes(4, "big") + aad + value, hashlib.sha256).digest()[:12]
        return MAGIC + nonce + self._aead.encrypt(nonce, value, aad)

    def open(self, value: bytes, aad: bytes) -> bytes:
        """The plain value; an unsealed value (written before sealing was on) is returned as it is."""
        if not value.startswith(MAGIC):
            return value
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(value[4:16], value[16:], aad)
        except InvalidTag:
            if self.previous is not None:
                try:
                    return self.previous.open(value, aad)
                except ValueError:
                    pass
            raise ValueError(f"a sealed value for {aad.decode(errors='replace')!r} does not open with the data key "
                             f"in force (key id {self.key_id}): EXITWATCH_DATA_KEY changed, or the value was "
                             "tampered with; after a rotation, set EXITWATCH_DATA_KEY_PREVIOUS to the old key") from None

    def seal_text(self, text: str, aad: bytes) -> str:
        """A string field sealed as ``enc:`` + base64url (for values that must stay text)."""
        return "enc:" + base64.urlsafe_b64encode(self.seal(text.encode(), aad)).decode()

    def open_text(self, text: str, aad: bytes) -> str:
        if not text.startswith("enc:"):
            return text
        return self.open(base64.urlsafe_b64decode(text[4:]), aad).decode()


def sealer(s: Settings | None = None) -> Sealer:
    """The sealer for the settings' data key (and the previous one, to read values sealed before a rotation)."""
    s = s or Settings()
    prev = Sealer(data_key_bytes(s, previous=True)) if s.data_key_previous else None
    return Sealer(data_key_bytes(s), previous=prev)


def cli_guard(s: Settings, who: str) -> Any:
    """For command-line entry points: :func:`require_keys`, printing the error and returning exit status 2."""
    try:
        require_keys(s, who)
    except InsecureKeyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return None
