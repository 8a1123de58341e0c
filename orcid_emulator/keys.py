"""RSA key used to sign ID tokens, exposed as a JWK set."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"


class SigningKey:
    def __init__(self, private_key: rsa.RSAPrivateKey, kid: str | None = None) -> None:
        self._private_key = private_key
        self._public_jwk: dict[str, str] = {
            key: str(value)
            for key, value in RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True).items()
        }
        # An RFC 7638 thumbprint keeps the kid stable for a key loaded from disk,
        # so relying parties that cache JWKS keep working across restarts.
        self.kid = kid or _thumbprint(self._public_jwk)

    @classmethod
    def generate(cls, key_size: int = 2048) -> SigningKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=key_size))

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> SigningKey:
        key = serialization.load_pem_private_key(data, password=password)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("signing key must be an RSA private key")
        return cls(key)

    def to_pem(self) -> bytes:
        return self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        return {**self._public_jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.public_jwk()]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self._private_key, algorithm=ALGORITHM, headers={"kid": self.kid})


def _thumbprint(jwk: Mapping[str, str]) -> str:
    canonical = json.dumps({name: jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def at_hash(access_token: str) -> str:
    """OIDC ``at_hash``: left half of SHA-256 of the access token, base64url without padding."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
