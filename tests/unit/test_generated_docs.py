"""Generated documentation is in step with its source."""

import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_role_readmes_match_argument_specs():
    script = os.path.join(TOP, "scripts", "gen_role_docs.py")
    result = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
