"""Password hashing, access tokens and signed playback URLs."""

from vidplat.adapters.security.access_tokens import JwtTokenCodec
from vidplat.adapters.security.passwords import Argon2Hasher
from vidplat.adapters.security.playback import HmacUrlSigner

__all__ = ["Argon2Hasher", "HmacUrlSigner", "JwtTokenCodec"]
