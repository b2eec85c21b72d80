# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/daemon_json.py (no Ansible, no Docker)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import options as daemon_json
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.flags import (
    cli_conflicts, describe_conflicts, dockerd_lacks_validate, parse_execstart,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import OPTION_TYPES, canonical_json, load_daemon_json, merge, validate

# What `systemctl show -p ExecStart docker.service` prints for Debian's docker.io.
DEBIAN_EXECSTART = (
    "ExecStart={ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// "
    "--containerd=/run/containerd/containerd.sock $DOCKER_OPTS ; ignore_errors=no ; "
    "start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }\n"
)
DEBIAN_ARGV = ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"]

HARDENED = {
    "icc": False,
    "live-restore": True,
    "no-new-privileges": True,
    "userland-proxy": False,
    "log-driver": "local",
    "log-level": "info",
    "log-opts": {"max-size": "10m", "max-file": "5"},
    "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
    "default-address-pools": [{"base": "172.80.0.0/16", "size": 24}],
    "default-shm-size": "64M",
    "features": {"buildkit": True},
    "default-network-opts": {"bridge": {"com.docker.network.driver.mtu": "1450"}},
    "insecure-registries": [],
    "proxies": {"http-proxy": "http://proxy.example:3128", "no-proxy": "localhost"},
    "runtimes": {"custom": {"path": "/usr/local/bin/runc", "runtimeArgs": ["--debug"]}},
    "userns-remap": "default",
    "mtu": 1500,
}


# --- the module_utils file itself --------------------------------------------

def test_imports_with_the_standard_library_only():
    # -S drops site-packages: ansible is then not importable, the file must still load.
    path = daemon_json.__file__
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('daemon_json', %r)\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert not any(name.startswith('ansible') for name in sys.modules)\n"
        "print(module.validate({'icc': False}))\n" % path
    )
    completed = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_option_table_names_the_cis_keys():
    cis_keys = ("icc", "log-level", "iptables", "insecure-registries", "storage-driver", "storage-opts",
                "hosts", "tls", "tlsverify", "tlscacert", "tlscert", "tlskey", "default-ulimits",
                "userns-remap", "cgroup-parent", "authorization-plugins", "log-driver", "log-opts",
                "no-new-privileges", "live-restore", "userland-proxy", "seccomp-profile", "experimental",
                "selinux-enabled", "ip", "data-root")
    assert [key for key in cis_keys if key not in OPTION_TYPES] == []


# --- validate -------------------------------------------------------------------

def test_a_hardened_configuration_is_valid():
    assert validate(HARDENED) == []


def test_an_empty_configuration_is_valid():
    assert validate({}) == []


def test_the_document_must_be_an_object():
    assert validate(["icc"]) == ["daemon.json must be a JSON object, got list"]


def test_unknown_key_gets_a_suggestion():
    assert validate({"insecure-registry": []}) == [
        "daemon.json key 'insecure-registry' is not a dockerd option; did you mean 'insecure-registries'?"
    ]


def test_underscored_key_gets_the_dashed_suggestion():
    assert validate({"log_level": "info"}) == [
        "daemon.json key 'log_level' is not a dockerd option; did you mean 'log-level'?"
    ]


def test_unknown_key_without_a_close_match():
    assert validate({"zzzz": 1}) == ["daemon.json key 'zzzz' is not a dockerd option"]


def test_default_pids_limit_is_refused_with_the_reason():
    errors = validate({"default-pids-limit": 200})
    assert len(errors) == 1
    assert errors[0].startswith("daemon.json key 'default-pids-limit' is not supported: upstream dockerd")


@pytest.mark.parametrize("config, error", [
    ({"icc": "no"}, "daemon.json key 'icc' must be a boolean, got string 'no'"),
    ({"live-restore": 1}, "daemon.json key 'live-restore' must be a boolean, got integer 1"),
    ({"log-driver": 5}, "daemon.json key 'log-driver' must be a string, got integer 5"),
    ({"userns-remap": True}, "daemon.json key 'userns-remap' must be a string, got boolean true"),
    ({"mtu": "1500"}, "daemon.json key 'mtu' must be an integer, got string '1500'"),
    ({"mtu": True}, "daemon.json key 'mtu' must be an integer, got boolean true"),
    ({"shutdown-timeout": 1.5}, "daemon.json key 'shutdown-timeout' must be an integer, got number 1.5"),
    ({"tlscacert": None}, "daemon.json key 'tlscacert' must be a string, got null"),
    ({"default-shm-size": ["64M"]},
     "daemon.json key 'default-shm-size' must be a size (a string such as '64M', or an integer), got list"),
    ({"builder": []}, "daemon.json key 'builder' must be an object, got list"),
], ids=["bool-string", "bool-int", "string-int", "string-bool", "int-string", "int-bool", "int-float",
        "string-null", "size-list", "object-list"])
def test_scalar_type_errors(config, error):
    assert validate(config) == [error]


def test_long_string_values_are_shortened_in_errors():
    [error] = validate({"icc": "x" * 100})
    assert error == "daemon.json key 'icc' must be a boolean, got string '%s...'" % ("x" * 40)


@pytest.mark.parametrize("config", [
    {"default-shm-size": "64M"}, {"default-shm-size": 67108864}, {"log-level": "INFO"},
    {"default-ulimits": {"core": {"Name": "core", "Hard": -1, "Soft": 0}}},
])
def test_accepted_variants(config):
    assert validate(config) == []


@pytest.mark.parametrize("config, error", [
    ({"log-level": "verbose"},
     "daemon.json key 'log-level' must be one of debug, info, warn, error, fatal, panic, trace, got string 'verbose'"),
    ({"log-level": 3},
     "daemon.json key 'log-level' must be one of debug, info, warn, error, fatal, panic, trace, got integer 3"),
    ({"default-ipc-mode": "host"},
     "daemon.json key 'default-ipc-mode' must be one of private, shareable, got string 'host'"),
    ({"default-cgroupns-mode": "Private"},
     "daemon.json key 'default-cgroupns-mode' must be one of host, private, got string 'Private'"),
    ({"log-format": "xml"}, "daemon.json key 'log-format' must be one of text, json, got string 'xml'"),
], ids=["log-level-word", "log-level-number", "ipc-mode", "cgroupns-case", "log-format"])
def test_restricted_values(config, error):
    assert validate(config) == [error]


@pytest.mark.parametrize("config, error", [
    ({"hosts": "unix:///var/run/docker.sock"},
     "daemon.json key 'hosts' must be a list of strings, got string 'unix:///var/run/docker.sock'"),
    ({"insecure-registries": ["ok", 5]},
     "daemon.json key 'insecure-registries' item 1 must be a string, got integer 5"),
    ({"authorization-plugins": {"name": "authz"}},
     "daemon.json key 'authorization-plugins' must be a list of strings, got object"),
], ids=["not-a-list", "bad-item", "object"])
def test_string_list_errors(config, error):
    assert validate(config) == [error]


@pytest.mark.parametrize("config, error", [
    ({"log-opts": {"max-size": "10m", "max-file": 5}},
     "daemon.json key 'log-opts' entry 'max-file' must be a string, got integer 5"),
    ({"log-opts": ["max-size=10m"]}, "daemon.json key 'log-opts' must be an object of string values, got list"),
    ({"features": {"buildkit": "true"}},
     "daemon.json key 'features' entry 'buildkit' must be a boolean, got string 'true'"),
    ({"default-network-opts": {"bridge": {"com.docker.network.driver.mtu": 1450}}},
     "daemon.json key 'default-network-opts' entry 'bridge' entry 'com.docker.network.driver.mtu' "
     "must be a string, got integer 1450"),
], ids=["log-opts-value", "log-opts-list", "features-value", "network-opts-nested"])
def test_object_value_errors(config, error):
    assert validate(config) == [error]


@pytest.mark.parametrize("config, error", [
    ({"default-address-pools": {"base": "10.0.0.0/8"}},
     "daemon.json key 'default-address-pools' must be a list of {base, size} objects, got object"),
    ({"default-address-pools": [{"base": "10.0.0.0/8"}]},
     "daemon.json key 'default-address-pools' item 0 is missing field 'size'"),
    ({"default-address-pools": [{"base": "10.0.0.0/8", "size": "24"}]},
     "daemon.json key 'default-address-pools' item 0 field 'size' must be an integer, got string '24'"),
    ({"default-address-pools": [{"base": "10.0.0.0/8", "size": 24, "Size": 24}]},
     "daemon.json key 'default-address-pools' item 0 has unknown field 'Size' (expected base, size)"),
    ({"proxies": {"http_proxy": "http://p:3128"}},
     "daemon.json key 'proxies' has unknown field 'http_proxy' (expected http-proxy, https-proxy, no-proxy)"),
    ({"runtimes": {"kata": {"path": "/usr/bin/kata", "runtimeArgs": "--debug"}}},
     "daemon.json key 'runtimes' entry 'kata' field 'runtimeArgs' must be a list of strings, got string '--debug'"),
], ids=["pools-object", "pool-missing-size", "pool-size-type", "pool-unknown-field", "proxies-field",
        "runtime-args"])
def test_structured_value_errors(config, error):
    assert validate(config) == [error]


def test_ulimits_must_be_an_object():
    assert validate({"default-ulimits": "nofile=1024:2048"}) == [
        "daemon.json key 'default-ulimits' must be an object of ulimit names to {Name, Hard, Soft}, "
        "got string 'nofile=1024:2048'"
    ]


@pytest.mark.parametrize("entry, error", [
    (1024, "entry 'nofile' must be an object with 'Name', 'Hard' and 'Soft', got integer 1024"),
    ({"Name": "nofile", "Soft": 1024}, "entry 'nofile' is missing field 'Hard'"),
    ({"Name": "nofile", "Hard": "2048", "Soft": 1024}, "entry 'nofile' field 'Hard' must be an integer, got string '2048'"),
    ({"Name": "nofile", "Hard": 2048, "Soft": 1024, "Max": 1},
     "entry 'nofile' has unknown field 'Max' (expected Hard, Name, Soft)"),
    ({"Name": "nproc", "Hard": 2048, "Soft": 1024}, "entry 'nofile' has Name 'nproc'; the two must be equal"),
    ({"Name": "nofile", "Hard": 1024, "Soft": 2048}, "entry 'nofile' has Soft 2048 above Hard 1024"),
], ids=["not-object", "missing-hard", "hard-string", "unknown-field", "name-mismatch", "soft-above-hard"])
def test_ulimit_entry_errors(entry, error):
    assert validate({"default-ulimits": {"nofile": entry}}) == ["daemon.json key 'default-ulimits' " + error]


def test_ulimit_name_must_be_a_real_limit():
    assert validate({"default-ulimits": {"files": {"Name": "files", "Hard": 1, "Soft": 1}}}) == [
        "daemon.json key 'default-ulimits' entry 'files' field 'Name' must be one of core, cpu, data, fsize, "
        "locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack, got 'files'"
    ]


def test_every_error_is_reported_in_key_order():
    errors = validate({"mtu": "x", "icc": "no", "bogus": 1})
    assert [error.split("'")[1] for error in errors] == ["bogus", "icc", "mtu"]


# --- load ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "  \n", "\ufeff{}", "{}\n"])
def test_empty_documents_load_as_an_empty_config(text):
    assert load_daemon_json(text) == {}


def test_load_keeps_json_types():
    assert load_daemon_json('{"icc": false, "mtu": 1500}') == {"icc": False, "mtu": 1500}


def test_load_rejects_broken_json():
    with pytest.raises(ValueError, match="daemon.json is not valid JSON"):
        load_daemon_json('{"icc": false,}')


def test_load_rejects_a_non_object():
    with pytest.raises(ValueError, match="daemon.json must be a JSON object, got list"):
        load_daemon_json("[]")


# --- merge -------------------------------------------------------------------------

def test_merged_replaces_given_keys_and_keeps_the_others():
    existing = {"icc": True, "data-root": "/srv/docker"}
    assert merge(existing, {"icc": False}, "merged") == {"icc": False, "data-root": "/srv/docker"}


def test_merged_replaces_nested_objects_as_a_whole():
    existing = {"log-driver": "json-file", "log-opts": {"max-file": "3", "max-size": "10m"}}
    result = merge(existing, {"log-driver": "journald", "log-opts": {"tag": "{{.Name}}"}}, "merged")
    assert result == {"log-driver": "journald", "log-opts": {"tag": "{{.Name}}"}}


def test_null_removes_a_key():
    assert merge({"icc": True, "insecure-registries": ["r:5000"]}, {"insecure-registries": None}) == {"icc": True}


def test_null_for_an_absent_key_is_harmless():
    assert merge({"icc": True}, {"debug": None}) == {"icc": True}


def test_exact_keeps_only_the_desired_keys():
    assert merge({"icc": True, "debug": True}, {"icc": False, "hosts": None}, "exact") == {"icc": False}


def test_exact_ignores_a_missing_existing_config():
    assert merge(None, {"icc": False}, "exact") == {"icc": False}


def test_merge_does_not_share_or_change_its_inputs():
    existing = {"log-opts": {"max-size": "1m"}}
    desired = {"default-ulimits": {"nofile": {"Name": "nofile", "Hard": 2, "Soft": 1}}}
    result = merge(existing, desired)
    result["default-ulimits"]["nofile"]["Hard"] = 3
    assert desired["default-ulimits"]["nofile"]["Hard"] == 2
    assert existing == {"log-opts": {"max-size": "1m"}}


def test_merge_rejects_an_unknown_state():
    with pytest.raises(ValueError, match="state must be one of merged, exact"):
        merge({}, {}, "replaced")


# --- canonical_json ------------------------------------------------------------------

def test_canonical_json_sorts_indents_and_ends_with_a_newline():
    assert canonical_json({"log-opts": {"max-size": "10m", "max-file": "5"}, "icc": False}) == (
        '{\n'
        '  "icc": false,\n'
        '  "log-opts": {\n'
        '    "max-file": "5",\n'
        '    "max-size": "10m"\n'
        '  }\n'
        '}\n'
    )


def test_canonical_json_of_nothing():
    assert canonical_json({}) == "{}\n"


def test_canonical_json_keeps_non_ascii_text_readable():
    assert canonical_json({"labels": ["site=Zürich"]}) == '{\n  "labels": [\n    "site=Zürich"\n  ]\n}\n'


def test_canonical_json_round_trips():
    text = canonical_json(HARDENED)
    assert canonical_json(json.loads(text)) == text
    assert json.loads(text) == HARDENED


# --- parse_execstart ------------------------------------------------------------------

def test_parse_execstart_of_debian_docker_service():
    assert parse_execstart(DEBIAN_EXECSTART) == DEBIAN_ARGV


def test_parse_execstart_of_the_execstartex_format():
    text = ("ExecStartEx={ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// ; flags= ; "
            "start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }")
    assert parse_execstart(text) == ["/usr/bin/dockerd", "-H", "fd://"]


def test_parse_execstart_prefers_the_dockerd_command():
    text = ("ExecStart={ path=/bin/true ; argv[]=/bin/true ; ignore_errors=yes ; start_time=[n/a] } ; "
            "{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd --log-level warn ; ignore_errors=no ; pid=0 }")
    assert parse_execstart(text) == ["/usr/bin/dockerd", "--log-level", "warn"]


def test_parse_execstart_falls_back_to_the_first_command():
    text = "ExecStart={ path=/usr/bin/containerd ; argv[]=/usr/bin/containerd ; ignore_errors=no ; pid=0 }"
    assert parse_execstart(text) == ["/usr/bin/containerd"]


@pytest.mark.parametrize("text", ["", "ExecStart=", "ExecStart=\n", None])
def test_parse_execstart_without_a_command(text):
    assert parse_execstart(text) == []


def test_parse_execstart_of_a_unit_file_line():
    assert parse_execstart("ExecStart=/usr/bin/dockerd -H fd:// -l warn") == [
        "/usr/bin/dockerd", "-H", "fd://", "-l", "warn"]


def test_parse_execstart_honours_quotes():
    text = ("ExecStart={ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd --label 'site=two words' ; "
            "ignore_errors=no ; pid=0 }")
    assert parse_execstart(text) == ["/usr/bin/dockerd", "--label", "site=two words"]


def test_parse_execstart_survives_an_unbalanced_quote():
    text = "ExecStart={ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd --label it's ; ignore_errors=no ; pid=0 }"
    assert parse_execstart(text) == ["/usr/bin/dockerd", "--label", "it's"]


# --- cli_conflicts ------------------------------------------------------------------

def test_debian_unit_conflicts_with_hosts_and_containerd():
    config = {"hosts": ["unix:///var/run/docker.sock"], "containerd": "/run/containerd/containerd.sock",
              "icc": False}
    assert cli_conflicts(config, DEBIAN_ARGV) == [
        {"key": "containerd", "flag": "--containerd"},
        {"key": "hosts", "flag": "-H"},
    ]


def test_no_conflict_without_shared_options():
    assert cli_conflicts(HARDENED, DEBIAN_ARGV) == []


def test_no_arguments_no_conflicts():
    assert cli_conflicts({"hosts": []}, []) == []
    assert cli_conflicts({"hosts": []}, None) == []


@pytest.mark.parametrize("argv, key, flag", [
    (["dockerd", "-l", "debug"], "log-level", "-l"),
    (["dockerd", "--log-level", "debug"], "log-level", "--log-level"),
    (["dockerd", "--log-level=debug"], "log-level", "--log-level"),
    (["dockerd", "-s", "overlay2"], "storage-driver", "-s"),
    (["dockerd", "-soverlay2"], "storage-driver", "-s"),
    (["dockerd", "-G", "docker"], "group", "-G"),
    (["dockerd", "-p", "/run/d.pid"], "pidfile", "-p"),
    (["dockerd", "-b", "br0"], "bridge", "-b"),
    (["dockerd", "-D"], "debug", "-D"),
    (["dockerd", "--icc=false"], "icc", "--icc"),
    (["dockerd", "--tlsverify"], "tlsverify", "--tlsverify"),
    (["dockerd", "--tlskey", "/etc/docker/key.pem"], "tlskey", "--tlskey"),
    (["dockerd", "--label", "a=b"], "labels", "--label"),
    (["dockerd", "--insecure-registry", "r:5000"], "insecure-registries", "--insecure-registry"),
    (["dockerd", "--registry-mirror=https://m"], "registry-mirrors", "--registry-mirror"),
    (["dockerd", "--authorization-plugin", "authz"], "authorization-plugins", "--authorization-plugin"),
    (["dockerd", "--storage-opt", "dm.basesize=20G"], "storage-opts", "--storage-opt"),
    (["dockerd", "--exec-opt", "native.cgroupdriver=systemd"], "exec-opts", "--exec-opt"),
    (["dockerd", "--log-opt", "max-size=1m"], "log-opts", "--log-opt"),
    (["dockerd", "--default-ulimit", "nofile=1:2"], "default-ulimits", "--default-ulimit"),
    (["dockerd", "--dns", "1.1.1.1"], "dns", "--dns"),
    (["dockerd", "--userns-remap", "default"], "userns-remap", "--userns-remap"),
    (["dockerd", "--http-proxy", "http://p"], "proxies.http-proxy", "--http-proxy"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_each_flag_meets_its_key(argv, key, flag):
    config = {key.split(".")[0]: {"http-proxy": "http://p"} if key.startswith("proxies") else "x"}
    assert cli_conflicts(config, argv) == [{"key": key, "flag": flag}]


def test_grouped_short_flags():
    config = {"debug": True, "hosts": ["tcp://0.0.0.0:2376"]}
    assert cli_conflicts(config, ["dockerd", "-DH", "fd://"]) == [
        {"key": "debug", "flag": "-D"}, {"key": "hosts", "flag": "-H"}]


@pytest.mark.parametrize("argv", [["dockerd", "-H=fd://"], ["dockerd", "-Hfd://"], ["dockerd", "--host", "fd://"]])
def test_host_flag_spellings(argv):
    assert [conflict["key"] for conflict in cli_conflicts({"hosts": []}, argv)] == ["hosts"]


def test_values_are_not_read_as_flags():
    # "-500" is --oom-score-adjust's value, not the flags -5 -0 -0; "-Dl" would be debug + log-level.
    config = {"debug": True, "log-level": "info"}
    assert cli_conflicts(config, ["dockerd", "--oom-score-adjust", "-500", "--label", "-Dl"]) == []


def test_flags_after_double_dash_are_ignored():
    assert cli_conflicts({"debug": True}, ["dockerd", "--", "-D"]) == []


def test_repeated_flags_are_reported_once():
    argv = ["dockerd", "-H", "fd://", "-H", "tcp://127.0.0.1:2376"]
    assert cli_conflicts({"hosts": []}, argv) == [{"key": "hosts", "flag": "-H"}]


def test_add_runtime_merges_with_runtimes():
    assert cli_conflicts({"runtimes": {"kata": {"path": "/bin/kata"}}}, ["dockerd", "--add-runtime", "x=/bin/x"]) == []


def test_log_opts_fields_are_not_flags():
    # log-opts is compared whole: its "labels" field does not meet --label.
    assert cli_conflicts({"log-opts": {"labels": "a"}}, ["dockerd", "--label", "a=b"]) == []


def test_host_gateway_ip_flag_meets_both_keys():
    argv = ["dockerd", "--host-gateway-ip", "10.0.0.1"]
    assert cli_conflicts({"host-gateway-ips": ["10.0.0.1"]}, argv) == [
        {"key": "host-gateway-ips", "flag": "--host-gateway-ip"}]
    assert cli_conflicts({"host-gateway-ip": "10.0.0.1"}, argv) == [
        {"key": "host-gateway-ip", "flag": "--host-gateway-ip"}]


def test_unknown_letters_stop_reading_a_word():
    assert cli_conflicts({"debug": True}, ["dockerd", "-xD"]) == []


def test_describe_conflicts_names_every_pair():
    message = describe_conflicts([{"key": "containerd", "flag": "--containerd"}, {"key": "hosts", "flag": "-H"}])
    assert "'containerd' (flag --containerd), 'hosts' (flag -H)" in message
    assert "refuses to start" in message


# --- dockerd --validate ------------------------------------------------------------

def test_dockerd_lacks_validate_on_20_10():
    assert dockerd_lacks_validate("Status: unknown flag: --validate\nSee 'dockerd --help'., Code: 125")


@pytest.mark.parametrize("output", ["", None, "unable to configure the Docker daemon with file /tmp/x: EOF"])
def test_dockerd_lacks_validate_otherwise_false(output):
    assert not dockerd_lacks_validate(output)


def test_config_to_merge_into_reads_absent_broken_and_bom_files():
    from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import config_to_merge_into
    assert config_to_merge_into(None) == {}
    assert config_to_merge_into('\ufeff{"icc": false}') == {"icc": False}
    assert config_to_merge_into("{broken", state="exact") is None
    with pytest.raises(ValueError) as error:
        config_to_merge_into("{broken", state="merged")
    assert "use state=exact to replace it" in str(error.value)
