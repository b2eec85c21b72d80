# -*- coding: utf-8 -*-
"""Unit tests for common.references: the one image reference parser and the forms built on it."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.common.references import (
    familiar_reference, parse_reference, split_repository,
)

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("reference, parsed, familiar", [
    ("nginx", ("docker.io", "library/nginx", None, None), "nginx:latest"),
    ("Index.Docker.io/nginx:1.25", ("docker.io", "library/nginx", "1.25", None), "nginx:1.25"),
    ("docker.io/library/nginx@" + DIGEST, ("docker.io", "library/nginx", None, DIGEST), "nginx@" + DIGEST),
    ("team/app:1@" + DIGEST, ("docker.io", "team/app", "1", DIGEST), "team/app:1@" + DIGEST),
    ("localhost:5000/library/app", ("localhost:5000", "library/app", None, None), "localhost:5000/library/app:latest"),
    ("Registry.Example.com/team/app:2", ("Registry.Example.com", "team/app", "2", None), "Registry.Example.com/team/app:2"),
])
def test_one_parser_gives_every_form(reference, parsed, familiar):
    assert parse_reference(reference) == parsed
    assert split_repository(reference) == parsed[:2]
    assert familiar_reference(reference) == familiar
