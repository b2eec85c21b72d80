"""scripts/run-tests.sh against a stand-in `make`: a stage past its limit, and a Ctrl-C.

The script is copied into tmp_path/scripts/ (it works in the folder above itself, so its .cache/ is
tmp_path's, never the checkout's) and finds a fake `make` first on PATH: `make <stage>` sleeps for
FAKE_SECONDS_<stage> seconds (0 when unset), records its pid, and exits 0.
"""

import os
import shutil
import signal
import subprocess
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(TOP, "scripts", "run-tests.sh")

FAKE_MAKE = """#!/bin/bash
stage=${@: -1}
echo $$ >>"$FAKE_PIDS"
seconds_var="FAKE_SECONDS_${stage//-/_}"
exec sleep "${!seconds_var:-0}"
"""


def _setup(tmp_path):
    os.makedirs(tmp_path / "scripts")
    shutil.copy(SCRIPT, tmp_path / "scripts" / "run-tests.sh")
    bin_dir = tmp_path / "bin"
    os.makedirs(bin_dir)
    (bin_dir / "make").write_text(FAKE_MAKE)
    (bin_dir / "make").chmod(0o755)
    return dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]), FAKE_PIDS=str(tmp_path / "pids"))


def _default_signals():
    os.setsid()  # a process group of its own, as a terminal's foreground job
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _summary(tmp_path):
    return (tmp_path / ".cache" / "test-summary").read_text()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_stage_past_its_limit_fails_saying_so_and_the_next_one_runs(tmp_path):
    env = dict(_setup(tmp_path), BULWARK_STAGES="unit yamllint", BULWARK_STAGE_LIMIT="1", FAKE_SECONDS_unit="30")
    started = time.monotonic()
    run = subprocess.run(["bash", str(tmp_path / "scripts" / "run-tests.sh")], env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 1
    assert time.monotonic() - started < 15
    assert "=== unit: FAILED in" in run.stdout and "(its limit)" in run.stdout
    assert "=== yamllint: passed" in run.stdout
    assert "stages: 1 passed, 1 failed" in _summary(tmp_path)


def test_ctrl_c_reaches_the_running_stage_and_stops_the_run(tmp_path):
    env = dict(_setup(tmp_path), BULWARK_STAGES="unit yamllint", FAKE_SECONDS_unit="30")
    run = subprocess.Popen(["bash", str(tmp_path / "scripts" / "run-tests.sh")], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, preexec_fn=_default_signals)
    deadline = time.monotonic() + 10
    while not (tmp_path / "pids").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    stage_pid = int((tmp_path / "pids").read_text().split()[0])
    os.killpg(run.pid, signal.SIGINT)  # what a terminal sends its foreground job on Ctrl-C
    output = run.communicate(timeout=20)[0]
    assert run.returncode != 0
    assert not _alive(stage_pid), "the stage kept running after Ctrl-C"
    assert "=== yamllint" not in output
    assert "yamllint and the stages after it did not run (interrupted)" in _summary(tmp_path)
    assert (tmp_path / "pids").read_text().split() == [str(stage_pid)]  # no later stage started
