# -*- coding: utf-8 -*-
"""Unit tests for common.dates: the one reader of the expiry dates of waivers and remediation exemptions."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.common.dates import parse_day


@pytest.mark.parametrize("value", ["2027-01-15", datetime.date(2027, 1, 15)])
def test_a_day_as_text_or_as_the_date_yaml_made(value):
    assert parse_day(value) == datetime.date(2027, 1, 15)


@pytest.mark.parametrize("value", ["2027-13-01", "15.01.2027", "2027-01-15T00:00:00", 20270115,
                                   datetime.datetime(2027, 1, 15, 12, 0)])
def test_anything_else_is_a_value_error(value):
    with pytest.raises(ValueError):
        parse_day(value)
