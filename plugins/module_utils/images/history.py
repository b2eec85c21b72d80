# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Secrets in an image's build history (`docker history` CreatedBy), found and described masked.

Every instruction leaves its text in the history: ENV NAME=value, ARG
NAME=value (BuildKit writes the build arguments a RUN used in front of it:
`RUN |1 TOKEN=abc /bin/sh -c ...`), and the RUN command lines themselves.
Anyone who can pull the image reads them, whatever later layers remove.

Each whitespace-separated word is checked: NAME=value words (and
--option=value) with common.secrets.check_entry, other words by their look
alone (known token formats, credentials in URLs, random-looking text).
Values that are shell expansions ($TOKEN, ${TOKEN}) are references, not
secrets. Then the whole text, for the secrets that span words (a JSON value
of an ENV, `--password X`, `db password: X`). Hits carry the variable name
(when the word has a plain name), the value's length and the reason, never
the value.
"""

from __future__ import annotations

import re

from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import (
    SecretHit, check_entry, secrets_in_text, value_says_secret,
)

WORD_EDGES = "\"'`,;()[]{}<>\\"
PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
NOP = re.compile(r"#\(nop\)\s+(?P<instruction>[A-Z]+)\b")
INSTRUCTION = re.compile(r"^(?P<instruction>[A-Z]+)\s")
# What a word that is not NAME=value is called in evidence: the word itself may be the secret.
UNNAMED = "<word>"


def instruction(command):
    """The Dockerfile instruction of a history entry: ENV, ARG, COPY, ... (RUN for plain shell commands)."""
    nop = NOP.search(command)
    if nop:
        return nop.group("instruction")
    found = INSTRUCTION.match(command)
    return found.group("instruction") if found else "RUN"


def word_hit(word):
    """A SecretHit for one word of a command, or None."""
    word = word.strip(WORD_EDGES)
    if not word:
        return None
    name, sep, value = word.partition("=")
    option = name.lstrip("-")
    if sep and "://" not in name and PLAIN_NAME.match(option):
        value = value.strip(WORD_EDGES)
        if not value or value.startswith("$"):
            return None
        return check_entry(option, value)
    reason = value_says_secret(word)
    return SecretHit(UNNAMED, len(word), reason) if reason else None


def command_hits(command):
    """SecretHits of one history entry's CreatedBy text."""
    hits, flagged = [], []
    for word in (command or "").split():
        hit = word_hit(word)
        if hit is not None:
            hits.append(hit)
            flagged.append(word)
    for reason, secret in secrets_in_text(command or ""):
        if not any(secret in word for word in flagged):
            hits.append(SecretHit(UNNAMED, len(secret), reason))
    return hits


def history_secrets(history):
    """[(entry index, instruction, [SecretHit])] over `docker history` entries (newest first, index 0)."""
    found = []
    for index, layer in enumerate(history or []):
        command = str(layer.get("CreatedBy") or "")
        hits = command_hits(command)
        if hits:
            found.append((index, instruction(command), hits))
    return found


def describe(found, limit=5):
    """Evidence text for history_secrets() output: entry, instruction and masked hits."""
    shown = ["entry %d (%s): %s" % (index, name, ", ".join(hit.describe() for hit in hits))
             for index, name, hits in found[:limit]]
    more = ", ..." if len(found) > limit else ""
    return "; ".join(shown) + more
