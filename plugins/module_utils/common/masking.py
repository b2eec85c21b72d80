# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The one masking layer: everything a module or action plugin of this collection prints passes through it.

Every module builds a MaskedModule instead of an AnsibleModule and decorates its main() with
@masked_main; the action plugins decorate run() with @masked_action. Then, with the one secret
recogniser (common.secrets):

- exit_json() and fail_json() mask the whole result before Ansible prints it - msg, diff, detail,
  logs, the echoed arguments (invocation), a traceback, and any field a module adds later, so a new
  field cannot bypass it;
- warn(), deprecate(), error_as_warning() and log() (syslog, the journal) mask their text;
- the secrets among the module's own arguments (URL passwords, values under secret keys, tokens inside
  strings) are known from the moment the arguments are read, before the argument spec is even checked:
  each is masked wherever it appears, also cut into another text that no pattern would recognise, and
  goes to Ansible's no_log_values too;
- an exception main() did not handle ends as a masked failure instead of a traceback carrying a value.

Values that must stay readable do: the user and host of a URL, the key of a masked key=value. Secret
parameters are still declared no_log; this layer is for the values that are not parameters of their
own (a mirror URL inside `settings`, a container's environment, a health check's output).
tests/unit/plugins/modules/test_masking_layer.py checks that every module exits through it, and only it.
"""

from __future__ import annotations

import functools
import sys
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import (
    DEFAULT_MASKER, MIN_KNOWN_SECRET, masker_for, secret_values, url_passwords,
)


def traceback_text(exception):
    """A traceback as text (what fail_json's `exception` may be), for masking; None and strings as they are."""
    if isinstance(exception, BaseException):
        return "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
    return exception


class MaskedModule(AnsibleModule):
    """AnsibleModule whose every output is masked (see the module doc)."""

    # Until the arguments are read (a failure reading them), the recogniser alone masks.
    masker = DEFAULT_MASKER
    # The module of this run, for masked_main (one module runs per process).
    current = None

    def _load_params(self):
        super()._load_params()
        known = secret_values(self.params)
        self.masker = masker_for(known)
        # Ansible's own log of the invocation (syslog, journal) and its final pass over the result mask these too.
        # A URL password is masked whatever its length; other values from MIN_KNOWN_SECRET characters on,
        # so that a short value does not turn every occurrence of a common word into ********.
        self.no_log_values.update(value for value in known if len(value) >= MIN_KNOWN_SECRET)
        self.no_log_values.update(url_passwords(self.params))
        MaskedModule.current = self

    def shown(self, result):
        """The result as it may be printed: masked, with the echoed arguments masked too. Values the module
        added to no_log_values since (a secret file's content) are masked whole, before the recogniser
        would show the BEGIN and END lines of a key in them."""
        result = dict(result)
        result.setdefault("invocation", {"module_args": self.params})
        added = set(value for value in self.no_log_values if isinstance(value, str)) - set(self.masker.known)
        masker = masker_for(list(self.masker.known) + sorted(added)) if added else self.masker
        return masker.data(result)

    def exit_json(self, **kwargs):
        super().exit_json(**self.shown(kwargs))

    def fail_json(self, msg, **kwargs):
        if "exception" in kwargs:
            kwargs["exception"] = traceback_text(kwargs["exception"])
        elif sys.exc_info()[1] is not None:
            # Ansible would add the traceback of the exception being handled, its message unmasked.
            kwargs["exception"] = traceback_text(sys.exc_info()[1])
        kwargs["msg"] = str(msg)
        super().fail_json(**self.shown(kwargs))

    def warn(self, warning, *args, **kwargs):
        super().warn(self.masker.text(str(warning)), *args, **kwargs)

    def deprecate(self, msg, version=None, date=None, collection_name="bulwark.hardening", **kwargs):
        super().deprecate(self.masker.text(str(msg)), version=version, date=date, collection_name=collection_name,
                          **kwargs)

    def error_as_warning(self, msg, exception, *args, **kwargs):
        self.warn("%s: %s" % (msg, exception) if msg else str(exception))

    def log(self, msg, log_args=None):
        super().log(self.masker.text(msg), self.masker.data(log_args) if log_args else log_args)


def masked_main(main):
    """Decorate a module's main(): an exception it does not handle ends as a masked failure of its
    MaskedModule. Before the module has read its arguments there is nothing to mask, and the exception
    goes on as it is (ansible-test's validate-modules reads the argument spec by raising one there)."""
    @functools.wraps(main)
    def run():
        MaskedModule.current = None
        try:
            return main()
        except Exception as error:  # pylint: disable=broad-except  # reported, masked, never swallowed
            module = MaskedModule.current
            if module is None:
                raise
            module.fail_json(msg="unexpected error: %s: %s" % (type(error).__name__, error), exception=error)
    return run


def mask_result(result, known=()):
    """A result dict (an action plugin's) as it may be printed: every secret masked."""
    return masker_for(known).data(result)


def masked_action(run):
    """Decorate an action plugin's run(): its result is masked before Ansible prints it, the secrets among
    the task's arguments (self._task.args) included wherever they appear. What it raises becomes the result
    Ansible would make of it, masked: an AnsibleActionFail or AnsibleActionSkip its own result (failed or
    skipped, with the message), anything else a failure with its traceback."""
    @functools.wraps(run)
    def masked(self, *args, **kwargs):
        task = getattr(self, "_task", None)
        known = secret_values(getattr(task, "args", None) or {})
        try:
            result = run(self, *args, **kwargs)
        except Exception as error:  # pylint: disable=broad-except  # reported as the result, masked
            if isinstance(getattr(error, "result", None), dict):
                result = dict(error.result)
                result.setdefault("msg", str(error))
            else:
                result = dict(failed=True, msg=str(error), exception=traceback_text(error))
        return mask_result(result, known)
    return masked
