# -*- coding: utf-8 -*-
"""The corpus of secrets and look-alikes (tests/unit/fixtures/secrets_corpus.yml) and the checks every output test makes.

    from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.secrets_corpus import SECRETS, LOOKALIKES, leaked, hidden_parts, masked_away

leaked(text, entry) lists the parts of a secret that text shows (each hidden part, and for a long one either
half of it, so that a secret cut short is caught too); masked_away(text, entry, shown_as) says whether a
look-alike is missing from text where the output echoes it.
"""

from __future__ import annotations

import os

import yaml

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "secrets_corpus.yml")

with open(FIXTURE, "r", encoding="utf-8") as _handle:
    CORPUS = yaml.safe_load(_handle)

SECRETS = CORPUS["secrets"]
LOOKALIKES = CORPUS["lookalikes"]
# YAML would make a date or a number of an unquoted value: every value is text, as in an environment.
assert all(isinstance(entry["value"], str) for entry in SECRETS + LOOKALIKES)
# Halves of a hidden part are checked from this length on (a shorter half is a common word or number).
HALF_CHECKED_FROM = 12


def ids(entries):
    return [entry["id"] for entry in entries]


def hidden_parts(entry):
    return list(entry.get("hidden") or [entry["value"]])


def line(entry):
    """The entry as NAME=value, the form an environment, a label list or a log line prints it in."""
    return "%s=%s" % (entry["name"], entry["value"])


def single_line(entries):
    return [entry for entry in entries if "\n" not in entry["value"]]


def leaked(text, entry):
    """The parts of the secret entry that text shows: [] when it shows none."""
    shown = []
    for part in hidden_parts(entry):
        pieces = [part]
        if len(part) >= HALF_CHECKED_FROM:
            pieces += [part[:len(part) // 2], part[len(part) // 2:]]
        shown.extend(piece for piece in pieces if piece in text)
    return shown


def lost(text, entry):
    """The parts of a secret entry that must stay readable (a URL's user and host) but text lacks."""
    return [part for part in entry.get("shown") or [] if part not in text]
