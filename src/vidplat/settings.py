"""Typed settings read once from VIDPLAT_* environment variables (and a local .env file)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MIN_SECRET_BYTES = 32
MAX_PORT = 65535


class SettingsError(Exception):
    """A setting is missing or invalid; the message tells the operator what to fix."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSettings:
    jwt_secret: str
    playback_secret: str
    access_ttl_seconds: int = 900
    refresh_ttl_days: int = 30
    playback_ttl_seconds: int = 300
    login_max_failures: int = 10
    login_window_seconds: int = 900
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 2
    login_address_max_attempts: int = 100
    login_address_window_seconds: int = 60
    signup_address_max_attempts: int = 10
    signup_address_window_seconds: int = 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageSettings:
    """Where media lives (API.md, "Object storage")."""

    url: str  # file:///abs/path or s3://bucket/optional/prefix
    s3_endpoint_url: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_region: str | None = None
    staging_ttl_seconds: int = 3600
    stream_delivery: str = "proxy"  # or "redirect": 307 to a presigned URL

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    data_dir: Path
    media_dir: Path
    database_url: str
    redis_url: str | None
    auth: AuthSettings
    storage: StorageSettings
    redis_prefix: str = "vidplat"
    db_pool_size: int = 10
    cache_ttl_seconds: int = 10
    view_points: int = 10
    max_upload_bytes: int = 2 * 1024**3
    upload_expiry_hours: int = 24
    ops_user: str | None = None
    ops_password: str | None = None
    cors_origins: tuple[str, ...] = ()
    # Behind nginx: /stream answers with X-Accel-Redirect to this internal location + the storage key.
    accel_redirect_prefix: str | None = None
    log_level: str = "INFO"
    log_format: str = "console"  # or "json": one object per line
    worker_metrics_port: int | None = None  # the SAQ worker's own metrics endpoint; unset: none
    # VIDPLAT_SIGNUP=closed: only `vidplat create-organization` creates organizations.
    signup_open: bool = True
    # Caps on one upload's media work (a decompression bomb fails its job, not the worker).
    media_max_pixels: int = 8192 * 4320
    media_max_duration_seconds: int = 6 * 3600
    media_max_memory_mib: int = 2048
    # Each process holds up to db_pool_size + db_max_overflow connections: size them so that every
    # process together stays under the server's max_connections (or put PgBouncer in between).
    db_max_overflow: int = 10
    db_pool_timeout_seconds: int = 10
    db_pgbouncer: bool = False  # the URL is PgBouncer in transaction mode: no pool, no prepared-statement reuse
    # Peers (a reverse proxy) whose X-Forwarded-For `vidplat serve` believes: the client address
    # that login and signup throttling count. Unset: the TCP peer is the client.
    forwarded_allow_ips: str | None = None
    # Webhook signing secrets are derived from this key (domain/webhooks/secrets.py); None: webhooks off.
    webhooks_key: str | None = None
    webhooks_allow_private: bool = False  # lets webhooks call private, loopback and link-local addresses
    trash_retention_days: int = 30

    @property
    def embedded(self) -> bool:
        """No Redis: locks, throttling, jobs and cron all run inside the API process."""
        return self.redis_url is None

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        reader = _Reader(env)
        data_dir = Path(reader.text("DATA_DIR", ".vidplat")).resolve()
        redis_url = reader.optional("REDIS_URL")
        database_url = reader.text("DATABASE_URL", f"sqlite+aiosqlite:///{data_dir / 'vidplat.db'}")
        production = redis_url is not None or not database_url.startswith("sqlite")
        media_dir = Path(reader.text("MEDIA_DIR", str(data_dir / "media"))).resolve()
        return cls(
            data_dir=data_dir,
            media_dir=media_dir,
            database_url=database_url,
            redis_url=redis_url,
            redis_prefix=reader.text("REDIS_PREFIX", "vidplat"),
            db_pool_size=reader.number("DB_POOL_SIZE", 10),
            cache_ttl_seconds=reader.number("CACHE_TTL_SECONDS", 10),
            view_points=reader.number("VIEW_POINTS", 10),
            max_upload_bytes=reader.number("MAX_UPLOAD_BYTES", 2 * 1024**3),
            upload_expiry_hours=reader.number("UPLOAD_EXPIRY_HOURS", 24),
            ops_user=reader.optional("OPS_USER"),
            ops_password=reader.optional("OPS_PASSWORD"),
            cors_origins=tuple(o.strip() for o in reader.text("CORS_ORIGINS", "").split(",") if o.strip()),
            accel_redirect_prefix=_location(reader.optional("ACCEL_REDIRECT_PREFIX")),
            log_level=reader.text("LOG_LEVEL", "INFO").upper(),
            log_format=_choice(reader, "LOG_FORMAT", ("console", "json")),
            worker_metrics_port=_port(reader, "WORKER_METRICS_PORT"),
            signup_open=_choice(reader, "SIGNUP", ("open", "closed")) == "open",
            media_max_pixels=reader.number("MEDIA_MAX_PIXELS", 8192 * 4320),
            media_max_duration_seconds=reader.number("MEDIA_MAX_DURATION_SECONDS", 6 * 3600),
            media_max_memory_mib=reader.number("MEDIA_MAX_MEMORY_MIB", 2048),
            db_max_overflow=reader.number("DB_MAX_OVERFLOW", 10, minimum=0),
            db_pool_timeout_seconds=reader.number("DB_POOL_TIMEOUT_SECONDS", 10),
            db_pgbouncer=reader.flag("DB_PGBOUNCER"),
            forwarded_allow_ips=reader.optional("FORWARDED_ALLOW_IPS"),
            trash_retention_days=reader.number("TRASH_RETENTION_DAYS", 30),
            storage=_storage(reader, env, media_dir),
            webhooks_key=_optional_secret(reader, "WEBHOOKS_KEY", data_dir, generate=not production),
            webhooks_allow_private=reader.flag("WEBHOOKS_ALLOW_PRIVATE"),
            auth=AuthSettings(
                jwt_secret=_secret(reader, "JWT_SECRET", data_dir, generate=not production),
                playback_secret=_secret(reader, "PLAYBACK_SECRET", data_dir, generate=not production),
                access_ttl_seconds=reader.number("ACCESS_TOKEN_TTL_SECONDS", 900),
                refresh_ttl_days=reader.number("REFRESH_TOKEN_TTL_DAYS", 30),
                playback_ttl_seconds=reader.number("PLAYBACK_URL_TTL_SECONDS", 300),
                login_max_failures=reader.number("LOGIN_MAX_FAILURES", 10),
                login_window_seconds=reader.number("LOGIN_WINDOW_SECONDS", 900),
                argon2_time_cost=reader.number("ARGON2_TIME_COST", 3),
                argon2_memory_kib=reader.number("ARGON2_MEMORY_KIB", 65536),
                argon2_parallelism=reader.number("ARGON2_PARALLELISM", 2),
                login_address_max_attempts=reader.number("LOGIN_ADDRESS_MAX_ATTEMPTS", 100),
                login_address_window_seconds=reader.number("LOGIN_ADDRESS_WINDOW_SECONDS", 60),
                signup_address_max_attempts=reader.number("SIGNUP_ADDRESS_MAX_ATTEMPTS", 10),
                signup_address_window_seconds=reader.number("SIGNUP_ADDRESS_WINDOW_SECONDS", 3600),
            ),
        )


def _storage(reader: _Reader, env: Mapping[str, str], media_dir: Path) -> StorageSettings:
    url = reader.text("STORAGE_URL", media_dir.as_uri())
    delivery = reader.text("STREAM_DELIVERY", "proxy").lower()
    if delivery not in {"proxy", "redirect"}:
        raise SettingsError(f"VIDPLAT_STREAM_DELIVERY must be 'proxy' or 'redirect', got {delivery!r}")
    if url.startswith("file://"):
        if not url.startswith("file:///"):
            raise SettingsError(f"VIDPLAT_STORAGE_URL must be file:///absolute/path, got {url!r}")
    elif not (url.startswith("s3://") and url[len("s3://") :].split("/", 1)[0]):
        raise SettingsError(f"VIDPLAT_STORAGE_URL must be file:///abs/path or s3://bucket/prefix, got {url!r}")

    def aws(name: str) -> str | None:
        return env.get(name, "").strip() or None

    return StorageSettings(
        url=url,
        # The AWS SDKs' own variables as a fallback, so a store set up for them works as it is.
        s3_endpoint_url=reader.optional("S3_ENDPOINT_URL") or aws("AWS_ENDPOINT_URL_S3") or aws("AWS_ENDPOINT_URL"),
        aws_access_key_id=aws("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=aws("AWS_SECRET_ACCESS_KEY"),
        aws_region=aws("AWS_REGION") or aws("AWS_DEFAULT_REGION"),
        staging_ttl_seconds=reader.number("STAGING_TTL_SECONDS", 3600),
        stream_delivery=delivery,
    )


def _choice(reader: _Reader, name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (the first is the default), case-insensitively."""
    value = reader.text(name, allowed[0]).lower()
    if value not in allowed:
        raise SettingsError(f"VIDPLAT_{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _port(reader: _Reader, name: str) -> int | None:
    port = reader.number(name, 0) or None
    if port is not None and port > MAX_PORT:
        raise SettingsError(f"VIDPLAT_{name} must be a TCP port (1 to {MAX_PORT}), got {port}")
    return port


def _location(prefix: str | None) -> str | None:
    if prefix is not None and not (prefix.startswith("/") and prefix.endswith("/")):
        raise SettingsError(f"VIDPLAT_ACCEL_REDIRECT_PREFIX must start and end with '/', got {prefix!r}")
    return prefix


@dataclass(frozen=True, slots=True)
class _Reader:
    env: Mapping[str, str]

    def optional(self, name: str) -> str | None:
        value = self.env.get(f"VIDPLAT_{name}", "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def number(self, name: str, default: int, *, minimum: int = 1) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            raise SettingsError(f"VIDPLAT_{name} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(
                f"VIDPLAT_{name} must be {'positive' if minimum == 1 else f'at least {minimum}'}, got {value}"
            )
        return value

    def flag(self, name: str) -> bool:
        raw = (self.optional(name) or "0").lower()
        if raw not in _FLAGS:
            raise SettingsError(f"VIDPLAT_{name} must be 1 or 0, got {raw!r}")
        return _FLAGS[raw]


_FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _secret(reader: _Reader, name: str, data_dir: Path, *, generate: bool) -> str:
    """The configured secret; in embedded mode one is generated once and kept in the data dir."""
    value = reader.optional(name)
    if value is None and generate:
        value = _generated_secret(data_dir / f"{name.lower()}.key")
    if value is None:
        raise SettingsError(f"VIDPLAT_{name} is required outside the embedded mode (at least {MIN_SECRET_BYTES} bytes)")
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise SettingsError(f"VIDPLAT_{name} must be at least {MIN_SECRET_BYTES} bytes long")
    return value


def _optional_secret(reader: _Reader, name: str, data_dir: Path, *, generate: bool) -> str | None:
    """Like _secret, but outside the embedded mode an unset one turns its feature off instead of failing."""
    if reader.optional(name) is None and not generate:
        return None
    return _secret(reader, name, data_dir, generate=generate)


def _generated_secret(path: Path) -> str:
    """The secret kept at path, made on first use: private (0600) from its first byte, never seen half-written.

    It is written to a temporary file created with that mode (O_EXCL: never one that already
    exists) and linked into place; if another process linked its own first, that one is kept.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text().strip()
