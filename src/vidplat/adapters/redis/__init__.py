"""Redis adapters: distributed lock, login attempt limiter, readiness probe."""

from vidplat.adapters.redis.health import redis_ready
from vidplat.adapters.redis.limiter import RedisAttemptLimiter
from vidplat.adapters.redis.lock import RedisLock

__all__ = ["RedisAttemptLimiter", "RedisLock", "redis_ready"]
