"""Redis as the store that several server processes share: sign-in rate limits."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import redis
from flask import Flask

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from tests.e2e.conftest import variant

REDIS_URL = os.environ.get("EXAMSVC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("EXAMSVC_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required here but unreachable: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # database 15 belongs to the tests
    return REDIS_URL


def test_rate_limit_is_shared_through_redis(
    app: Flask, redis_url: str, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.AUTHOR)
    settings = {
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        "LOGIN_RATE_LIMIT": "2 per minute",
    }
    first, second = variant(app, **settings).test_client(), variant(app, **settings).test_client()
    wrong = {"username": user.username, "password": "wrong"}
    codes = [first.post("/auth/login", data=wrong).status_code for _ in range(2)]
    # a second server process sees the attempts the first one counted
    codes.append(second.post("/auth/login", data=wrong).status_code)
    assert codes == [401, 401, 429]
    assert any(b"auth.login" in key for key in redis.Redis.from_url(redis_url).keys("*"))
