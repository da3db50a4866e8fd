"""The throwaway state of one bench run: a PostgreSQL database and a Redis key prefix."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis

from bench.config import POSTGRES_URL, REDIS_URL


@dataclass(frozen=True, slots=True)
class Throwaway:
    database: str
    redis_prefix: str

    @classmethod
    def new(cls) -> Throwaway:
        tag = secrets.token_hex(4)
        return cls(database=f"vidplat_bench_{tag}", redis_prefix=f"vidplat-bench-{tag}")

    @property
    def dsn(self) -> str:
        """The run's database for asyncpg (the harness's own checks)."""
        parts = urlsplit(POSTGRES_URL)
        return urlunsplit(parts._replace(path=f"/{self.database}"))

    @property
    def sqlalchemy_url(self) -> str:
        """The same database for vidplat (SQLAlchemy's asyncpg dialect)."""
        return self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)

    async def create(self) -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            # The name is generated above from hex digits, never from input.
            await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()

    async def drop(self) -> None:
        """Drop the database (closing leftover sessions) and every Redis key under the prefix."""
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await conn.close()
        redis = Redis.from_url(REDIS_URL)
        try:
            # SAQ names its keys after the queue, which carries the prefix: match it anywhere.
            keys = [key async for key in redis.scan_iter(match=f"*{self.redis_prefix}*", count=1000)]
            for start in range(0, len(keys), 500):
                await redis.delete(*keys[start : start + 500])
        finally:
            await redis.aclose()


async def insert_many(dsn: str, query: str, rows: list[tuple[Any, ...]]) -> None:
    """One statement for every row, in one transaction."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.executemany(query, rows)
    finally:
        await conn.close()


async def fetch(dsn: str, query: str, *args: Any) -> list[Any]:
    """Rows of one read-only query against the run's database."""
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[Any] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()
