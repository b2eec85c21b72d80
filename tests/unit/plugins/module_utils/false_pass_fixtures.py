# -*- coding: utf-8 -*-
"""Real inputs behind the false-pass tests (issue 20), captured on Docker 20.10.24 (Debian 12's docker.io).

false_passes.json: `docker inspect` of containers made for these tests (the
GraphDriver section left out), keyed by name without the bwfp- prefix:

- allow-reboot, empty-names, other-arch: `--security-opt seccomp=<file>` with
  profiles whose default action allows everything and whose one rule refuses
  reboot only, names nothing, or refuses only on arm64;
- hardened-profile: `--security-opt seccomp=` the docker_daemon role's profile;
- hostnet-donor (--network host) and net-joiner (--network container:
  hostnet-donor), net-joiner2 (--network container:net-joiner); hostpid-donor
  (--pid host --ipc host) and pid-joiner (--pid and --ipc container:
  hostpid-donor): dockerd stores the donor's full id;
- nnp (--security-opt no-new-privileges) and plain (no option).

proc/status-<name>.txt: /proc/<State.Pid>/status of nnp, plain and pid-joiner.
debian12-docker.socket: /lib/systemd/system/docker.socket of Debian 12's docker.io.
"""

from __future__ import annotations

import os

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ContainerView

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import FIXTURES, load, patched, unit_fixture

ROLE_PROFILE = os.path.join(FIXTURES, "..", "..", "..", "roles", "docker_daemon", "files", "seccomp-hardened.json")


def inspect(name, changes=None):
    return patched(load("false_passes.json")[name], changes)


def real_container(name, changes=None):
    return ContainerView(inspect(name, changes))


def proc_status(name):
    return unit_fixture(os.path.join("proc", "status-%s.txt" % name))


def role_profile_text():
    with open(ROLE_PROFILE, "r", encoding="utf-8") as handle:
        return handle.read()
