# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Spot values that look like secrets, and describe them without revealing them.

Two signals, either one is enough:
- the NAME says secret (DB_PASSWORD, apiKey, GITHUB_TOKEN, ...) and the value
  is a real value, not a pointer to one (a *_FILE path, a boolean flag);
- the VALUE looks like a secret whatever its name: a well-known token
  prefix, credentials inside a URL, or a long random-looking string (Shannon
  entropy per character, over several character classes).

Findings carry only the name, the length and the reason: the value itself
never leaves this module (describe() is the one way to print a finding).

Values that must be shown (a proxy URL in daemon.json, an audit's evidence)
go through the maskers instead: mask_text() hides the password of every
scheme://user:password@host URL in a string, mask_data() does the same for
every string inside a JSON-like structure, and url_passwords() lists the
passwords themselves, for a module's no_log_values.
"""

from __future__ import annotations

import math
import re

# Name words (after splitting on _ . - and camelCase) that mean "secret".
SECRET_WORDS = frozenset([
    "PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "APIKEY",
    "CREDENTIAL", "CREDENTIALS", "PRIVATEKEY", "ACCESSKEY", "SECRETKEY",
])
# Word pairs that mean "secret" only together (API_KEY, but not KEY alone).
SECRET_PAIRS = frozenset([("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY"), ("SECRET", "KEY"), ("AUTH", "KEY")])

# Names that point to or describe a secret rather than hold one.
REFERENCE_SUFFIXES = frozenset([
    "FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "HOST", "PORT", "TTL", "TIMEOUT", "EXPIRY",
    "EXPIRES", "LENGTH", "SIZE", "ENABLED", "TYPE", "HEADER", "NAME", "ID", "POLICY", "REQUIRED",
])
# Well-known names that merely contain a secret word.
NOT_SECRET_NAMES = frozenset(["PWD", "OLDPWD"])
FLAG_VALUES = frozenset(["", "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null", "changeme"])

KNOWN_TOKENS = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("Stripe key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
PLAIN_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_.~-]+$")
CAMEL = re.compile(r"([a-z0-9])([A-Z])")

# scheme://user:password@ anywhere in a text. The password runs to the LAST
# @ before the next whitespace or slash, as RFC 3986 and Go's url.Parse find
# the host (an unencoded @ in a password is common): too much is masked
# rather than too little. Quotes and brackets may sit inside it and end the
# run harmlessly, since the run backtracks to the last @.
URL_USERINFO = re.compile(r"(?P<before>[a-z][a-z0-9+.-]*://[^\s/:@]*:)(?P<password>[^\s/]+)@", re.IGNORECASE)
MASK = "********"

# Random-looking: at least this long, this many bits per character and this
# many character classes (lower, upper, digit, symbol). Hex digests and
# UUIDs stay below (two classes, or excluded), base64 keys do not.
MIN_RANDOM_LENGTH = 20
MIN_ENTROPY = 3.5
MIN_CHAR_CLASSES = 3


class SecretHit(object):
    """A secret-looking entry: its name, how long the value is, and why it was flagged."""

    __slots__ = ("name", "length", "reason")

    def __init__(self, name, length, reason):
        self.name = name
        self.length = length
        self.reason = reason

    def describe(self):
        return "%s=<masked, %d chars> (%s)" % (self.name, self.length, self.reason)


def name_words(name):
    """'dbPassword' -> ['DB', 'PASSWORD']; 'API.KEY' -> ['API', 'KEY']."""
    spaced = CAMEL.sub(r"\1_\2", name)
    return [word for word in re.split(r"[^A-Za-z0-9]+", spaced.upper()) if word]


def name_says_secret(name):
    words = name_words(name)
    if not words or name.upper() in NOT_SECRET_NAMES or words[-1] in REFERENCE_SUFFIXES:
        return False
    if any(word in SECRET_WORDS for word in words):
        return True
    return any(pair in SECRET_PAIRS for pair in zip(words, words[1:]))


def shannon_entropy(value):
    """Bits per character of the value's character distribution."""
    if not value:
        return 0.0
    counts = {}
    for character in value:
        counts[character] = counts.get(character, 0) + 1
    total = float(len(value))
    return -sum(count / total * math.log(count / total, 2) for count in counts.values())


def _char_classes(value):
    return sum([
        any(c.islower() for c in value), any(c.isupper() for c in value),
        any(c.isdigit() for c in value), any(not c.isalnum() for c in value),
    ])


def value_says_secret(value):
    """The reason a value looks like a secret by itself, or None."""
    for label, pattern in KNOWN_TOKENS:
        if pattern.search(value):
            return label
    if URL_CREDENTIALS.search(value):
        return "credentials in URL"
    if (len(value) >= MIN_RANDOM_LENGTH and TOKEN_CHARS.match(value) and not UUID.match(value)
            and _char_classes(value) >= MIN_CHAR_CLASSES and shannon_entropy(value) >= MIN_ENTROPY):
        return "high-entropy value (%.1f bits/char)" % shannon_entropy(value)
    return None


def check_entry(name, value):
    """A SecretHit when name=value looks like a secret, else None."""
    value = "" if value is None else str(value)
    by_value = value_says_secret(value)
    if by_value:
        return SecretHit(name, len(value), by_value)
    # By name alone, a pointer to the secret (a path, a plain URL) or a flag is not the secret itself.
    if name_says_secret(name) and value.strip().lower() not in FLAG_VALUES and not value.startswith("/") \
            and not PLAIN_URL.match(value):
        return SecretHit(name, len(value), "secret-like name")
    return None


def env_pairs(env):
    """[(name, value)] from Docker's ["NAME=value", ...] list."""
    pairs = []
    for entry in env or []:
        name, _sep, value = entry.partition("=")
        pairs.append((name, value))
    return pairs


def find_secrets(pairs, ignore=()):
    """SecretHits among (name, value) pairs, skipping pairs in ignore (e.g. inherited from the image)."""
    ignored = set(ignore)
    hits = []
    for name, value in pairs:
        if (name, value) in ignored:
            continue
        hit = check_entry(name, value)
        if hit:
            hits.append(hit)
    return hits


def url_passwords_in_text(text):
    """The passwords of the scheme://user:password@ URLs in one string, in order."""
    if "://" not in text:
        return []
    return [match.group("password") for match in URL_USERINFO.finditer(text)]


def mask_text(text):
    """text with the password of every scheme://user:password@ URL shown as ********.

    'http://user:secret@proxy:3128' -> 'http://user:********@proxy:3128': the
    user and the host stay readable, the password is gone whatever its length.
    Anything that is not a string is returned as it is.
    """
    if not isinstance(text, str) or "://" not in text:
        return text
    return URL_USERINFO.sub(lambda match: match.group("before") + MASK + "@", text)


WORDS = re.compile(r"(\s+)")
# Quotes and punctuation around a word in free text, not part of the value.
WORD_EDGES = "\"'`,;()[]{}<>"
MIN_KNOWN_SECRET = 4


def mask_free_text(text, known=()):
    """Free text (a container's log lines) with what looks secret shown as ********.

    Masked: URL passwords; every value of `known` (the secret values of the
    container's own environment, wherever they are printed); the value of
    each NAME=value word whose name or value looks secret; each word that
    looks like a token by itself (known token formats, random-looking text).
    """
    if not isinstance(text, str):
        return text
    text = mask_text(text)
    for value in sorted(set(known), key=len, reverse=True):
        if value and len(value) >= MIN_KNOWN_SECRET:
            text = text.replace(value, MASK)
    return "".join(part if part.isspace() else _mask_word(part) for part in WORDS.split(text))


def _mask_word(word):
    if MASK in word:  # a URL whose password is masked already
        return word
    name, sep, value = word.partition("=")
    if sep and name and value and check_entry(name.strip(WORD_EDGES), value.strip(WORD_EDGES)):
        return name + sep + MASK
    if value_says_secret(word.strip(WORD_EDGES)):
        return MASK
    return word


def _strings(data):
    """Every string inside a JSON-like structure: values, and keys of mappings."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            pending.extend(item)


def url_passwords(data):
    """The set of URL passwords found in any string inside data (a module's parameters, say).

    Made for AnsibleModule.no_log_values: Ansible then masks each of them
    wherever it appears in the module's output, the echoed arguments included.
    """
    found = set()
    for text in _strings(data):
        found.update(url_passwords_in_text(text))
    return found


def mask_data(data):
    """A copy of a JSON-like structure with mask_text() applied to every string, mapping keys included.

    dicts, lists and tuples are rebuilt as such (the input is never modified);
    numbers, booleans and None pass through, so every value keeps its JSON type.
    """
    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, dict):
        return dict((mask_text(key), mask_data(value)) for key, value in data.items())
    if isinstance(data, list):
        return [mask_data(item) for item in data]
    if isinstance(data, tuple):
        return tuple(mask_data(item) for item in data)
    return data
