# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret detection: names, values, entropy, masking."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import Finding
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import (
    check_entry, env_pairs, find_secrets, mask_data, mask_text, name_says_secret, shannon_entropy, url_passwords,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog as rulebook


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


# --- masking URL credentials ------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [
    ("http://user:secret@proxy:3128", "http://user:********@proxy:3128"),
    ("https://user:secret@mirror.example.com/v2/", "https://user:********@mirror.example.com/v2/"),
    ("socks5://user:secret@proxy", "socks5://user:********@proxy"),
    ("HTTP://User:Secret@Proxy", "HTTP://User:********@Proxy"),
    ("http://:token@proxy", "http://:********@proxy"),
    # An unencoded @ or : in the password: the host starts after the last @.
    ("http://user:p@ss:w0rd@proxy:3128", "http://user:********@proxy:3128"),
    # Inside messages, quoted or not, and several in one text.
    ("got string 'http://user:secret@mirror'", "got string 'http://user:********@mirror'"),
    ('{"http-proxy": "http://user:secret@proxy"}', '{"http-proxy": "http://user:********@proxy"}'),
    ("a http://u:one@a,http://v:two@b c", "a http://u:********@a,http://v:********@b c"),
    ("proxy=http://user:secret@proxy; mirror=https://user:other@mirror",
     "proxy=http://user:********@proxy; mirror=https://user:********@mirror"),
])
def test_mask_text_hides_url_passwords(text, shown):
    assert mask_text(text) == shown


@pytest.mark.parametrize("text", [
    "http://proxy.example.com:3128", "https://user@registry.example.com", "http://[::1]:2375",
    "user:secret", "no url here", "", "mailto:someone@example.com", "unix:///var/run/docker.sock",
    "http://proxy:3128/path?next=a@b",
])
def test_mask_text_leaves_urls_without_passwords_alone(text):
    assert mask_text(text) == text


@pytest.mark.parametrize("value", [None, 5, True, 2.5])
def test_mask_text_passes_non_strings_through(value):
    assert mask_text(value) is value


def test_mask_data_masks_every_string_and_keeps_json_types():
    data = {
        "proxies": {"http-proxy": "http://user:secret@proxy:3128", "no-proxy": "localhost"},
        "registry-mirrors": ["https://user:secret@mirror", "https://mirror2"],
        "http://key:secret@host": ("http://u:secret@h", 1),
        "icc": False, "max-concurrent-downloads": 3, "debug": None,
    }
    original = repr(data)
    masked = mask_data(data)
    assert masked == {
        "proxies": {"http-proxy": "http://user:********@proxy:3128", "no-proxy": "localhost"},
        "registry-mirrors": ["https://user:********@mirror", "https://mirror2"],
        "http://key:********@host": ("http://u:********@h", 1),
        "icc": False, "max-concurrent-downloads": 3, "debug": None,
    }
    assert "secret" not in repr(masked)
    assert repr(data) == original  # the input is left as it was


def test_url_passwords_lists_the_secret_parts_only():
    params = {"settings": {"proxies": {"http-proxy": "http://user:one@proxy"},
                           "registry-mirrors": ["https://u:t@o@mirror", "https://plain"],
                           "http://k:three@h": None},
              "dockerd_args": ["--registry-mirror=http://x:four@m"], "backup": True}
    assert url_passwords(params) == {"one", "t@o", "three", "four"}
    assert url_passwords({"a": ["http://proxy:3128", 5]}) == set()


def test_finding_evidence_never_carries_url_credentials():
    rule = rulebook.get("2.5")
    finding = Finding(rule, "daemon", "fail", "registry-mirrors: https://user:secret@mirror.example.com")
    shown = finding.to_dict()
    assert shown["evidence"] == "registry-mirrors: https://user:********@mirror.example.com"
    assert "secret" not in repr(shown)
    assert finding.evidence.endswith("user:secret@mirror.example.com")  # the finding itself is unchanged


def test_free_text_masks_known_values_name_value_words_tokens_and_url_passwords():
    from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_free_text
    text = ("starting with DB_PASSWORD=hunter2-but-longer and key s3cr3t-from-env\n"
            "token ghp_0123456789abcdefghijABCDEFGHIJ012345 to postgres://app:pw123@db/app ok")
    masked = mask_free_text(text, known=["s3cr3t-from-env"])
    assert "hunter2" not in masked and "s3cr3t-from-env" not in masked and "ghp_" not in masked and "pw123" not in masked
    assert "DB_PASSWORD=********" in masked and "postgres://app:********@db/app" in masked
    assert masked.startswith("starting with") and masked.endswith(" ok")


def test_free_text_keeps_ordinary_words_and_short_known_values():
    from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_free_text
    text = "touch: cannot touch '/state': Read-only file system\nexit 3"
    assert mask_free_text(text, known=["abc"]) == text
