# -*- coding: utf-8 -*-
"""Secret detection: names, values, entropy, masking."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import (
    check_entry, env_pairs, find_secrets, name_says_secret, shannon_entropy,
)


@pytest.mark.parametrize("name", [
    "DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "dbPassword", "REDIS_PASS", "GITHUB_TOKEN", "API_KEY", "apiKey",
    "AWS_SECRET_ACCESS_KEY", "private_key", "client-secret", "SMTP_CREDENTIALS", "OAUTH_ACCESS_KEY",
])
def test_secret_names(name):
    assert name_says_secret(name)


@pytest.mark.parametrize("name", [
    "PWD", "OLDPWD", "PATH", "HOME", "PASSWORD_FILE", "DB_PASSWORD_FILE", "TOKEN_TTL", "SECRET_NAME",
    "SORT_KEY", "GPG_KEY", "BYPASS_PROXY", "AWS_ACCESS_KEY_ID", "TOKEN_URL",
])
def test_innocent_names(name):
    assert not name_says_secret(name)


@pytest.mark.parametrize("name,value", [
    ("DB_PASSWORD", "hunter2"),
    ("X", "AKIAIOSFODNN7EXAMPLE"),
    ("NOTE", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
    ("DATABASE_URL", "postgres://app:s3cr3t@db:5432/app"),
    ("SIGNING", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),  # random-looking, innocent name
    ("KEY_MATERIAL", "-----BEGIN RSA PRIVATE KEY-----"),
])
def test_values_flagged(name, value):
    assert check_entry(name, value) is not None


@pytest.mark.parametrize("name,value", [
    ("DB_PASSWORD", ""),
    ("REQUIRE_PASSWORD", "true"),
    ("DB_PASSWORD_FILE", "/run/secrets/db"),
    ("TOKEN_ENDPOINT", "https://issuer.example.com/token"),
    ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    ("org.opencontainers.image.revision", "0123456789abcdef0123456789abcdef01234567"),  # a git sha
    ("REQUEST_ID", "550e8400-e29b-41d4-a716-446655440000"),
    ("org.opencontainers.image.created", "2024-05-01T12:00:00Z"),
    ("DATABASE_URL", "postgres://db:5432/app"),
    ("GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D"),
])
def test_values_not_flagged(name, value):
    assert check_entry(name, value) is None


def test_masked_description_never_contains_the_value():
    hit = check_entry("DB_PASSWORD", "Xq7rT2mLp9vK4wZs8bN3cY6d")
    assert hit.describe().startswith("DB_PASSWORD=<masked, 24 chars>")
    assert "Xq7r" not in hit.describe()


def test_entropy():
    assert shannon_entropy("aaaa") == 0.0
    assert round(shannon_entropy("abcd"), 3) == 2.0
    assert shannon_entropy("") == 0.0


def test_env_pairs_and_ignore():
    pairs = env_pairs(["A=1", "DB_PASSWORD=x=y", "EMPTY="])
    assert pairs == [("A", "1"), ("DB_PASSWORD", "x=y"), ("EMPTY", "")]
    assert [hit.name for hit in find_secrets(pairs)] == ["DB_PASSWORD"]
    assert find_secrets(pairs, ignore=[("DB_PASSWORD", "x=y")]) == []
