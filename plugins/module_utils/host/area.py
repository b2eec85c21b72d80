# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""What one area of the host role plans, and how a plan is carried out.

Every area is planned before anything is changed, so a refusal in one area
(the SSH preflight, say) stops the run with nothing written. A plan is plain
data: whole files (textfiles.FileChange), then actions (a command, or a
Python call), plus what the operator should read (notes) and report data.
A plan may carry a validation that runs after its files are written and
before its actions: when it fails, the files are put back.
"""

from __future__ import annotations

import collections

from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles

# argv: a command to run; call: a function of no arguments. One of the two.
Action = collections.namedtuple("Action", ["description", "argv", "call"])


def command(description, *argv):
    return Action(description, list(argv), None)


def python_call(description, function):
    return Action(description, None, function)


class HostChangeError(Exception):
    """A change was refused or failed; the message says what and what was put back."""


class AreaPlan(object):
    """One area's plan. skipped: why nothing is done (None when the area applies)."""

    def __init__(self, name):
        self.name = name
        self.files = []
        self.actions = []
        self.notes = []
        self.skipped = None
        self.missing_packages = []
        self.report = {}
        self.validate = None  # function() -> error text or None, after files, before actions

    @property
    def changed(self):
        return any(change.changed for change in self.files) or bool(self.actions)

    def skip(self, reason):
        self.skipped = reason
        self.files, self.actions = [], []
        return self

    def summary(self):
        """What the module returns for this area."""
        return dict(
            changed=self.changed,
            skipped=self.skipped,
            changes=[change.describe() for change in self.files if change.changed]
            + [action.description for action in self.actions],
            notes=list(self.notes),
            missing_packages=list(self.missing_packages),
            report=self.report,
        )


def run_checked(run, argv, what):
    """Run argv through run(argv) -> (rc, stdout, stderr); HostChangeError when it fails."""
    rc, out, err = run(argv)
    if rc != 0:
        raise HostChangeError("%s: `%s` failed (exit %s): %s" % (what, " ".join(argv), rc, (err or out).strip()))
    return out


def carry_out(plan, run):
    """Write the plan's files, validate, then run its actions in order."""
    written = [change for change in plan.files if change.changed]
    for change in written:
        textfiles.apply(change)
    if plan.validate is not None and written:
        error = plan.validate()
        if error:
            for change in written:
                textfiles.restore(change)
            raise HostChangeError("%s: %s; the previous files were put back (%s)"
                                  % (plan.name, error, ", ".join(change.path for change in written)))
    try:
        for action in plan.actions:
            if action.argv:
                run_checked(run, action.argv, plan.name)
            else:
                error = action.call()
                if error:
                    raise HostChangeError("%s: %s" % (plan.name, error))
    except HostChangeError as error:
        if not written:
            raise
        # The files stay: they are whole and valid; the operator must know they are in place.
        raise HostChangeError("%s (this area's files were written: %s)"
                              % (error, ", ".join(change.path for change in written)))
