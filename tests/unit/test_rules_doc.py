"""docs/rules.md is generated from the rule catalog and must be in step with it."""

import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_rules_doc_is_current():
    script = os.path.join(TOP, "scripts", "gen_rules_doc.py")
    result = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
