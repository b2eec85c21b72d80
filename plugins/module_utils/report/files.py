# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write one run's report files into a directory: JSON, JUnit XML, HTML (with the trend read from the
JSON reports already there), each written atomically (a temporary file renamed into place)."""

from __future__ import annotations

import os
import tempfile

from ansible_collections.bulwark.hardening.plugins.module_utils.report import html, junit, model


def write_file(path, text, mode=0o644):
    directory = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".bulwark-report-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def render_all(report, history, limit=20):
    """{"json": text, "junit": text, "html": text} of a report, with history (model.load_history()) for the trend."""
    return {"json": model.to_json(report), "junit": junit.render_junit(report),
            "html": html.render_html(report, model.trend(history, report, limit))}


def write_reports(directory, report, limit=20):
    """Write the run's three files into directory (created if needed); returns {kind: path}."""
    os.makedirs(directory, exist_ok=True)
    names = model.file_names(report)
    texts = render_all(report, model.load_history(directory, exclude=names["json"]), limit)
    return dict((kind, write_file(os.path.join(directory, names[kind]), texts[kind])) for kind in ("json", "junit", "html"))
