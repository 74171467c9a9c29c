"""Django's Redis cache, keeping its redis.Redis client objects and riding out a Redis outage.

Django builds a new redis.Redis object (on its kept connection pool) for every cache call, and
building one costs about as much as the round trip itself (0.2 ms here: redis-py fills its table
of response callbacks each time). The cache backend instance belongs to one thread, and a client
on a pool is safe to share anyway, so one client per pool is kept.

Outage. The cache only ever holds copies (sessions are cached_db, board and index versions are
rebuilt on a miss), so a Redis that cannot be reached must not fail a request: a read is a miss,
a write does nothing (`add` and `touch` say False, `incr` raises ValueError as for a missing
key), and one warning is logged. For `OUTAGE_RETRY_SECONDS` after a failure no call tries the
server again, so an unreachable host costs a request at most one connect timeout (settings keep
it short), not one per cache call. Keys written or deleted while Redis was away may hold an old
value there (a session signed out meanwhile, a display-board version): they are remembered and
deleted as soon as Redis answers again, by the thread that failed to write them.
"""

import contextlib
import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError)
# Keys remembered for deletion after an outage; beyond this many, the rest expire on their own.
MAX_STALE_KEYS = 10_000


class _KeptClients(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class _Unavailable(Exception):
    """Redis is taken as down (a call failed less than OUTAGE_RETRY_SECONDS ago)."""


class KeptClientRedisCache(RedisCache):
    """settings.CACHES backend: RedisCache with one redis.Redis client per connection pool,
    which treats an unreachable Redis as an empty cache (see the module's docstring).

    OPTIONS: `outage_retry_seconds` (default 5); the others go to redis-py's connection pool
    (`socket_connect_timeout`, `socket_timeout`, ...)."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.outage_retry_seconds = float(options.pop("outage_retry_seconds", 5))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _KeptClients
        self._down_until = 0.0  # time.monotonic(); the server is not tried before it
        self._stale_keys: set[str] = set()

    def _run(self, operation, *, writes=()):
        """operation() against Redis; raises _Unavailable (after noting `writes`, the raw keys
        it would change) while Redis is down."""
        if time.monotonic() < self._down_until:
            self._note_stale(writes)
            raise _Unavailable
        try:
            if self._stale_keys:
                self._cache.delete_many(list(self._stale_keys))
                self._stale_keys.clear()
            return operation()
        except OUTAGE_ERRORS as exc:
            self._down_until = time.monotonic() + self.outage_retry_seconds
            self._note_stale(writes)
            logger.warning(
                "cache unavailable (%s); serving without it for %s s",
                exc,
                self.outage_retry_seconds,
            )
            raise _Unavailable from exc

    def _note_stale(self, keys) -> None:
        for key in keys:
            if len(self._stale_keys) >= MAX_STALE_KEYS:
                return
            self._stale_keys.add(key)

    def _key(self, key, version):
        return self.make_and_validate_key(key, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._run(
                lambda: super(KeptClientRedisCache, self).add(key, value, timeout, version),
                writes=[self._key(key, version)],
            )
        except _Unavailable:
            return False

    def get(self, key, default=None, version=None):
        try:
            return self._run(lambda: super(KeptClientRedisCache, self).get(key, default, version))
        except _Unavailable:
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with contextlib.suppress(_Unavailable):
            self._run(
                lambda: super(KeptClientRedisCache, self).set(key, value, timeout, version),
                writes=[self._key(key, version)],
            )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._run(lambda: super(KeptClientRedisCache, self).touch(key, timeout, version))
        except _Unavailable:
            return False

    def delete(self, key, version=None):
        try:
            return self._run(
                lambda: super(KeptClientRedisCache, self).delete(key, version),
                writes=[self._key(key, version)],
            )
        except _Unavailable:
            return False

    def get_many(self, keys, version=None):
        try:
            return self._run(lambda: super(KeptClientRedisCache, self).get_many(keys, version))
        except _Unavailable:
            return {}

    def has_key(self, key, version=None):
        try:
            return self._run(lambda: super(KeptClientRedisCache, self).has_key(key, version))
        except _Unavailable:
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return self._run(
                lambda: super(KeptClientRedisCache, self).incr(key, delta, version),
                writes=[self._key(key, version)],
            )
        except _Unavailable:
            raise ValueError(f"Key '{key}' not found (cache unavailable).") from None

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._run(
                lambda: super(KeptClientRedisCache, self).set_many(data, timeout, version),
                writes=[self._key(key, version) for key in data],
            )
        except _Unavailable:
            return list(data)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        with contextlib.suppress(_Unavailable):
            self._run(
                lambda: super(KeptClientRedisCache, self).delete_many(keys, version),
                writes=[self._key(key, version) for key in keys],
            )

    def clear(self):
        try:
            return self._run(super().clear)
        except _Unavailable:
            return False
