# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for dockerd's flag tables and argv parser (no Ansible, no Docker).

They live in plugins/module_utils/daemon_json.py, which must stay loadable as
a lone standard-library file; dockerd_config uses them from there.
"""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import BOOLEAN, OPTION_TYPES
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.flags import (
    BOOLEAN_FLAGS, FLAG_KEYS, LIST_KEYS, SHORT_FLAGS, go_bool, is_true, key_for, parse_flags,
)


@pytest.mark.parametrize("argv", [
    ["--host=fd://"], ["--host", "fd://"], ["-H", "fd://"], ["-Hfd://"], ["-H=fd://"],
])
def test_every_spelling_of_a_valued_flag(argv):
    [(_written, name, value)] = parse_flags(argv)
    assert (name, value) == ("host", "fd://")


def test_booleans_never_take_the_next_word():
    assert parse_flags(["--icc", "false", "--tlsverify", "-D", "x"]) == [
        ("--icc", "icc", None), ("--tlsverify", "tlsverify", None), ("-D", "debug", None)]


def test_boolean_values_after_equals():
    assert parse_flags(["--icc=false", "-D=false"]) == [("--icc", "icc", "false"), ("-D", "debug", "false")]


def test_grouped_short_flags():
    assert parse_flags(["-DH", "fd://", "-Dl", "warn"]) == [
        ("-D", "debug", None), ("-H", "host", "fd://"), ("-D", "debug", None), ("-l", "log-level", "warn")]


def test_unknown_letters_stop_reading_a_word():
    assert parse_flags(["-Dx", "-xD"]) == [("-D", "debug", None)]


def test_known_valued_flags_take_any_next_word():
    # As dockerd's flag parser does: "-Dl" is the label, not debug + log-level.
    assert parse_flags(["--label", "-Dl", "-l", "--x"]) == [("--label", "label", "-Dl"), ("-l", "log-level", "--x")]


def test_unknown_flags_leave_a_following_flag_alone():
    assert parse_flags(["--new-switch", "-H", "fd://", "--other", "--icc"]) == [
        ("--new-switch", "new-switch", None), ("-H", "host", "fd://"),
        ("--other", "other", None), ("--icc", "icc", None)]


def test_unknown_flags_take_a_value_that_is_not_a_flag():
    assert parse_flags(["--oom-score-adjust", "-500", "--userns-remap", "default"]) == [
        ("--oom-score-adjust", "oom-score-adjust", "-500"), ("--userns-remap", "userns-remap", "default")]


def test_non_flags_are_skipped_and_double_dash_ends_flags():
    assert parse_flags(["/usr/bin/dockerd", "$DOCKER_OPTS", "-", "-D", "--", "--icc"]) == [("-D", "debug", None)]


def test_a_valued_flag_at_the_end_has_no_value():
    assert parse_flags(["-H"]) == [("-H", "host", None)]


@pytest.mark.parametrize("name, key", [("host", "hosts"), ("graph", "data-root"), ("icc", "icc")])
def test_key_for(name, key):
    assert key_for(name) == key


def test_boolean_flags_cover_the_option_table_and_cli_only_switches():
    # Otherwise a boolean flag would swallow the next word as its value.
    assert {key for key, option in OPTION_TYPES.items() if option is BOOLEAN} <= BOOLEAN_FLAGS
    assert {"help", "validate", "version", "icc", "tlsverify"} <= BOOLEAN_FLAGS


def test_tables_agree():
    # A flag renamed in the file is a list or map flag, never a boolean.
    assert not set(FLAG_KEYS) & BOOLEAN_FLAGS
    assert "hosts" in LIST_KEYS and "data-root" not in LIST_KEYS
    assert SHORT_FLAGS["H"] == "host"


@pytest.mark.parametrize("value, expected", [
    (None, True), ("true", True), ("1", True), ("T", True), ("FALSE", False), ("no", False),
    # Go's ParseBool refuses these, so they are not true (the old table took "yes").
    ("yes", False), ("on", False), ("tRUE", False),
])
def test_is_true(value, expected):
    assert is_true(value) is expected


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_go_bool_true_spellings(text):
    assert go_bool(text) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_go_bool_false_spellings(text):
    assert go_bool(text) is False


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "y", "tRUE", "fAlse", "", " true", "2", None, 1])
def test_go_bool_refuses_what_parsebool_refuses(text):
    assert go_bool(text) is None
