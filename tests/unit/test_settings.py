"""Settings: embedded defaults, generated secrets, and failing fast on a bad production config."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from vidplat.settings import Settings, SettingsError

SECRET = "s" * 40


def test_nothing_configured_selects_the_embedded_wiring_with_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)})
    assert settings.embedded
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'vidplat.db'}"
    assert settings.media_dir == tmp_path / "media"
    assert settings.view_points == 10
    assert settings.max_upload_bytes == 2 * 1024**3


def test_embedded_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)})
    again = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)})
    assert len(first.auth.jwt_secret) >= 32
    assert first.auth.jwt_secret == again.auth.jwt_secret
    assert first.auth.playback_secret != first.auth.jwt_secret
    assert (tmp_path / "jwt_secret.key").stat().st_mode & 0o777 == 0o600


def test_embedded_secret_files_are_private_from_creation_even_with_an_open_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[tuple[int, int]] = []
    real_open = os.open

    def recording_open(path: str, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created.append((flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    previous = os.umask(0)
    try:
        settings = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)})
    finally:
        os.umask(previous)

    assert len(created) == 3  # the JWT, playback and webhooks secrets
    assert all(flags & os.O_EXCL and mode == 0o600 for flags, mode in created)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jwt_secret.key", "playback_secret.key", "webhooks_key.key"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in tmp_path.iterdir())
    assert (tmp_path / "jwt_secret.key").read_text() == settings.auth.jwt_secret


def test_a_secret_file_that_already_exists_is_kept(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret.key").write_text(SECRET + "\n")
    assert Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)}).auth.jwt_secret == SECRET


def test_production_without_a_jwt_secret_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    env = {"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_REDIS_URL": "redis://localhost:6379/0"}
    with pytest.raises(SettingsError, match="VIDPLAT_JWT_SECRET is required"):
        Settings.from_env(env)


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    env = {
        "VIDPLAT_DATA_DIR": str(tmp_path),
        "VIDPLAT_DATABASE_URL": "postgresql+asyncpg://db/vidplat",
        "VIDPLAT_JWT_SECRET": "too-short",
        "VIDPLAT_PLAYBACK_SECRET": SECRET,
    }
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        Settings.from_env(env)


@pytest.mark.parametrize("value", ["ten", "-5", "0"])
def test_numbers_must_be_positive_whole_numbers(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="VIDPLAT_VIEW_POINTS"):
        Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_VIEW_POINTS": value})


def test_production_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "VIDPLAT_DATA_DIR": str(tmp_path),
            "VIDPLAT_DATABASE_URL": "postgresql+asyncpg://db/vidplat",
            "VIDPLAT_REDIS_URL": "redis://cache:6379/0",
            "VIDPLAT_JWT_SECRET": SECRET,
            "VIDPLAT_PLAYBACK_SECRET": "p" * 40,
            "VIDPLAT_VIEW_POINTS": "25",
            "VIDPLAT_MAX_UPLOAD_BYTES": "1_000_000",
            "VIDPLAT_CORS_ORIGINS": "https://a.example, https://b.example",
        }
    )
    assert not settings.embedded
    assert settings.view_points == 25
    assert settings.max_upload_bytes == 1_000_000
    assert settings.cors_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize("prefix", ["_media/", "/_media", "media"])
def test_the_accel_redirect_prefix_must_be_a_location_path(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(SettingsError, match="VIDPLAT_ACCEL_REDIRECT_PREFIX"):
        Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_ACCEL_REDIRECT_PREFIX": prefix})


def test_no_accel_redirect_prefix_means_vidplat_sends_the_bytes_itself(tmp_path: Path) -> None:
    assert Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)}).accel_redirect_prefix is None
    configured = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_ACCEL_REDIRECT_PREFIX": "/_media/"})
    assert configured.accel_redirect_prefix == "/_media/"


def test_storage_defaults_to_local_files_in_the_media_dir_with_proxy_delivery(tmp_path: Path) -> None:
    storage = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)}).storage
    assert storage.url == (tmp_path / "media").as_uri()
    assert not storage.is_s3
    assert (storage.stream_delivery, storage.staging_ttl_seconds) == ("proxy", 3600)


def test_s3_storage_is_read_with_the_usual_aws_variables(tmp_path: Path) -> None:
    env = {
        "VIDPLAT_DATA_DIR": str(tmp_path),
        "VIDPLAT_STORAGE_URL": "s3://media-bucket/vidplat",
        "VIDPLAT_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "VIDPLAT_STAGING_TTL_SECONDS": "120",
        "VIDPLAT_STREAM_DELIVERY": "redirect",
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "eu-west-1",
    }
    storage = Settings.from_env(env).storage
    assert storage.is_s3
    assert (storage.url, storage.s3_endpoint_url) == ("s3://media-bucket/vidplat", "http://127.0.0.1:9000")
    assert (storage.aws_access_key_id, storage.aws_secret_access_key, storage.aws_region) == (
        "key",
        "secret",
        "eu-west-1",
    )
    assert (storage.staging_ttl_seconds, storage.stream_delivery) == (120, "redirect")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STORAGE_URL", "s3://"),
        ("STORAGE_URL", "file://relative/path"),
        ("STORAGE_URL", "gs://bucket"),
        ("STREAM_DELIVERY", "sendfile"),
    ],
)
def test_a_bad_storage_setting_is_refused_by_name(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"VIDPLAT_{name}"):
        Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), f"VIDPLAT_{name}": value})


def test_the_aws_sdk_endpoint_variable_is_a_fallback_for_the_s3_endpoint(tmp_path: Path) -> None:
    env = {"VIDPLAT_DATA_DIR": str(tmp_path), "AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}
    assert Settings.from_env(env).storage.s3_endpoint_url == "http://127.0.0.1:9000"
    env["VIDPLAT_S3_ENDPOINT_URL"] = "http://127.0.0.1:8333"
    assert Settings.from_env(env).storage.s3_endpoint_url == "http://127.0.0.1:8333"


def test_log_format_is_console_by_default_json_on_request_and_nothing_else(tmp_path: Path) -> None:
    assert Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)}).log_format == "console"
    assert Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError, match="VIDPLAT_LOG_FORMAT must be one of console, json"):
        Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_LOG_FORMAT": "xml"})


def test_the_worker_metrics_port_is_off_unless_set_and_must_be_a_port(tmp_path: Path) -> None:
    assert Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)}).worker_metrics_port is None
    env = {"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_WORKER_METRICS_PORT": "9101"}
    assert Settings.from_env(env).worker_metrics_port == 9101
    with pytest.raises(SettingsError, match="VIDPLAT_WORKER_METRICS_PORT must be a TCP port"):
        Settings.from_env({**env, "VIDPLAT_WORKER_METRICS_PORT": "70000"})


def test_signup_is_open_unless_closed_and_nothing_else_is_accepted(tmp_path: Path) -> None:
    assert Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)}).signup_open
    assert not Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_SIGNUP": "closed"}).signup_open
    with pytest.raises(SettingsError, match="VIDPLAT_SIGNUP must be one of open, closed"):
        Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_SIGNUP": "off"})


def test_media_caps_default_to_8k_six_hours_and_2_gib_and_are_read_from_the_environment(tmp_path: Path) -> None:
    defaults = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)})
    assert (defaults.media_max_pixels, defaults.media_max_duration_seconds, defaults.media_max_memory_mib) == (
        8192 * 4320,
        6 * 3600,
        2048,
    )
    env = {
        "VIDPLAT_DATA_DIR": str(tmp_path),
        "VIDPLAT_MEDIA_MAX_PIXELS": "2_073_600",
        "VIDPLAT_MEDIA_MAX_DURATION_SECONDS": "600",
        "VIDPLAT_MEDIA_MAX_MEMORY_MIB": "512",
    }
    configured = Settings.from_env(env)
    assert (configured.media_max_pixels, configured.media_max_duration_seconds) == (1920 * 1080, 600)
    assert configured.media_max_memory_mib == 512


def test_the_database_pool_is_sized_from_the_environment(tmp_path: Path) -> None:
    defaults = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)})
    assert (defaults.db_pool_size, defaults.db_max_overflow, defaults.db_pool_timeout_seconds) == (10, 10, 10)
    assert not defaults.db_pgbouncer
    settings = Settings.from_env(
        {
            "VIDPLAT_DATA_DIR": str(tmp_path),
            "VIDPLAT_DB_POOL_SIZE": "4",
            "VIDPLAT_DB_MAX_OVERFLOW": "0",
            "VIDPLAT_DB_POOL_TIMEOUT_SECONDS": "3",
            "VIDPLAT_DB_PGBOUNCER": "1",
        }
    )
    assert (settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_seconds) == (4, 0, 3)
    assert settings.db_pgbouncer


@pytest.mark.parametrize(("name", "value"), [("DB_MAX_OVERFLOW", "-1"), ("DB_PGBOUNCER", "maybe")])
def test_a_pool_setting_out_of_range_is_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"VIDPLAT_{name}"):
        Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path), f"VIDPLAT_{name}": value})


def test_trash_retention_is_thirty_days_unless_configured(tmp_path: Path) -> None:
    assert Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)}).trash_retention_days == 30
    env = {"VIDPLAT_DATA_DIR": str(tmp_path), "VIDPLAT_TRASH_RETENTION_DAYS": "7"}
    assert Settings.from_env(env).trash_retention_days == 7
