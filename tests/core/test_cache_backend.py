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


# --- A Redis outage (a private redis-server, stopped and started again) -----------------------


@pytest.fixture
def private_redis(tmp_path):
    from tests.resilience.processes import RedisServer, redis_server_installed

    if not redis_server_installed():
        pytest.skip("needs redis-server (a private Redis this test stops and starts)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def outage_cache(server, **options):
    return KeptClientRedisCache(
        server.url(),
        {
            "KEY_PREFIX": "test-outage",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5, **options},
        },
    )


def test_an_unreachable_redis_is_an_empty_cache_and_one_warning(private_redis, caplog):
    cache = outage_cache(private_redis, outage_retry_seconds=60)
    cache.set("kept", "value")
    private_redis.stop()

    with caplog.at_level("WARNING", logger="bankservice.core.cache"):
        assert cache.get("kept", "missing") == "missing"
        cache.set("kept", "other")
        assert cache.add("new", 1) is False
        assert cache.delete("kept") is False
        assert cache.get_many(["kept", "new"]) == {}
        assert cache.has_key("kept") is False
        assert cache.touch("kept") is False
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        cache.delete_many(["a", "b"])
        assert cache.get_or_set("computed", 7) == 7
        with pytest.raises(ValueError, match="not found"):
            cache.incr("counter")
        assert cache.clear() is False

    # The first failure opens a 60 s pause: the calls after it do not try Redis (one warning).
    warnings = [r for r in caplog.records if r.name == "bankservice.core.cache"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "cache unavailable" in warnings[0].getMessage()


def test_keys_written_during_an_outage_are_dropped_when_redis_answers_again(private_redis):
    """A session signed out (deleted) or a board version bumped while Redis was down must not
    come back with its old value from a Redis that kept its data."""
    cache = outage_cache(private_redis, outage_retry_seconds=0)
    cache.set("session", "signed-in")
    cache.set("version", "v1")
    cache.set("untouched", "same")
    private_redis.stop(save=True)

    cache.delete("session")
    cache.set("version", "v2")
    assert cache.get("session") is None

    private_redis.start()  # the data saved at shutdown is back
    assert cache.get("session") is None
    assert cache.get("version") is None  # a miss, rebuilt by its owner; never the old "v1"
    assert cache.get("untouched") == "same"
    cache.set("version", "v3")
    assert cache.get("version") == "v3"


def test_signed_out_session_stays_signed_out_after_an_outage(private_redis, settings, db):
    """cached_db sessions: a logout while Redis is down deletes the database row; when Redis
    returns with its data, the cached copy must not sign the user back in."""
    from importlib import import_module

    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "bankservice.core.cache.KeptClientRedisCache",
            "LOCATION": private_redis.url(),
            "OPTIONS": {"outage_retry_seconds": 0},
        }
    }
    store = import_module(settings.SESSION_ENGINE).SessionStore
    session = store()
    session["_auth_user_id"] = "42"
    session.create()
    session.save()
    key = session.session_key
    private_redis.stop(save=True)

    assert store(key).load() == {"_auth_user_id": "42"}  # read from the database
    store(key).flush()  # signing out: the row goes, the cache delete fails

    private_redis.start()
    assert store(key).load() == {}
    caches["default"].close()
