# -*- coding: utf-8 -*-
"""Plain stand-ins for the host role's areas (host/*.py): the environment, commands and files.

Areas take what touches the machine as parameters (run, read); these give
them fixed answers, so a test says exactly what the host looks like:

    run = FakeRun({("auditctl", "-s"): (0, "enabled 1\\n", "")})
    plan = auditd.plan(..., run=run)
    assert run.calls == [["auditctl", "-s"]]
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.host.environment import HostEnvironment


def host_env(in_container=None, docker_installed=False, userns_remap=None, active_units=()):
    """A HostEnvironment: by default a plain host without Docker and without running units."""
    return HostEnvironment(in_container, docker_installed, userns_remap, frozenset(active_units))


class FakeRun(object):
    """run(argv) -> (rc, stdout, stderr), answering by the argv's first words; records every call.

    answers: {tuple of leading argv words: (rc, out, err) or function(argv) -> (rc, out, err)};
    the longest matching prefix wins; default answers everything else.
    """

    def __init__(self, answers=None, default=(0, "", "")):
        self.answers = dict(answers or {})
        self.default = default
        self.calls = []

    def __call__(self, argv):
        argv = list(argv)
        self.calls.append(argv)
        best = None
        for prefix in self.answers:
            if tuple(argv[:len(prefix)]) == tuple(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        answer = self.default if best is None else self.answers[best]
        return answer(argv) if callable(answer) else answer

    def commands(self):
        """The program names called, in order."""
        return [argv[0] for argv in self.calls]


def reader(files):
    """read(path) -> the text in files (a dict), or None: a host whose only files are those."""
    return files.get
