"""Password hashing, access-token codec and playback URL signer, with injected times."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import jwt
import pytest

from vidplat.adapters.security import Argon2Hasher, HmacUrlSigner, JwtTokenCodec
from vidplat.domain.accounts.model import AccessClaims, Role
from vidplat.domain.accounts.secrets import hash_token, new_token
from vidplat.domain.errors import InvalidToken
from vidplat.domain.videos.model import PlaybackClaims, PlaybackKind

SECRET = "s" * 32
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def make_claims(*, issued_at: datetime = NOW, ttl: timedelta = timedelta(minutes=15)) -> AccessClaims:
    return AccessClaims(
        user_id=uuid4(),
        organization_id=uuid4(),
        session_id=uuid4(),
        role=Role.ADMIN,
        issued_at=issued_at,
        expires_at=issued_at + ttl,
    )


def forge(payload: dict[str, object], *, key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def valid_payload() -> dict[str, object]:
    return {
        "sub": str(uuid4()),
        "org": str(uuid4()),
        "sid": str(uuid4()),
        "role": "member",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
        "typ": "access",
        "iss": "vidplat",
    }


# --- Argon2Hasher --------------------------------------------------------------------------


@pytest.fixture
def hasher() -> Argon2Hasher:
    return Argon2Hasher(time_cost=1, memory_cost_kib=8, parallelism=1)  # cheap: tests need no strength


async def test_hashed_password_verifies(hasher: Argon2Hasher) -> None:
    stored = await hasher.hash("correct horse")
    assert stored.startswith("$argon2id$")
    assert await hasher.verify(stored, "correct horse")


async def test_wrong_password_does_not_verify(hasher: Argon2Hasher) -> None:
    assert not await hasher.verify(await hasher.hash("correct horse"), "battery staple")


async def test_verifying_against_garbage_hash_returns_false(hasher: Argon2Hasher) -> None:
    assert not await hasher.verify("not-a-hash", "whatever")


async def test_same_password_hashes_differently_each_time(hasher: Argon2Hasher) -> None:
    assert await hasher.hash("pw-pw-pw-pw") != await hasher.hash("pw-pw-pw-pw")


# --- JwtTokenCodec -------------------------------------------------------------------------


def test_access_token_round_trips_its_claims() -> None:
    codec = JwtTokenCodec(SECRET)
    claims = make_claims()
    assert codec.decode_access(codec.encode_access(claims), NOW + timedelta(minutes=1)) == claims


def test_token_is_rejected_once_expired() -> None:
    codec = JwtTokenCodec(SECRET)
    token = codec.encode_access(make_claims(ttl=timedelta(minutes=15)))
    codec.decode_access(token, NOW + timedelta(minutes=14, seconds=59))
    with pytest.raises(InvalidToken):
        codec.decode_access(token, NOW + timedelta(minutes=15))


def test_token_issued_in_the_future_is_rejected() -> None:
    codec = JwtTokenCodec(SECRET)
    token = codec.encode_access(make_claims(issued_at=NOW + timedelta(minutes=5)))
    with pytest.raises(InvalidToken):
        codec.decode_access(token, NOW)


def test_small_clock_skew_on_issue_time_is_tolerated() -> None:
    codec = JwtTokenCodec(SECRET)
    claims = make_claims(issued_at=NOW + timedelta(seconds=5))
    assert codec.decode_access(codec.encode_access(claims), NOW) == claims


def test_decoding_ignores_the_wall_clock() -> None:
    codec = JwtTokenCodec(SECRET)
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    claims = make_claims(issued_at=long_ago)
    assert codec.decode_access(codec.encode_access(claims), long_ago + timedelta(minutes=1)) == claims


def test_token_signed_with_another_key_is_rejected() -> None:
    token = JwtTokenCodec("k" * 32).encode_access(make_claims())
    with pytest.raises(InvalidToken):
        JwtTokenCodec(SECRET).decode_access(token, NOW)


def test_tampered_payload_is_rejected() -> None:
    token = JwtTokenCodec(SECRET).encode_access(make_claims())
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin" if claims["role"] == "member" else "member"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        JwtTokenCodec(SECRET).decode_access(f"{header}.{forged}.{signature}", NOW)


def test_unsigned_alg_none_token_is_rejected() -> None:
    with pytest.raises(InvalidToken):
        JwtTokenCodec(SECRET).decode_access(forge(valid_payload(), key="", algorithm="none"), NOW)


def test_token_with_another_hmac_algorithm_is_rejected() -> None:
    token = jwt.encode(valid_payload(), SECRET + SECRET, algorithm="HS512")
    with pytest.raises(InvalidToken):
        JwtTokenCodec(SECRET + SECRET).decode_access(token, NOW)


def test_well_formed_token_from_the_same_key_is_accepted() -> None:
    # The control for the tests below: each is rejected for the one claim it changes.
    JwtTokenCodec(SECRET).decode_access(forge(valid_payload()), NOW)


@pytest.mark.parametrize(
    ("claim", "value"),
    [("typ", "refresh"), ("iss", "someone-else"), ("sub", "not-a-uuid"), ("org", 42), ("role", "owner"), ("exp", True)],
)
def test_token_with_a_wrong_claim_is_rejected(claim: str, value: object) -> None:
    with pytest.raises(InvalidToken):
        JwtTokenCodec(SECRET).decode_access(forge(valid_payload() | {claim: value}), NOW)


@pytest.mark.parametrize("claim", ["sub", "org", "sid", "role", "iat", "exp", "typ", "iss"])
def test_token_missing_a_claim_is_rejected(claim: str) -> None:
    payload = valid_payload()
    del payload[claim]
    with pytest.raises(InvalidToken):
        JwtTokenCodec(SECRET).decode_access(forge(payload), NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "é.é.é"])
def test_malformed_token_is_rejected(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        JwtTokenCodec(SECRET).decode_access(garbage, NOW)


# --- HmacUrlSigner -------------------------------------------------------------------------

KEY = b"k" * 32


def grant(expires_at: datetime = NOW + timedelta(minutes=5), kind: PlaybackKind = PlaybackKind.START) -> PlaybackClaims:
    return PlaybackClaims(user_id=uuid4(), session_id=uuid4(), kind=kind, expires_at=expires_at)


@pytest.mark.parametrize("kind", list(PlaybackKind))
def test_playback_token_returns_the_user_session_kind_and_expiry_it_was_issued_with(kind: PlaybackKind) -> None:
    signer, claims, video = HmacUrlSigner(KEY), grant(kind=kind), uuid4()
    token = signer.sign(claims, video)
    assert signer.verify(token, video, NOW) == claims


def test_a_start_token_cannot_be_turned_into_a_view_token() -> None:
    """The kind is signed: flipping its byte breaks the signature."""
    signer, video = HmacUrlSigner(KEY), uuid4()
    body, signature = signer.sign(grant(), video).split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=="))
    raw[1] = 1
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        signer.verify(f"{forged}.{signature}", video, NOW)


def test_a_correctly_signed_version_2_token_without_a_kind_is_rejected() -> None:
    """Version 2 had no kind: read as a view token it would outlive the start window."""
    video, expiry = uuid4(), int((NOW + timedelta(minutes=5)).timestamp())
    payload = struct.pack(">B16s16s16sq", 2, uuid4().bytes, uuid4().bytes, video.bytes, expiry)
    signature = hmac.digest(KEY, payload, hashlib.sha256)
    token = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (payload, signature))
    with pytest.raises(InvalidToken):
        HmacUrlSigner(KEY).verify(token, video, NOW)


def test_playback_token_is_url_safe() -> None:
    token = HmacUrlSigner(KEY).sign(grant(NOW), uuid4())
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_playback_token_for_another_video_is_rejected() -> None:
    signer = HmacUrlSigner(KEY)
    token = signer.sign(grant(), uuid4())
    with pytest.raises(InvalidToken):
        signer.verify(token, uuid4(), NOW)


def test_playback_token_is_rejected_from_its_expiry_on() -> None:
    signer, video = HmacUrlSigner(KEY), uuid4()
    token = signer.sign(grant(NOW), video)
    with pytest.raises(InvalidToken):
        signer.verify(token, video, NOW)


def test_playback_token_signed_with_another_key_is_rejected() -> None:
    video = uuid4()
    token = HmacUrlSigner(b"x" * 32).sign(grant(), video)
    with pytest.raises(InvalidToken):
        HmacUrlSigner(KEY).verify(token, video, NOW)


@pytest.mark.parametrize("field", [slice(2, 18), slice(18, 34)], ids=["user", "session"])
def test_playback_token_with_a_swapped_user_or_session_is_rejected(field: slice) -> None:
    signer, video = HmacUrlSigner(KEY), uuid4()
    body, signature = signer.sign(grant(), video).split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=="))
    raw[field] = uuid4().bytes
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        signer.verify(f"{forged}.{signature}", video, NOW)


def test_a_correctly_signed_version_1_token_without_a_session_is_rejected() -> None:
    """The old layout (user, video, expiry) carried no session, so it would outlive a logout."""
    video = uuid4()
    payload = struct.pack(">B16s16sq", 1, uuid4().bytes, video.bytes, int((NOW + timedelta(minutes=5)).timestamp()))
    signature = hmac.digest(KEY, payload, hashlib.sha256)
    token = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (payload, signature))
    with pytest.raises(InvalidToken):
        HmacUrlSigner(KEY).verify(token, video, NOW)


def test_every_single_character_change_is_rejected() -> None:
    signer, video = HmacUrlSigner(KEY), uuid4()
    token = signer.sign(grant(), video)
    for index, char in enumerate(token):
        tampered = token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]
        with pytest.raises(InvalidToken):
            signer.verify(tampered, video, NOW)


def test_correctly_signed_payload_of_the_wrong_shape_is_rejected() -> None:
    video = uuid4()
    payload = b"\x01" + video.bytes
    signature = hmac.digest(KEY, payload, hashlib.sha256)
    token = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (payload, signature))
    with pytest.raises(InvalidToken):
        HmacUrlSigner(KEY).verify(token, video, NOW)


@pytest.mark.parametrize("garbage", ["", ".", "abc", "abc.def", "a.b.c", "é.é", "====.===="])
def test_malformed_playback_token_is_rejected(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        HmacUrlSigner(KEY).verify(garbage, UUID(int=1), NOW)


# --- refresh token helpers -----------------------------------------------------------------


def test_new_tokens_are_long_and_unique() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(token) >= 43 for token in tokens)


def test_token_hash_is_the_sha256_hex_digest() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
