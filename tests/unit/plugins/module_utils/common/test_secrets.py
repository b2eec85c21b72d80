# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret recogniser and its masking: names, values by meaning, the corpus of secrets and look-alikes."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import Finding
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import (
    MASK, check_entry, env_pairs, find_secrets, mask_data, mask_free_text, mask_text, name_says_secret, secret_values,
    shannon_entropy, url_passwords, value_says_secret,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.secrets_corpus import LOOKALIKES, SECRETS, hidden_parts, ids, leaked, line, lost


@pytest.mark.parametrize("name", [
    "DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "dbPassword", "REDIS_PASS", "GITHUB_TOKEN", "API_KEY", "apiKey",
    "AWS_SECRET_ACCESS_KEY", "private_key", "client-secret", "SMTP_CREDENTIALS", "OAUTH_ACCESS_KEY",
])
def test_secret_names(name):
    assert name_says_secret(name)


@pytest.mark.parametrize("name", [
    "PATH", "HOME", "PASSWORD_FILE", "DB_PASSWORD_FILE", "TOKEN_TTL", "SECRET_NAME",
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
    ("PWD", "/srv/app"), ("OLDPWD", "/root"),  # a password by name (ODBC's Pwd=), but a path is never one
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
    ("PASS_WARN_AGE", "7"), ("PASS_MAX_DAYS", "365"), ("MaxAuthTries", "3"),  # login.defs, sshd_config settings
    ("PasswordAuthentication", "no"),
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
    rule = catalog.get("2.5")
    finding = Finding(rule, "daemon", "fail", "registry-mirrors: https://user:secret@mirror.example.com")
    shown = finding.to_dict()
    assert shown["evidence"] == "registry-mirrors: https://user:********@mirror.example.com"
    assert "secret" not in repr(shown)
    assert finding.evidence.endswith("user:secret@mirror.example.com")  # the finding itself is unchanged


def test_free_text_masks_known_values_name_value_words_tokens_and_url_passwords():
    text = ("starting with DB_PASSWORD=hunter2-but-longer and key s3cr3t-from-env\n"
            "token ghp_0123456789abcdefghijABCDEFGHIJ012345 to postgres://app:pw123@db/app ok")
    masked = mask_free_text(text, known=["s3cr3t-from-env"])
    assert "hunter2" not in masked and "s3cr3t-from-env" not in masked and "ghp_" not in masked and "pw123" not in masked
    assert "DB_PASSWORD=********" in masked and "postgres://app:********@db/app" in masked
    assert masked.startswith("starting with") and masked.endswith(" ok")


def test_free_text_keeps_ordinary_words_and_short_known_values():
    text = "touch: cannot touch '/state': Read-only file system\nexit 3"
    assert mask_free_text(text, known=["abc"]) == text


# --- the forms the security review found unmasked (issue 19) -----------------------------------------------

@pytest.mark.parametrize("text, secret, shown", [
    ('{"password":"Js0n-pw-4242"}', "Js0n-pw-4242", '{"password":"********"}'),
    ("{'password': 'Js0n-pw-4242', 'user': 'app'}", "Js0n-pw-4242", "{'password': '********', 'user': 'app'}"),
    ("db password: Yaml-pw-7777", "Yaml-pw-7777", "db password: ********"),
    ("mysqldump --password Cl1-pw-9999 --all-databases", "Cl1-pw-9999", "mysqldump --password ******** --all-databases"),
    ("--password=Cl1-pw-9999", "Cl1-pw-9999", "--password=********"),
    ("Server=sql;Database=shop;User Id=sa;Password=Sq1-Serv3r-9!;Encrypt=True", "Sq1-Serv3r-9!",
     "Server=sql;Database=shop;User Id=sa;Password=********;Encrypt=True"),
    ("postgres://app:ab/cd9Xq-pw@db/app", "cd9Xq-pw", "postgres://app:********@db/app"),
    ("volume-opt=o=addr=10.0.0.5,username=backup,password=Cifs-pw-5555,vers=3.0", "Cifs-pw-5555",
     "volume-opt=o=addr=10.0.0.5,username=backup,password=********,vers=3.0"),
])
def test_free_text_masks_the_forms_it_used_to_miss(text, secret, shown):
    assert mask_free_text(text) == shown
    assert secret not in mask_free_text(text)


@pytest.mark.parametrize("name, value", [
    ("REDIS_URL", "redis://:R3d1s-pw-19@cache:6379/0"),
    ("SPRING_APPLICATION_JSON", '{"spring": {"datasource": {"password": "Spr1ng-S3cret-8"}}}'),
    ("JAVA_OPTS", "-Xmx512m -Dspring.datasource.password=J4va-0pts-pw"),
    ("ConnectionStrings__Default", "Server=sql;User Id=sa;Password=Sq1-Serv3r-9!;"),
    ("APP_KEY", "base64:AzSKmSTryU5IcfNfqYxLWkQ15vMQYHbx1G62JBU1m2k="),
    ("traefik.http.middlewares.auth.basicauth.users", "admin:$apr1$H6uskkkW$n/x.iHIEApS2JB72hHUNo0"),
    ("NOTIFY", "https://hooks.slack.com/services/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"),
    ("ALERT_WEBHOOK_URL", "https://alerts.example.com/hooks/9f8e7d6c5b4a39281706f5e4"),
])
def test_env_and_label_values_it_used_to_miss_are_secrets(name, value):
    hit = check_entry(name, value)
    assert hit is not None
    assert hit.describe().startswith("%s=<masked, %d chars> (" % (name, len(value)))


@pytest.mark.parametrize("name, value", [
    ("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"),
    ("PYTHONPATH", "/app/src:/opt/venv/lib/python3.11/site-packages"),
    ("LD_LIBRARY_PATH", "/usr/local/nvidia/lib64:/usr/local/cuda-12.2/targets/x86_64-linux/lib"),
    ("WORKDIR", "/srv/shop/releases/20250314T101500Z-yKQoNAhTmJ2U/current/public/assets"),
])
def test_paths_are_never_secrets_whatever_they_contain(name, value):
    # The old heuristic called these high-entropy values (BW-001, BW-003, BW-011, 4.10 failed as high).
    assert check_entry(name, value) is None
    assert mask_text("%s=%s" % (name, value)) == "%s=%s" % (name, value)


@pytest.mark.parametrize("name, value, reason", [
    ("DB_PASSWORD", "Tr0ub4dor&3", "a password by its name"),
    ("HEROKU_API_KEY", "6f1c2a7e-3b4d-4c5e-8f9a-0b1c2d3e4f5a", "an API key by its name"),
    ("NOTE", "AKIACHMZWSJQGQ2URGUT", "AWS access key id"),
    ("DATABASE_URL", "postgres://shop:Pg-9xK2mQ7v@db:5432/shop", "password in a postgres URL"),
    ("SPRING_APPLICATION_JSON", '{"spring": {"datasource": {"password": "Spr1ng-S3cret-8"}}}',
     "password under the key password"),
    ("JAVA_OPTS", "-Dspring.datasource.password=J4va-0pts-pw", "password under the key Dspring.datasource.password"),
    ("SESSION_SEED", "zMJpquYMZicJLTaEF9aDOMfWdvTQdw6c", "random-looking token (32 characters of mixed case and digits)"),
    ("AUTH", "ldap-bind-S3cret", "auth credentials by its name"),
    ("REGISTRY_AUTH", '{"auth": "Y2ktYm90OlJlZzFzdHJ5LVQwa2Vu"}', "auth credentials under the key auth"),
    ("LOGIN", "Y2ktYm90OlJlZzFzdHJ5LVQwa2Vu", "base64 of user:password (basic auth)"),
])
def test_the_evidence_says_why_never_what(name, value, reason):
    hit = check_entry(name, value)
    assert hit.reason.endswith(reason) or hit.reason == reason, hit.reason
    assert value not in hit.describe() and value[-8:] not in hit.describe()


# --- the corpus: every secret found and masked, every look-alike left alone ---------------------------------

@pytest.mark.parametrize("entry", SECRETS, ids=ids(SECRETS))
def test_every_secret_of_the_corpus_is_recognised_and_described_without_its_value(entry):
    hit = check_entry(entry["name"], entry["value"])
    assert hit is not None
    assert hit.name == entry["name"] and hit.length == len(entry["value"])
    assert leaked(hit.describe(), entry) == []


@pytest.mark.parametrize("entry", SECRETS, ids=ids(SECRETS))
def test_every_secret_of_the_corpus_is_masked_in_text_keeping_what_must_stay_readable(entry):
    for text in (line(entry), "export %s" % line(entry), '{"%s": "%s"}' % (entry["name"], entry["value"])):
        shown = mask_text(text)
        assert leaked(shown, entry) == [], shown
        assert MASK in shown
    assert lost(mask_text(line(entry)), entry) == []


@pytest.mark.parametrize("entry", [entry for entry in SECRETS if entry.get("by_value")],
                         ids=ids([entry for entry in SECRETS if entry.get("by_value")]))
def test_a_secret_recognised_by_its_form_is_masked_without_its_name(entry):
    assert value_says_secret(entry["value"])
    shown = mask_text("starting with %s now" % entry["value"])
    assert leaked(shown, entry) == [] and shown.startswith("starting with ") and shown.endswith(" now")
    assert lost(shown, entry) == []


@pytest.mark.parametrize("entry", SECRETS, ids=ids(SECRETS))
def test_every_secret_of_the_corpus_is_masked_in_data_and_known_to_the_module_layer(entry):
    data = {"env": [line(entry)], "labels": {entry["name"]: entry["value"]}}
    assert leaked(repr(mask_data(data)), entry) == []
    found = secret_values({"labels": {entry["name"]: entry["value"]}})
    assert found and all(part in "".join(sorted(found)) or part in entry["value"] for part in hidden_parts(entry))


@pytest.mark.parametrize("entry", LOOKALIKES, ids=ids(LOOKALIKES))
def test_no_look_alike_of_the_corpus_is_a_secret_or_masked(entry):
    assert check_entry(entry["name"], entry["value"]) is None
    assert value_says_secret(entry["value"]) is None
    for text in (line(entry), entry["value"], "export %s" % line(entry), '{"%s": "%s"}' % (entry["name"], entry["value"])):
        assert mask_text(text) == text
    data = {"env": [line(entry)], "labels": {entry["name"]: entry["value"]}}
    assert mask_data(data) == data
    assert secret_values(data) == set()


def test_everything_together_one_text():
    text = "\n".join([line(entry) for entry in SECRETS + LOOKALIKES])
    shown = mask_text(text)
    for entry in SECRETS:
        assert leaked(shown, entry) == [], entry["id"]
    for entry in LOOKALIKES:
        assert line(entry) in shown, entry["id"]


# --- data masking: keys say secret, pointers stay ---------------------------------------------------------

def test_mask_data_masks_a_value_under_a_secret_key_whole_but_keeps_pointers_and_types():
    data = {"password": "hunter2", "db_password_file": "/run/secrets/db", "api_key": ["a-1", "/run/k"], "token": None,
            "secret": True, "nested": {"client_secret": "x" * 3, "token_url": "https://issuer/token"}}
    assert mask_data(data) == {"password": MASK, "db_password_file": "/run/secrets/db", "api_key": [MASK, "/run/k"],
                               "token": None, "secret": True,
                               "nested": {"client_secret": MASK, "token_url": "https://issuer/token"}}


def test_known_values_are_masked_wherever_they_appear_even_cut_into_other_text():
    assert mask_text("echo s3cr3t-from-env > /tmp/x", known=["s3cr3t-from-env"]) == "echo ******** > /tmp/x"
    assert mask_data({"a": ["xx s3cr3t-from-env"]}, known=["s3cr3t-from-env"]) == {"a": ["xx ********"]}


def test_secret_values_are_the_secrets_inside_arguments():
    params = {"settings": {"registry-mirrors": ["https://u:M1rror-t0ken-8@m"], "labels": ["DB_PASSWORD=hunter2x"]},
              "password": "p4ssw0rd!", "path": "/etc/docker/daemon.json"}
    assert secret_values(params) == {"M1rror-t0ken-8", "hunter2x", "p4ssw0rd!"}
