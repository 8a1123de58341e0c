"""What every handler can reach: the store, the signing key and the issuer URL."""

from __future__ import annotations

from dataclasses import dataclass

from .keys import SigningKey
from .state import EmulatorState


@dataclass
class EmulatorContext:
    state: EmulatorState
    signing_key: SigningKey
    # Only known once the server has bound its port, hence mutable.
    issuer: str = ""

    @property
    def base_url(self) -> str:
        return self.issuer

    def url(self, path: str) -> str:
        return f"{self.issuer}{path}"
