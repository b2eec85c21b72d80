# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Text from outside (file names in images, host names, labels) made safe to show and to carry.

ansible-core refuses a module result holding a lone surrogate (what Python
makes of an undecodable byte), XML 1.0 cannot carry most control characters
even escaped, and control or bidirectional-override characters in a report
or a terminal can hide or rewrite what is shown. escape_unprintable() turns
each such character into a visible backslash escape: an undecodable byte as
\\xNN, a control character as \\xNN, a bidirectional control as \\uNNNN. Every
other character, any script, stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Characters shown as escapes: C0 controls and DEL, C1 controls, lone surrogates (undecodable bytes kept by
# surrogateescape, or broken input), the two non-characters XML forbids, and the bidirectional controls.
_UNPRINTABLE = re.compile(u"[\u0000-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff"
                          u"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The same, sparing tab, line feed and carriage return: free text (evidence, summary lines) keeps its lines.
_UNPRINTABLE_BUT_WHITESPACE = re.compile(u"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff"
                                         u"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match):
    code = ord(match.group(0))
    if 0xdc80 <= code <= 0xdcff:  # surrogateescape's form of the undecodable byte code - 0xdc00
        return "\\x%02x" % (code - 0xdc00)
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def escape_unprintable(text, keep_whitespace=False):
    """text with every unprintable character as a backslash escape (see the module doc); str() of anything else."""
    pattern = _UNPRINTABLE_BUT_WHITESPACE if keep_whitespace else _UNPRINTABLE
    return pattern.sub(_escape, text if isinstance(text, str) else str(text))


def name_from_bytes(raw):
    """A name given as bytes (a tar member name), decoded as UTF-8 with every other byte escaped."""
    return escape_unprintable(raw.decode("utf-8", "surrogateescape"))


def is_printable(text, keep_whitespace=False):
    """Whether text is a str that escape_unprintable() leaves as it is."""
    return isinstance(text, str) and escape_unprintable(text, keep_whitespace) == text


def clean_data(value):
    """A copy of JSON-like data (dicts, lists, scalars) with every string made printable: values keep their tab
    and line breaks (free text), keys do not (names: one line each)."""
    if isinstance(value, Mapping):  # a dict, or a mapping Ansible made of a registered result
        return dict((escape_unprintable(key) if isinstance(key, str) else key, clean_data(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [clean_data(item) for item in value]
    if isinstance(value, str):
        return escape_unprintable(value, keep_whitespace=True)
    return value
