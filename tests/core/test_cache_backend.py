"""The Redis cache backend that keeps its client objects (bankservice/core/cache.py)."""

import os

import pytest

from bankservice.core.cache import KeptClientRedisCache

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs a Redis server; set REDIS_URL"
)


def test_values_round_trip_through_one_kept_client():
    cache = KeptClientRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "test-kept-clients"})
    try:
        cache.set("answer", {"n": 42}, timeout=30)
        assert cache.get("answer") == {"n": 42}
        assert cache.add("answer", 0) is False
        cache.delete("answer")
        assert cache.get("answer") is None
        client = cache._cache.get_client(write=True)
        assert cache._cache.get_client() is client  # one server: reads and writes share it
    finally:
        cache.delete("answer")
        cache.close()
