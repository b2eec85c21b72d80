# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The one secret recogniser: what is a secret, why, and the text with every secret masked.

The audit rules (BW-001, BW-002, BW-003, BW-011, 4.10, the layer scan) ask it whether a name=value is a
secret; the masking layer (common.masking) masks every module's output with it. Secrets are judged by
what a value IS, never by how random it looks alone:

- by FORM, whatever the name: a private key block; a password in a URL (the user and host stay
  readable); a known token format (cloud keys, GitHub/GitLab/Slack/npm/PyPI/Docker Hub/Vault tokens,
  JWTs, Swarm join tokens); a webhook URL of Slack, Discord, Teams or Google Chat; an Authorization
  header; an htpasswd hash (Traefik basicauth.users); base64 of user:password (docker config `auth`,
  .npmrc `_auth`); a base64 private key; a password INSIDE the value under a secret key (key=value,
  JSON, connection strings, -Dx.password=, --password X, .pypirc, .netrc); or a random-looking token
  (mixed case and digits without the structure of words) that is none of the public things below;
- by NAME (DB_PASSWORD, apiKey, AWS_SECRET_ACCESS_KEY, ...): a real value, not a pointer to one (a
  path, a plain URL, a $VARIABLE), a flag or empty.

Never secrets by their look: paths and lists of paths, URLs without credentials, versions, hex digests
(commits, image ids, fingerprints), algorithm-prefixed digests (sha256:..., sha384-...), UUIDs, public
keys and certificates, base64 of images. A finding says why - the kind, the key name, the length -
never the value: SecretHit.describe() is the one way to print one.

Masking keeps what must stay readable: `http://user:********@proxy:3128`, `password=********`,
`"password": "********"`, `Authorization: Basic ********`, `admin:********`,
`https://hooks.slack.com/services/********`, the BEGIN and END lines of a key.
"""

from __future__ import annotations

import base64
import binascii
import math
import re

MASK = "********"

# --- names ---------------------------------------------------------------------------------------

# Name words (after splitting on _ . - and camelCase) that mean "secret", and what they are called in evidence.
SECRET_WORDS = {
    "PASSWORD": "password", "PASSWORDS": "password", "PASSWD": "password", "PASS": "password", "PWD": "password",
    "PASSPHRASE": "passphrase", "PASSCODE": "password", "SECRET": "secret", "SECRETS": "secret", "TOKEN": "token",
    "TOKENS": "token", "AUTHTOKEN": "token", "ACCESSTOKEN": "token", "APIKEY": "API key", "APITOKEN": "token",
    "CREDENTIAL": "credentials", "CREDENTIALS": "credentials", "CREDS": "credentials", "PRIVATEKEY": "private key",
    "ACCESSKEY": "access key", "SECRETKEY": "secret key", "BASICAUTH": "basic-auth user list",
    "HTPASSWD": "password hash",
}
# Word pairs that mean "secret" only together (API_KEY, but not KEY alone).
SECRET_PAIRS = {
    ("API", "KEY"): "API key", ("PRIVATE", "KEY"): "private key", ("ACCESS", "KEY"): "access key",
    ("SECRET", "KEY"): "secret key", ("AUTH", "KEY"): "auth key", ("APP", "KEY"): "application key",
    ("ACCOUNT", "KEY"): "account key", ("MASTER", "KEY"): "master key", ("ENCRYPTION", "KEY"): "encryption key",
    ("SIGNING", "KEY"): "signing key", ("LICENSE", "KEY"): "license key", ("SHARED", "KEY"): "shared key",
}
# Words that mean "secret" as the last word only: `_auth` (.npmrc), `auth` (docker config), `sig` (Azure SAS).
SECRET_LAST_WORDS = {"AUTH": "auth credentials", "SIG": "signature", "SIGNATURE": "signature"}
# A name ending in one of these points to or describes a secret rather than holds one.
REFERENCE_SUFFIXES = frozenset([
    "FILE", "FILES", "PATH", "DIR", "URL", "URI", "ENDPOINT", "HOST", "PORT", "TTL", "TIMEOUT", "EXPIRY", "EXPIRES",
    "EXPIRATION", "LENGTH", "LEN", "SIZE", "ENABLED", "DISABLED", "TYPE", "HEADER", "NAME", "ID", "IDS", "POLICY",
    "REQUIRED", "VERSION", "ALGORITHM", "ALG", "METHOD", "MODE", "FORMAT", "ISSUER", "AUDIENCE", "SCOPE", "SCOPES",
    "REALM", "USER", "USERNAME", "LOGIN", "EMAIL", "PROVIDER", "BACKEND", "SOURCE", "LOCATION", "PREFIX", "SECONDS",
    "MINUTES", "HOURS", "DAYS", "AGE", "WARN", "LIFETIME", "INTERVAL", "COUNT", "MIN", "MAX", "LIMIT", "ROUNDS", "TRIES",
    "RETRIES", "ATTEMPTS", "STDIN", "COMMAND", "CMD",
])
WEBHOOK_WORD = "WEBHOOK"
FLAG_VALUES = frozenset(["", "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null", "nil", "enabled",
                         "disabled", "required", "optional"])
CAMEL = re.compile(r"([a-z0-9])([A-Z])")
SPLIT_WORDS = re.compile(r"[^A-Za-z0-9]+")


def name_words(name):
    """'dbPassword' -> ['DB', 'PASSWORD']; 'API.KEY' -> ['API', 'KEY']."""
    return [word for word in SPLIT_WORDS.split(CAMEL.sub(r"\1_\2", name).upper()) if word]


def secret_name_kind(name):
    """What the name says the value is ('password', 'API key', ...), or None when it says no secret."""
    words = name_words(name)
    if not words or words[-1] in REFERENCE_SUFFIXES:
        return None
    for word in words:
        if word in SECRET_WORDS:
            return SECRET_WORDS[word]
    for pair in zip(words, words[1:]):
        if pair in SECRET_PAIRS:
            return SECRET_PAIRS[pair]
    return SECRET_LAST_WORDS.get(words[-1])


def name_says_secret(name):
    return secret_name_kind(name) is not None


def webhook_name(name):
    return WEBHOOK_WORD in name_words(name)


_NAMES = {}


def name_meaning(name):
    """(secret_name_kind(name), webhook_name(name)), remembered: results and inspect data repeat their keys."""
    meaning = _NAMES.get(name)
    if meaning is None:
        if len(_NAMES) >= CACHE_SIZE:
            _NAMES.clear()
        meaning = _NAMES[name] = (secret_name_kind(name), webhook_name(name))
    return meaning


# --- what a value means: the public things that only look like secrets -----------------------------

ABSOLUTE_PATH = re.compile(r"^(?:~|\.{1,2})?/(?!/)\S*$")
WINDOWS_PATH = re.compile(r"^[A-Za-z]:\\\S*$")
RELATIVE_PATH = re.compile(r"^[\w.@+-]+(?:/[\w.@+-]+)+/?$")
PLAIN_URL = re.compile(r"^(?:jdbc:)?[A-Za-z][A-Za-z0-9+.-]*://\S*$")
REFERENCE = re.compile(r"^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*.*|\{\{.*\}\}|%\([A-Za-z_]+\)s|<[^<>]*>|\*+|\[?REDACTED\]?)$", re.S)
HEX = re.compile(r"^(?:0x)?[0-9a-fA-F]{7,}$")
DIGEST = re.compile(r"^(?:sha1|sha224|sha256|sha384|sha512|md5|blake2b|h1)[:-][A-Za-z0-9+/=_-]{16,}$", re.IGNORECASE)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
VERSION = re.compile(r"^v?\d+(?:\.\d+)+(?:[-+~_.][0-9A-Za-z.+~_-]*)?$")


def is_path(value):
    """An absolute, home or relative path, or a : separated list of them (PATH, PYTHONPATH)."""
    if ABSOLUTE_PATH.match(value) or WINDOWS_PATH.match(value):
        return True
    if ":" in value and "://" not in value:
        parts = [part for part in value.split(":") if part]
        return bool(parts) and all(ABSOLUTE_PATH.match(part) for part in parts)
    return bool(RELATIVE_PATH.match(value)) and not any(_random_looking(part) for part in value.split("/"))


def is_pointer(value, webhook=False):
    """A value that stands for a secret without being one: empty, a flag, a $VARIABLE or placeholder,
    masked already, a path, a URL without credentials (but a webhook's URL is its secret)."""
    stripped = value.strip()
    if stripped.lower() in FLAG_VALUES or REFERENCE.match(stripped) or MASK in stripped:
        return True
    if ABSOLUTE_PATH.match(stripped) or WINDOWS_PATH.match(stripped):
        return True
    return not webhook and bool(PLAIN_URL.match(stripped)) and not URL_USERINFO.search(stripped)


def _case_switches(core):
    """How often neighbouring letters and digits change class (lower, upper, digit), per character."""
    def kind(character):
        return 0 if character.islower() else 1 if character.isupper() else 2
    switches = sum(1 for left, right in zip(core, core[1:]) if kind(left) != kind(right))
    return switches / float(max(len(core) - 1, 1))


def shannon_entropy(value):
    """Bits per character of the value's character distribution."""
    if not value:
        return 0.0
    counts = {}
    for character in value:
        counts[character] = counts.get(character, 0) + 1
    total = float(len(value))
    return -sum(count / total * math.log(count / total, 2) for count in counts.values())


# A random token: this many letters and digits, all three of lower, upper and digit, the class changing
# often (words, CamelCase and acronyms change rarely), and no repetitive text.
MIN_RANDOM_CORE = 16
MIN_SWITCHES = 0.3
MIN_ENTROPY = 3.5
ALNUM = re.compile(r"[A-Za-z0-9]")


# A name's parts (containers, pods, hosts: hC-sbs-021-bind-lib64-rw, k8s_POD_nginx-7d9f8b6c5-x2x9z_default).
NAME_SEPARATORS = re.compile(r"[-_.]+")
MAX_MIXED_NAME_PART = 5


def _mixes_every_class(text):
    return any(c.islower() for c in text) and any(c.isupper() for c in text) and any(c.isdigit() for c in text)


def _name_like(word):
    """Whether a word is a name of parts between separators, each part a word or a number, or too short to
    be random by itself (v4, lib64, myApp): a random token cut by separators has long parts that mix lower,
    upper and digits."""
    parts = [part for part in NAME_SEPARATORS.split(word) if part]
    return len(parts) > 1 and all(len(part) <= MAX_MIXED_NAME_PART or not _mixes_every_class(part) for part in parts)


def _random_looking(word):
    core = "".join(ALNUM.findall(word))
    if len(core) < MIN_RANDOM_CORE or not _mixes_every_class(core) or _name_like(word):
        return False
    return _case_switches(core) >= MIN_SWITCHES and shannon_entropy(core) >= MIN_ENTROPY


# --- base64 by meaning -----------------------------------------------------------------------------

BASE64 = re.compile(r"^[A-Za-z0-9+/]{12,}={0,2}$|^[A-Za-z0-9_-]{12,}={0,2}$")
USER_PASSWORD = re.compile(r"^[\x21-\x39\x3b-\x7e]{1,128}:[\x20-\x7e]{1,256}$")
# Magic numbers of public data people put in base64: images, documents, archives, SSH public keys.
PUBLIC_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"\x1f\x8b", b"PK\x03\x04", b"RIFF", b"<svg", b"<?xml",
                b"\x00\x00\x00\x07ssh-", b"\x00\x00\x00\x0bssh-", b"\x00\x00\x00\x13ecdsa-", b"\x00\x00\x00\x0bsk-")


def _decoded(word):
    if not BASE64.match(word):
        return None
    text = word.rstrip("=")
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _openpgp_public_key(data):
    """An OpenPGP public key packet (an exported public key): its tag, then the key version 4 or 5."""
    if len(data) > 3 and data[0] == 0x99:  # old format, two length bytes
        return data[3] in (4, 5)
    if len(data) > 3 and data[0] == 0xc6:  # new format, one or two length bytes
        return data[2 if data[1] < 192 else 3] in (4, 5)
    return False


def _der_header_end(data):
    """Where the content of a DER SEQUENCE starts, or None."""
    if len(data) < 4 or data[0] != 0x30:
        return None
    if data[1] < 0x80:
        return 2
    return 2 + (data[1] & 0x7f) if (data[1] & 0x7f) <= 3 else None


def base64_meaning(word):
    """('secret', reason) or ('public', what) for base64 whose content says what it is; None otherwise."""
    data = _decoded(word)
    if not data:
        return None
    if data.startswith(PUBLIC_MAGIC) or _openpgp_public_key(data):
        return "public", "base64 of public data"
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = None
    if text is not None and USER_PASSWORD.match(text):
        return "secret", "base64 of user:password (basic auth)"
    start = _der_header_end(data)
    if start is not None and start < len(data):
        # PKCS#1 and PKCS#8 private keys start with a version INTEGER, certificates and public keys with a SEQUENCE.
        if data[start] == 0x02:
            return "secret", "private key (base64 DER)"
        if data[start] == 0x30:
            return "public", "certificate or public key (base64 DER)"
    return None


# --- the forms of secrets in text ----------------------------------------------------------------

PRIVATE_BLOCK = re.compile(r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)(.*?)"
                           r"(-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)", re.S)
PUBLIC_BLOCK = re.compile(r"-----BEGIN (?:CERTIFICATE|TRUSTED CERTIFICATE|CERTIFICATE REQUEST|X509 CRL|PUBLIC KEY|"
                          r"RSA PUBLIC KEY|PGP PUBLIC KEY BLOCK|PGP SIGNATURE|SSH2 PUBLIC KEY)-----.*?"
                          r"(?:-----END [A-Z0-9 ]+-----|$)", re.S)
# scheme://user:password@ anywhere in a text. The password runs to the LAST @ before the next whitespace
# or slash, as RFC 3986 and Go's url.Parse find the host (an unencoded @ in a password is common); a
# password with an unencoded / (no @ in it then) is the second form. What follows a host:port is a path.
URL_USERINFO = re.compile(r"(?P<before>(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://[^\s/:@?#\"'<>]*:)"
                          r"(?P<password>[^\s/]+|(?:[^\s/@]|/(?!/))+)@")
PORT_THEN_PATH = re.compile(r"^\d{1,5}(?:[/?#]|$)")
WEBHOOKS = re.compile(
    r"(?P<slack>https://hooks\.slack\.com/(?:services|workflows|triggers)/)"
    r"|(?P<discord>https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/webhooks/)"
    r"|(?P<teams>https://[A-Za-z0-9.-]+\.webhook\.office\.com/webhookb2/|https://outlook\.office(?:365)?\.com/webhook/)"
    r"|(?P<chat>https://chat\.googleapis\.com/v1/spaces/)")
WEBHOOK_KINDS = {"slack": "Slack webhook URL", "discord": "Discord webhook URL", "teams": "Teams webhook URL",
                 "chat": "Google Chat webhook URL"}
URL_REST = re.compile(r"[^\s\"'<>]+")
TOKEN_FORMATS = (
    ("AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[0-9A-Z]{16}(?![0-9A-Za-z])"),
    ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("Google OAuth access token", r"\bya29\.[0-9A-Za-z_-]{20,}"),
    ("JSON web token", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"),
    ("GitLab token", r"\bgl(?:pat|dt|rt|ptt|ft|cbt|imt|soat|oas)-[A-Za-z0-9_-]{20,}"),
    ("Slack token", r"\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})"),
    ("Stripe key", r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("API key (sk-)", r"\bsk-(?:proj-|ant-|svcacct-)?(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{32,}"),
    ("npm token", r"\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    ("PyPI token", r"\bpypi-[A-Za-z0-9_-]{50,}"),
    ("Docker Hub access token", r"\bdckr_pat_[A-Za-z0-9_-]{20,}"),
    ("SendGrid key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    ("Vault token", r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}"),
    ("Docker Swarm join token", r"\bSWMTKN-1-[a-z0-9]{40,}-[a-z0-9]{20,}"),
    ("application key (base64:)", r"\bbase64:[A-Za-z0-9+/]{32,}={0,2}"),
)
TOKENS = re.compile("|".join("(?P<t%d>%s)" % (index, pattern) for index, (_kind, pattern) in enumerate(TOKEN_FORMATS)))
AUTH_HEADER = re.compile(r"(?i)(?P<before>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
                         r"(?:(?:basic|bearer|digest|token|negotiate|ntlm|apikey|sso-key)\s+)?)(?P<credential>[^\s\"',;]+)")
AUTH_SCHEME = re.compile(r"(?P<before>\b(?:Basic|Bearer|BASIC|BEARER|basic|bearer)\s+)(?P<credential>[A-Za-z0-9+/=._~-]{8,})")
PLAIN_WORD = re.compile(r"^[A-Za-z][a-z]*$")
# htpasswd lines (Traefik basicauth.users, nginx): user:hash; Compose files double every $.
HTPASSWD = re.compile(r"(?<![\w$])(?P<before>[A-Za-z0-9_.@-]+:)"
                      r"(?P<hash>\$\$?(?:apr1|2[abxy]?|1|5|6|7|y)\$\$?[./A-Za-z0-9$]{8,}|\{SHA\}[A-Za-z0-9+/]{27}=)")
NETRC = re.compile(r"(?i)(?P<before>\b(?:login|user)\s+\S+\s+(?:password|passwd)\s+)(?P<password>\S+)")
# Cheap test for every form above but the random words: most text has none of them.
STRUCTURED = re.compile(r"(?i:pass|pwd|secret|token|key|cred|auth|sig|hook|bearer|basic)|://|-----BEGIN|\$\$?(?:apr1|2[abxy]?|[1567y])\$"
                        r"|\{SHA\}|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|AIza|ya29\.|eyJ|gh[pousr]_|github_pat_"
                        r"|gl[a-z]{1,4}-|xox|xapp-|_live_|_test_|sk-|npm_|pypi-|dckr_pat_|SG\.|hv[sbr]\.|SWMTKN|base64:")

# key=value, key: value, "key": "value", --key value: the key is found from a secret stem in it.
STEM = re.compile(r"(?i)pass|pwd|secret|token|key|cred|auth|sig|hook")
KEY_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
ASSIGNMENT = re.compile(r"\\?[\"']?[ \t]*[:=][ \t]*")
# A value: a reference to one ($VAR, ${VAR}, $(command), {{ template }}), a quoted string (also in escaped JSON), or a word.
VALUE = re.compile(r"(?P<reference>\$\{[^}\s]*\}|\$\([^)\s]*\)?|\{\{[^}]*\}\})"
                   r"|\\\"(?P<escaped>(?:[^\"\\]|\\[^\"])*)\\\"|\"(?P<double>(?:[^\"\\]|\\.)*)\"|'(?P<single>[^'\n]*)'"
                   r"|(?P<bare>[^\s\"'`<>{}\[\];]+)")
OPTION_VALUE = re.compile(r"[ \t]+(?P<bare>[^\s\"'`<>{}\[\];-][^\s\"'`<>;]*)")
# Words the random and base64 checks look at (a path or a URL's path is one word: its parts are judged together).
CANDIDATE = re.compile(r"[A-Za-z0-9+/_.~-]{12,}={0,2}")
AWS_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9/+]{40}$")


def _word_reason(word):
    """Why a word of free text is a secret by its look alone, or None (public things are never secrets)."""
    if word.startswith("//"):
        return None  # the host and path of a URL: public (credentials and webhooks are found before)
    meaning = base64_meaning(word)
    if meaning is not None:
        return meaning[1] if meaning[0] == "secret" else None
    if AWS_SECRET_SHAPE.match(word) and any(c.islower() for c in word) and any(c.isupper() for c in word) \
            and any(c.isdigit() for c in word):
        return "40 base64 characters (the form of an AWS secret access key)"
    if HEX.match(word) or DIGEST.match(word) or UUID.match(word) or VERSION.match(word) or is_path(word):
        return None
    if _random_looking(word):
        return "random-looking token (%d characters of mixed case and digits)" % len(word)
    return None


class _Scan(object):
    """One pass over a text: the text with every secret masked, and (when asked) what was found."""

    def __init__(self, record=None):
        self.record = record  # callable(reason, secret) or None

    def found(self, reason, secret):
        if self.record is not None:
            self.record(reason, secret)

    def run(self, text):
        if STRUCTURED.search(text):
            text = PRIVATE_BLOCK.sub(self._private_block, text)
            if "://" in text:
                text = URL_USERINFO.sub(self._url_password, text)
                text = self._webhooks(text)
            text = TOKENS.sub(self._token, text)
            text = AUTH_HEADER.sub(self._credential, text)
            text = AUTH_SCHEME.sub(self._credential, text)
            text = HTPASSWD.sub(self._htpasswd, text)
            text = NETRC.sub(self._netrc, text)
            text = self._assignments(text)
        return self._words(text)

    def _private_block(self, match):
        self.found("private key (PEM)", match.group(2))
        return match.group(1) + MASK + match.group(3)

    def _url_password(self, match):
        password = match.group("password")
        if PORT_THEN_PATH.match(password) or MASK in password:
            return match.group(0)
        self.found("password in a %s URL" % match.group("scheme").lower(), password)
        return match.group("before") + MASK + "@"

    def _webhooks(self, text):
        parts, last = [], 0
        for match in WEBHOOKS.finditer(text):
            rest = URL_REST.match(text, match.end())
            if match.start() < last or rest is None or rest.group(0).startswith(MASK):
                continue
            self.found(WEBHOOK_KINDS[match.lastgroup], rest.group(0))
            parts.extend([text[last:match.end()], MASK])
            last = rest.end()
        return "".join(parts) + text[last:] if parts else text

    def _token(self, match):
        self.found(TOKEN_FORMATS[int(match.lastgroup[1:])][0], match.group(0))
        return MASK

    def _credential(self, match):
        credential = match.group("credential")
        if PLAIN_WORD.match(credential) or MASK in credential or len(credential) < 4:
            return match.group(0)
        self.found("credentials in an Authorization header", credential)
        return match.group("before") + MASK

    def _htpasswd(self, match):
        self.found("password hash (htpasswd)", match.group("hash"))
        return match.group("before") + MASK

    def _netrc(self, match):
        if MASK in match.group("password"):
            return match.group(0)
        self.found("password in a netrc line", match.group("password"))
        return match.group("before") + MASK

    def _assignments(self, text):
        """Mask the value of every key=value, key: value, "key": "value" and --key value whose key is secret."""
        parts, last, resume = [], 0, 0
        for stem in STEM.finditer(text):
            if stem.start() < resume:
                continue
            start, end = stem.start(), stem.end()
            while start > 0 and text[start - 1] in KEY_CHARACTERS:
                start -= 1
            while end < len(text) and text[end] in KEY_CHARACTERS:
                end += 1
            resume = end
            span = self._secret_value(text, start, end)
            if span is not None:
                parts.extend([text[last:span[0]], MASK])
                last = resume = span[1]
        return "".join(parts) + text[last:] if parts else text

    def _secret_value(self, text, start, end):
        """(start, end) of the secret value assigned to the key text[start:end], or None."""
        key = text[start:end]
        kind, webhook = name_meaning(key)
        if not kind and not webhook:
            return None
        assignment = ASSIGNMENT.match(text, end)
        if assignment and start > 0 and text[start - 1] in "/\\" and "=" not in assignment.group(0):
            return None  # `/etc/passwd: mode 0644` is a path and what is said of it, not a key and its value
        value = VALUE.match(text, assignment.end()) if assignment else None
        if value is None and key.startswith("-") and len(key) > 2:
            value = OPTION_VALUE.match(text, end)
        if value is None:
            return None
        group = value.lastgroup
        if group == "reference":
            return None  # $VARIABLE, ${VARIABLE}, $(command), {{ template }}: the secret is elsewhere
        value_start, value_end = value.span(group)
        if group == "bare":
            value_end = value_start + _bare_length(text[value_start:value_end], text[start - 1] if start else "")
        secret = text[value_start:value_end]
        # Punctuation after a bare word ends the sentence, not the value: `(PasswordAuthentication=no)` is a flag.
        if not secret or is_pointer(secret.rstrip(").,]}:"), webhook) or (not kind and not PLAIN_URL.match(secret)):
            return None
        self.found("%s under the key %s" % (kind or "webhook URL", key.strip("-")), secret)
        return value_start, value_end

    def _words(self, text):
        protected = [match.span() for match in PUBLIC_BLOCK.finditer(text)] if "-----BEGIN" in text else []
        parts, last = [], 0
        for match in CANDIDATE.finditer(text):
            word = match.group(0).strip(".-_~")
            if len(word) < 12 or any(start <= match.start() < end for start, end in protected):
                continue
            reason = _word_reason(word)
            if reason is None:
                continue
            self.found(reason, word)
            begin = match.start() + match.group(0).index(word)
            parts.extend([text[last:begin], MASK])
            last = begin + len(word)
        return "".join(parts) + text[last:] if parts else text


def _bare_length(value, before):
    """How much of an unquoted value is the value: a URL query value ends at &, a comma list's at the comma."""
    for separator, context in (("&", "?&"), (",", ",")):
        if before and before in context and separator in value:
            value = value.split(separator, 1)[0]
    return len(value)


# --- masking ------------------------------------------------------------------------------------------

MIN_KNOWN_SECRET = 4
CACHE_SIZE = 20000
SCALARS = (bool, int, float)


class Masker(object):
    """Masks texts and JSON-like data: every secret the recogniser finds, and every known secret value
    (the secrets among a module's arguments, the secret values of a container's environment) wherever
    it appears. Results are cached: module results repeat the same texts many times."""

    def __init__(self, known=()):
        self.known = sorted(set(value for value in known if isinstance(value, str) and len(value) >= MIN_KNOWN_SECRET),
                            key=len, reverse=True)
        self._known = re.compile("|".join(re.escape(value) for value in self.known)) if self.known else None
        self._cache = {}
        self._keys = {}

    def text(self, text):
        """text with every secret shown as ********; anything that is not a string is returned as it is."""
        shown = self._cache.get(text) if text.__class__ is str else None
        if shown is None:
            if not isinstance(text, str) or not text:
                return text
            shown = _Scan().run(self._known.sub(MASK, text) if self._known else text)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[text] = shown
        return shown

    def data(self, data):
        """A copy of JSON-like data with every string masked, mapping keys included; a string (or list of
        strings) under a secret key (password, api_key, ...) is masked whole unless it is a pointer (a
        path, a plain URL, a flag). Numbers, booleans and None pass through, so every value keeps its type.
        (Written for speed: an audit of a thousand containers returns tens of thousands of findings.)"""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return self._mapping(data)
        if isinstance(data, list):
            return [self.text(item) if item.__class__ is str else self.data(item) for item in data]
        if isinstance(data, tuple):
            return tuple(self.data(item) for item in data)
        return data

    def _mapping(self, data):
        shown = {}
        keys, cached = self._keys, self._cache
        for key, value in data.items():
            shown_key = keys.get(key) if key.__class__ is str else None
            if shown_key is None:
                if isinstance(key, str):
                    kind, webhook = name_meaning(key)
                    if kind or webhook:
                        shown[self.text(key)] = self._secret_entry(key, value, kind)
                        continue
                    shown_key = self.text(key)
                    if len(keys) < CACHE_SIZE:
                        keys[key] = shown_key  # a key that says nothing secret, as it is shown
                else:
                    shown_key = key
            if value.__class__ is str:
                masked = cached.get(value)
                shown[shown_key] = masked if masked is not None else self.text(value)
            elif value is None or value.__class__ in SCALARS:
                shown[shown_key] = value
            else:
                shown[shown_key] = self.data(value)
        return shown

    def _secret_entry(self, key, value, kind):
        """The value under a secret (or webhook) key: masked whole unless a pointer."""
        if webhook_url(key, value):
            return MASK
        if kind and isinstance(value, str) and not is_pointer(value):
            return MASK
        if kind and isinstance(value, (list, tuple)) and value and all(isinstance(item, str) for item in value):
            return type(value)(MASK if not is_pointer(item) else self.text(item) for item in value)
        return self.data(value)


DEFAULT_MASKER = Masker()


def masker_for(known=()):
    """The Masker for these known secret values; without any, the shared one, whose cache already holds what
    the audit's evidence was masked with (Finding.to_dict), so an audit's result is not scanned twice."""
    known = [value for value in known if isinstance(value, str) and len(value) >= MIN_KNOWN_SECRET]
    return Masker(known) if known else DEFAULT_MASKER


def mask_text(text, known=()):
    """text with every secret shown as ******** (see the module doc); known: secret values to mask too."""
    return masker_for(known).text(text)


def mask_free_text(text, known=()):
    """Free text (log lines, a health check's output) masked: mask_text()."""
    return mask_text(text, known)


def mask_data(data, known=()):
    """A copy of JSON-like data with every secret masked (see Masker.data); the input is never modified."""
    return masker_for(known).data(data)


# --- recognising: the audit rules' view ---------------------------------------------------------------

class SecretHit(object):
    """A secret-looking entry: its name, how long the value is, and why it was flagged."""

    __slots__ = ("name", "length", "reason")

    def __init__(self, name, length, reason):
        self.name = name
        self.length = length
        self.reason = reason

    def describe(self):
        return "%s=<masked, %d chars> (%s)" % (self.name, self.length, self.reason)


_FOUND = {}


def secrets_in_text(text):
    """[(reason, secret)] of every secret in a text, in the order found (for a caller that must say what it found
    without showing it: the length of each secret, never the secret); remembered, texts repeat."""
    if not isinstance(text, str) or not text:
        return []
    found = _FOUND.get(text)
    if found is None:
        found = []
        _Scan(lambda reason, secret: found.append((reason, secret))).run(text)
        if len(_FOUND) >= CACHE_SIZE:
            _FOUND.clear()
        _FOUND[text] = found
    return [(reason, secret) for reason, secret in found if secret]


def value_says_secret(value):
    """The reason a value is a secret by its form alone (whatever its name), or None."""
    if not isinstance(value, str) or not value:
        return None
    secrets_in_text(value)
    found = _FOUND.get(value)
    return found[0][0] if found else None


def check_entry(name, value):
    """A SecretHit when name=value is a secret, else None: by the value's form, or by the name when the
    value is a real value (not a path, a plain URL, a $VARIABLE, a flag or empty)."""
    value = "" if value is None else str(value)
    reason = value_says_secret(value)
    if reason:
        return SecretHit(name, len(value), reason)
    kind = name_meaning(name)[0]
    if kind and not is_pointer(value):
        return SecretHit(name, len(value), "%s by its name" % _with_article(kind))
    if webhook_url(name, value):
        return SecretHit(name, len(value), "a webhook URL by its name")
    return None


def _with_article(kind):
    return ("an " if kind[0].lower() in "aeiou" else "a ") + kind


def webhook_url(name, value):
    """Whether value is the URL of a webhook by its name (ALERT_WEBHOOK_URL): its path is the secret."""
    return isinstance(value, str) and name_meaning(name)[1] and bool(PLAIN_URL.match(value.strip())) \
        and "/" in value.split("://", 1)[-1].rstrip("/")


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


def _strings(data):
    """Every (key, string) inside a JSON-like structure: values (with the key they sit under) and mapping keys."""
    pending = [(None, data)]
    while pending:
        key, item = pending.pop()
        if isinstance(item, str):
            yield key, item
        elif isinstance(item, dict):
            pending.extend((None, name) for name in item.keys())
            pending.extend((name, value) for name, value in item.items())
        elif isinstance(item, (list, tuple, set, frozenset)):
            pending.extend((key, value) for value in item)


def secret_values(data):
    """The secret values inside JSON-like data (a module's arguments): what each string holds that is a
    secret, and the strings under secret keys. For Masker(known) and AnsibleModule.no_log_values."""
    found = set()
    for key, text in _strings(data):
        if isinstance(key, str) and ((name_meaning(key)[0] and not is_pointer(text)) or webhook_url(key, text)):
            found.add(text)
        else:
            found.update(secret for _reason, secret in secrets_in_text(text))
    return found


def url_passwords_in_text(text):
    """The passwords of the scheme://user:password@ URLs in one string, in order."""
    if "://" not in text:
        return []
    return [match.group("password") for match in URL_USERINFO.finditer(text)
            if not PORT_THEN_PATH.match(match.group("password"))]


def url_passwords(data):
    """The set of URL passwords found in any string inside data (a module's parameters, say)."""
    found = set()
    for _key, text in _strings(data):
        found.update(url_passwords_in_text(text))
    return found
