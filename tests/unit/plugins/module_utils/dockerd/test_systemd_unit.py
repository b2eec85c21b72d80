# -*- coding: utf-8 -*-
"""docker.service as systemd reads it: entries, ExecStart over drop-ins, environment, -H removal, rendering.

The unit texts are the ones Debian's docker.io (20.10, bookworm) and
Docker's docker-ce packages install.
"""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import unit_fixture

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.systemd_unit import (
    drop_in_without_host_flags, environment_files, exec_start, expand, parse_environment_file, quote_word,
    render_exec, split_exec, unit_entries, without_host_flags,
)

# /lib/systemd/system/docker.service of Debian 12's docker.io (tests/unit/fixtures).
DEBIAN_UNIT = unit_fixture("debian12-docker.service")

# /lib/systemd/system/docker.service of Docker's docker-ce package.
DOCKER_CE_UNIT = """\
[Unit]
Description=Docker Application Container Engine
Documentation=https://docs.docker.com
After=network-online.target docker.socket firewalld.service containerd.service time-set.target
Wants=network-online.target containerd.service
Requires=docker.socket

[Service]
Type=notify
# the default is not to use systemd for cgroups because the delegate issues still
# exists and systemd currently does not support the cgroup feature set required
# for containers run by docker
ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutStartSec=0
RestartSec=2
Restart=always

# Note that StartLimit* options were moved from "Service" to "Unit" in systemd 229.
StartLimitBurst=3
StartLimitInterval=60s

LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
Delegate=yes
KillMode=process
OOMScoreAdjust=-500

[Install]
WantedBy=multi-user.target
"""

# /etc/default/docker as Debian ships it (everything commented out), plus an admin's DOCKER_OPTS.
DEBIAN_DEFAULTS = """\
# Here in Debian, this file is sourced by:
#   - /etc/init.d/docker (sysvinit)
#   - /etc/init/docker (upstart)
#   - systemd's docker.service

# Use of this file for configuring your Docker daemon is discouraged.

# Customize location of Docker binary (especially for development testing).
#DOCKERD="/usr/local/bin/dockerd"

# Use DOCKER_OPTS to modify the daemon startup options.
DOCKER_OPTS="--dns 8.8.8.8 --dns 8.8.4.4"

# If you need Docker to use an HTTP proxy, it can also be specified here.
export http_proxy="http://127.0.0.1:3128/"
"""


# --- unit_entries -------------------------------------------------------------

def test_unit_entries_carry_their_section_in_file_order():
    entries = unit_entries(DEBIAN_UNIT)
    assert entries[0] == ("Unit", "Description", "Docker Application Container Engine")
    assert ("Service", "EnvironmentFile", "-/etc/default/docker") in entries
    assert entries[-1] == ("Install", "WantedBy", "multi-user.target")


def test_unit_entries_skip_hash_and_semicolon_comments():
    entries = unit_entries("[Service]\n# ExecStart=/bin/false\n; ExecStart=/bin/false\nType=notify\n")
    assert entries == [("Service", "Type", "notify")]


def test_unit_entries_keep_equals_signs_in_the_value():
    assert unit_entries("[Service]\nEnvironment=A=1 B=2\n") == [("Service", "Environment", "A=1 B=2")]


def test_backslash_continuations_join_into_one_value():
    text = "[Service]\nExecStart=/usr/bin/dockerd \\\n    -H fd:// \\\n    --data-root=/srv/docker\nType=notify\n"
    entries = unit_entries(text)
    assert entries[1] == ("Service", "Type", "notify")
    assert entries[0][1] == "ExecStart"
    assert entries[0][2].split() == ["/usr/bin/dockerd", "-H", "fd://", "--data-root=/srv/docker"]


def test_comment_lines_inside_a_continuation_are_skipped_without_ending_it():
    # The example of systemd.syntax(7).
    text = "[Section C]\nKeyThree=value 3\\\n# this line is ignored\n; this line is ignored too\n       value 3 continued\n"
    assert unit_entries(text) == [("Section C", "KeyThree", "value 3 value 3 continued")]


def test_unit_entries_of_nothing():
    assert unit_entries(None) == []
    assert unit_entries("") == []


# --- exec_start ---------------------------------------------------------------

def test_exec_start_of_debians_unit():
    assert exec_start([DEBIAN_UNIT]) == [
        "/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"]


def test_exec_start_of_docker_ce_unit():
    assert exec_start([DOCKER_CE_UNIT]) == ["/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"]


def test_a_drop_in_that_resets_exec_start_replaces_it():
    drop_in = "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --data-root=/srv/docker\n"
    assert exec_start([DOCKER_CE_UNIT, drop_in]) == ["/usr/bin/dockerd", "--data-root=/srv/docker"]


def test_the_last_exec_start_wins():
    first = "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --debug\n"
    second = "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --log-level=warn\n"
    assert exec_start([DOCKER_CE_UNIT, first, second]) == ["/usr/bin/dockerd", "--log-level=warn"]


def test_an_empty_exec_start_alone_leaves_no_command():
    assert exec_start([DOCKER_CE_UNIT, "[Service]\nExecStart=\n"]) == []


def test_exec_start_in_another_section_is_not_the_services():
    assert exec_start(["[Unit]\nExecStart=/bin/false\n"]) == []


def test_no_unit_means_no_exec_start():
    assert exec_start([]) == []


@pytest.mark.parametrize("prefix", ["-", "@", "+", "!", ":", "-+"])
def test_exec_prefixes_are_removed_from_the_program_path(prefix):
    unit = "[Service]\nExecStart=%s/usr/bin/dockerd -H fd://\n" % prefix
    assert exec_start([unit]) == ["/usr/bin/dockerd", "-H", "fd://"]


def test_a_dash_inside_later_words_is_kept():
    assert split_exec("-/usr/bin/dockerd -D --data-root=/srv") == ["/usr/bin/dockerd", "-D", "--data-root=/srv"]


def test_split_exec_unquotes_words():
    assert split_exec('/usr/bin/dockerd --label "site=eu west" --label \'a b\'') == [
        "/usr/bin/dockerd", "--label", "site=eu west", "--label", "a b"]


def test_split_exec_reads_an_unbalanced_quote_as_written():
    assert split_exec('/usr/bin/dockerd --label "x') == ["/usr/bin/dockerd", "--label", '"x']


def test_split_exec_resolves_systemds_escapes_for_percent_and_dollar():
    assert split_exec("/usr/bin/dockerd --label=100%% --label=cost$$5") == [
        "/usr/bin/dockerd", "--label=100%", "--label=cost$5"]


# --- environment --------------------------------------------------------------

def test_environment_files_of_debians_unit_are_optional():
    assert environment_files([DEBIAN_UNIT]) == [("/etc/default/docker", True)]


def test_a_required_environment_file_has_no_dash():
    drop_in = "[Service]\nEnvironmentFile=/etc/docker/env\n"
    assert environment_files([DEBIAN_UNIT, drop_in]) == [("/etc/default/docker", True), ("/etc/docker/env", False)]


def test_an_empty_environment_file_line_resets_the_list():
    drop_in = "[Service]\nEnvironmentFile=\nEnvironmentFile=/etc/docker/env\n"
    assert environment_files([DEBIAN_UNIT, drop_in]) == [("/etc/docker/env", False)]


def test_docker_ce_unit_reads_no_environment_file():
    assert environment_files([DOCKER_CE_UNIT]) == []


def test_parse_environment_file_of_debians_defaults():
    assert parse_environment_file(DEBIAN_DEFAULTS) == {
        "DOCKER_OPTS": "--dns 8.8.8.8 --dns 8.8.4.4", "http_proxy": "http://127.0.0.1:3128/"}


def test_parse_environment_file_of_the_shipped_file_is_empty():
    commented = "\n".join("#" + line for line in DEBIAN_DEFAULTS.splitlines())
    assert parse_environment_file(commented) == {}


def test_parse_environment_file_unquotes_single_and_double_quotes():
    text = "A='--label x=1'\nB=\"--dns 1.1.1.1\"\nC=plain\n"
    assert parse_environment_file(text) == {"A": "--label x=1", "B": "--dns 1.1.1.1", "C": "plain"}


def test_parse_environment_file_drops_a_trailing_comment():
    assert parse_environment_file("DOCKER_OPTS=--debug  # for the outage\n") == {"DOCKER_OPTS": "--debug"}


def test_parse_environment_file_skips_lines_that_are_not_assignments():
    text = "; comment\nnot an assignment\n1BAD=x\nGOOD=1\n"
    assert parse_environment_file(text) == {"GOOD": "1"}


def test_the_later_assignment_of_a_name_wins():
    assert parse_environment_file("DOCKER_OPTS=--debug\nDOCKER_OPTS=\n") == {"DOCKER_OPTS": ""}


def test_a_missing_environment_file_defines_nothing():
    assert parse_environment_file(None) == {}


def test_an_environment_file_read_from_disk(tmp_path):
    path = tmp_path / "docker"
    path.write_text(DEBIAN_DEFAULTS, encoding="utf-8")
    variables = parse_environment_file(path.read_text(encoding="utf-8"))
    assert expand(exec_start([DEBIAN_UNIT]), variables) == [
        "/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock",
        "--dns", "8.8.8.8", "--dns", "8.8.4.4"]


# --- expand -------------------------------------------------------------------

def test_a_whole_word_variable_splits_into_words():
    assert expand(["dockerd", "$DOCKER_OPTS"], {"DOCKER_OPTS": "--dns 8.8.8.8  --debug"}) == [
        "dockerd", "--dns", "8.8.8.8", "--debug"]


def test_an_unset_whole_word_variable_disappears():
    assert expand(["dockerd", "$DOCKER_OPTS", "-D"], {}) == ["dockerd", "-D"]


def test_a_braced_variable_inside_a_word_substitutes():
    assert expand(["--data-root=${ROOT}/docker"], {"ROOT": "/srv"}) == ["--data-root=/srv/docker"]


def test_an_unset_braced_variable_inside_a_word_is_empty():
    assert expand(["--data-root=${ROOT}/docker"], {}) == ["--data-root=/docker"]


def test_a_braced_whole_word_stays_one_word():
    assert expand(["dockerd", "${DOCKER_OPTS}"], {"DOCKER_OPTS": "--dns 8.8.8.8"}) == ["dockerd", "--dns 8.8.8.8"]


def test_words_without_variables_are_unchanged():
    assert expand(["dockerd", "-H", "fd://"], {"DOCKER_OPTS": "-D"}) == ["dockerd", "-H", "fd://"]


# --- without_host_flags -------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    ["-H", "fd://"], ["-Hfd://"], ["-H=fd://"], ["--host", "fd://"], ["--host=fd://"],
])
def test_every_spelling_of_the_host_flag_is_taken_out(spelling):
    argv = ["/usr/bin/dockerd"] + spelling + ["--containerd=/run/containerd/containerd.sock"]
    assert without_host_flags(argv) == (["/usr/bin/dockerd", "--containerd=/run/containerd/containerd.sock"], ["fd://"])


def test_a_unix_socket_host_is_returned_whole():
    assert without_host_flags(["dockerd", "--host=unix:///x.sock"]) == (["dockerd"], ["unix:///x.sock"])


def test_several_hosts_are_returned_in_order():
    argv = ["dockerd", "-H", "fd://", "-H", "tcp://0.0.0.0:2376", "--host=unix:///run/alt.sock"]
    assert without_host_flags(argv) == (["dockerd"], ["fd://", "tcp://0.0.0.0:2376", "unix:///run/alt.sock"])


def test_a_grouped_short_flag_keeps_its_other_letters():
    assert without_host_flags(["dockerd", "-DH", "fd://", "--tls"]) == (["dockerd", "-D", "--tls"], ["fd://"])


def test_a_grouped_short_flag_with_the_host_attached():
    assert without_host_flags(["dockerd", "-DHfd://"]) == (["dockerd", "-D"], ["fd://"])


def test_a_group_with_an_unknown_letter_is_left_as_written():
    assert without_host_flags(["dockerd", "-xH", "fd://"]) == (["dockerd", "-xH", "fd://"], [])


def test_a_valued_letter_takes_the_rest_of_its_group_even_an_h():
    # -G takes a value: "-GHPC" is --group HPC, not -G plus -H.
    assert without_host_flags(["dockerd", "-GHPC", "-H", "fd://"]) == (["dockerd", "-GHPC"], ["fd://"])


def test_words_after_a_double_dash_are_kept_as_they_are():
    assert without_host_flags(["dockerd", "-H", "fd://", "--", "-H", "x"]) == (["dockerd", "--", "-H", "x"], ["fd://"])


def test_other_flags_and_the_unexpanded_variable_stay_in_order():
    argv = ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"]
    assert without_host_flags(argv) == (
        ["/usr/sbin/dockerd", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"], ["fd://"])


def test_no_host_flag_means_no_hosts():
    assert without_host_flags(["dockerd", "--debug"]) == (["dockerd", "--debug"], [])


def test_a_trailing_host_flag_without_value_is_dropped():
    assert without_host_flags(["dockerd", "-H"]) == (["dockerd"], [])


# --- quote_word / render_exec -------------------------------------------------

@pytest.mark.parametrize("word, written", [
    ("--debug", "--debug"),
    ("site=eu west", '"site=eu west"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("C:\\path", '"C:\\\\path"'),
    ("100%", "100%%"),
    ("cost$5", "cost$$5"),
    ("$DOCKER_OPTS", "$DOCKER_OPTS"),
    ("${DOCKER_OPTS}", "${DOCKER_OPTS}"),
    ("--data-root=${ROOT}", "--data-root=${ROOT}"),
    ("a;b", '"a;b"'),
    ("", '""'),
])
def test_quote_word(word, written):
    assert quote_word(word) == written


@pytest.mark.parametrize("argv", [
    ["/usr/bin/dockerd", "--label", "site=eu west"],
    ["/usr/bin/dockerd", "--label", 'quote"inside', "--label", "it's"],
    ["/usr/bin/dockerd", "--label", "back\\slash", "--label", "tab\there"],
    ["/usr/bin/dockerd", "--label=100%", "--label=%n", "--label=%%"],
    ["/usr/bin/dockerd", "--label=cost$5", "--label", "$ alone", "--label=$$"],
    ["/usr/sbin/dockerd", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"],
    ["/usr/bin/dockerd", "--data-root=${ROOT}/docker", "${EXTRA}"],
    ["/usr/bin/dockerd", "--label", ""],
])
def test_split_exec_reads_back_what_render_exec_writes(argv):
    assert split_exec(render_exec(argv)) == argv


def test_a_whole_word_variable_is_written_unquoted_for_systemd_to_split():
    assert render_exec(["/usr/sbin/dockerd", "$DOCKER_OPTS"]) == "/usr/sbin/dockerd $DOCKER_OPTS"


def test_a_unit_exec_start_survives_a_read_and_write():
    line = '/usr/bin/dockerd --data-root=${ROOT} --label "site=eu west" --label=cost$$5 $DOCKER_OPTS'
    assert render_exec(split_exec(line)) == line


# --- drop_in_without_host_flags -----------------------------------------------

def test_the_drop_in_resets_exec_start_and_runs_the_argv():
    argv, _hosts = without_host_flags(exec_start([DEBIAN_UNIT]))
    text = drop_in_without_host_flags(argv, "Managed by bulwark.hardening: listeners are in daemon.json")
    assert text == (
        "# Managed by bulwark.hardening: listeners are in daemon.json\n"
        "[Service]\n"
        "ExecStart=\n"
        "ExecStart=/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n")


def test_the_unit_with_the_drop_in_runs_dockerd_without_host_flags():
    argv, _hosts = without_host_flags(exec_start([DOCKER_CE_UNIT]))
    drop_in = drop_in_without_host_flags(argv, "bulwark")
    assert exec_start([DOCKER_CE_UNIT, drop_in]) == ["/usr/bin/dockerd", "--containerd=/run/containerd/containerd.sock"]
