# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Expiry dates as operators write them (YYYY-MM-DD), read one way.

Audit waivers (audit/waivers.py) and remediation exemptions
(remediate/policy.py) both end on such a date; both read it here, so a date
one accepts the other accepts too. Each caller words its own error.
"""

from __future__ import annotations

import datetime

DATE_FORMAT = "%Y-%m-%d"


def parse_day(value):
    """The datetime.date of YYYY-MM-DD text, or the date itself when YAML already made it one; ValueError otherwise.

    A datetime (YAML's timestamp with a time of day) is not a day: it is read as text, and refused.
    """
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.strptime(str(value), DATE_FORMAT).date()
