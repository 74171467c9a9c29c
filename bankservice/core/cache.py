"""Django's Redis cache, keeping its redis.Redis client objects.

Django builds a new redis.Redis object (on its kept connection pool) for every cache call, and
building one costs about as much as the round trip itself (0.2 ms here: redis-py fills its table
of response callbacks each time). The cache backend instance belongs to one thread, and a client
on a pool is safe to share anyway, so one client per pool is kept.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


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


class KeptClientRedisCache(RedisCache):
    """settings.CACHES backend: RedisCache with one redis.Redis client per connection pool."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _KeptClients
