"""scripts/docker-engine.sh against stand-in programs, never the real Engine.

The script is copied into tmp_path/scripts/ with scripts/apt-install.sh,
which installs docker.io for it (its state lives in tmp_path/.cache/dockerd)
and runs with a PATH of fakes (docker, dockerd, systemctl, service, apt-get,
dpkg-query, id) plus links to the few real tools they need.
BULWARK_INIT_SYSTEM steers its systemd detection.
"""

import os
import shutil
import signal
import stat
import subprocess
import textwrap

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(TOP, "scripts", "docker-engine.sh")
APT_INSTALL = os.path.join(TOP, "scripts", "apt-install.sh")
TOOLS = ("bash", "cat", "dirname", "flock", "grep", "head", "mkdir", "mktemp", "mv", "readlink", "rm", "seq",
         "sleep", "stat", "tail")

FAKES = {
    # Answers while the fake engine is up.
    "docker": """\
        echo "docker $*" >>"$FAKE_LOG"
        case $1 in
            info) [ -e "$FAKE_STATE/engine-up" ] ;;
            version) echo 99.0.0 ;;
        esac
        """,
    # Not exec'd into sleep, so its cmdline keeps our --pidfile argument.
    "dockerd": """\
        echo "dockerd $*" >>"$FAKE_LOG"
        trap 'rm -f "$FAKE_STATE/engine-up"; kill "$child" 2>/dev/null; exit 0' TERM
        sleep 30 &
        child=$!
        echo "$child" >>"$FAKE_STATE/children"
        : >"$FAKE_STATE/engine-up"
        wait "$child"
        """,
    "systemctl": """\
        echo "systemctl $*" >>"$FAKE_LOG"
        case $1 in
            show) echo loaded ;;
            is-active) [ -e "$FAKE_STATE/engine-up" ] ;;
            start) : >"$FAKE_STATE/engine-up" ;;
            stop) rm -f "$FAKE_STATE/engine-up" ;;
        esac
        """,
    "service": """\
        echo "service $*" >>"$FAKE_LOG"
        rm -f "$FAKE_STATE/engine-up"
        """,
    # Installing docker.io puts dockerd on PATH and, like a packaged service, may start the engine.
    "apt-get": """\
        echo "apt-get $*" >>"$FAKE_LOG"
        case " $* " in
            *" install "*)
                mv "$FAKE_STATE/dockerd.pkg" "$FAKE_BIN/dockerd"
                if [ -n "${FAKE_INSTALL_STARTS:-}" ]; then : >"$FAKE_STATE/engine-up"; fi ;;
        esac
        """,
    # docker.io counts as installed once its dockerd is on PATH.
    "dpkg-query": """\
        [ -e "$FAKE_BIN/dockerd" ] && printf 'ii '
        """,
    "id": """\
        echo 0
        """,
}


def _write_program(path, body):
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n" + textwrap.dedent(body))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _alive(pid):
    """True while pid runs (a zombie waiting to be reaped counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class Machine:
    """A temporary checkout with fake programs; run(...) runs the script in it."""

    def __init__(self, tmp_path, dockerd_installed=True):
        self.top = tmp_path
        self.bin = tmp_path / "bin"
        self.fake_state = tmp_path / "fake"
        self.state = tmp_path / ".cache" / "dockerd"
        self.record = self.state / "started-by-us"
        self.pidfile = self.state / "dockerd.pid"
        self.log = tmp_path / "calls.log"
        for folder in (tmp_path / "scripts", self.bin, self.fake_state):
            folder.mkdir()
        shutil.copy(SCRIPT, tmp_path / "scripts" / "docker-engine.sh")
        shutil.copy(APT_INSTALL, tmp_path / "scripts" / "apt-install.sh")
        (tmp_path / "apt-lists").mkdir()
        for tool in TOOLS:
            os.symlink(shutil.which(tool), self.bin / tool)
        for name, body in FAKES.items():
            target = self.fake_state / "dockerd.pkg" if name == "dockerd" and not dockerd_installed else self.bin / name
            _write_program(target, body)
        self.log.touch()
        self.env = {
            "PATH": str(self.bin),
            "FAKE_BIN": str(self.bin),
            "FAKE_STATE": str(self.fake_state),
            "FAKE_LOG": str(self.log),
            "BULWARK_INIT_SYSTEM": "none",
            "BULWARK_APT_LISTS": str(tmp_path / "apt-lists"),
            "BULWARK_APT_LOCK": str(tmp_path / "apt-install.lock"),
        }

    def run(self, action, **env):
        result = subprocess.run(
            [shutil.which("bash"), str(self.top / "scripts" / "docker-engine.sh"), action],
            env=dict(self.env, **env), capture_output=True, text=True, timeout=30, check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def calls(self):
        return self.log.read_text().splitlines()

    def cleanup(self):
        """Stop any stand-in still running (only processes this test started)."""
        pids = []
        for path in (self.fake_state / "children", self.record):
            if path.exists():
                pids += [int(word) for word in path.read_text().split() if word.isdigit()]
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def machine(tmp_path):
    made = []

    def make(**kwargs):
        made.append(Machine(tmp_path, **kwargs))
        return made[-1]

    yield make
    for each in made:
        each.cleanup()


def test_stop_leaves_an_unrelated_process_with_the_recorded_pid_alone(machine):
    host = machine()
    host.state.mkdir(parents=True)
    unrelated = subprocess.Popen(["sleep", "30"])
    try:
        host.record.write_text("%d\n" % unrelated.pid)
        out = host.run("stop")
        assert unrelated.poll() is None, "stop signalled a process that is not our dockerd"
        assert "is gone" in out
        assert not host.record.exists()
    finally:
        unrelated.kill()
        unrelated.wait()


def test_stop_leaves_a_dockerd_with_another_pidfile_alone(machine):
    host = machine()
    host.state.mkdir(parents=True)
    other = subprocess.Popen(["/bin/sh", str(host.bin / "dockerd"), "--pidfile", "/run/docker.pid"], env=host.env)
    try:
        host.record.write_text("%d\n" % other.pid)
        host.run("stop")
        assert other.poll() is None, "stop signalled a dockerd it did not start"
    finally:
        other.kill()
        other.wait()


def test_start_runs_dockerd_in_the_background_and_stop_stops_it(machine):
    host = machine()
    out = host.run("start")
    assert "dockerd is up" in out
    pid = int(host.record.read_text())
    assert _alive(pid)
    assert "dockerd --pidfile %s" % host.pidfile in host.calls()
    assert not any(call.startswith("systemctl start") for call in host.calls())

    out = host.run("stop")
    assert "stopped the dockerd we started" in out
    assert not _alive(pid)
    assert not host.record.exists()


def test_systemd_start_and_stop_use_docker_service_only(machine):
    host = machine()
    host.run("start", BULWARK_INIT_SYSTEM="systemd")
    assert "systemctl start docker.service" in host.calls()
    assert not any(call.startswith("dockerd") for call in host.calls()), "started a second dockerd"
    assert host.record.read_text().strip() == "docker.service"

    before = len(host.calls())
    host.run("stop", BULWARK_INIT_SYSTEM="systemd")
    assert host.calls()[before:] == ["systemctl stop docker.service docker.socket"]
    assert not host.record.exists()


@pytest.mark.parametrize("init, stop_call", [
    ("systemd", "systemctl stop docker.service docker.socket"),
    ("none", "service docker stop"),
])
def test_engine_started_by_installing_docker_io_is_used_and_stopped(machine, init, stop_call):
    host = machine(dockerd_installed=False)
    out = host.run("start", BULWARK_INIT_SYSTEM=init, FAKE_INSTALL_STARTS="1")
    assert "installing docker.io started the Docker Engine" in out
    assert "apt-install.sh: installed docker.io" in out
    assert any(call.startswith("apt-get") and "install -y docker.io" in call for call in host.calls())
    assert not any(call.startswith(("dockerd", "systemctl start")) for call in host.calls())

    before = len(host.calls())
    host.run("stop", BULWARK_INIT_SYSTEM=init)
    assert host.calls()[before:] == [stop_call]


def test_systemd_install_that_leaves_the_engine_stopped_starts_docker_service(machine):
    host = machine(dockerd_installed=False)
    host.run("start", BULWARK_INIT_SYSTEM="systemd")
    assert "systemctl start docker.service" in host.calls()
    assert not any(call.startswith("dockerd") for call in host.calls())
    assert host.record.read_text().strip() == "docker.service"


def test_running_engine_is_used_and_never_stopped(machine):
    host = machine()
    (host.fake_state / "engine-up").touch()
    assert "using the running Docker Engine (99.0.0)" in host.run("start", BULWARK_INIT_SYSTEM="systemd")
    assert not host.record.exists()
    host.run("stop", BULWARK_INIT_SYSTEM="systemd")
    assert not any(call.startswith(("systemctl", "service", "dockerd")) for call in host.calls())


@pytest.mark.skipif(open("/proc/1/comm").read().strip() == "systemd", reason="systemd is PID 1 here")
def test_systemctl_alone_does_not_mean_systemd(machine):
    """systemctl may be installed where PID 1 is not systemd (as on this project's machines)."""
    host = machine()
    env = dict(host.env)
    del env["BULWARK_INIT_SYSTEM"]
    host.env = env
    host.run("start")
    assert not any(call.startswith("systemctl start") for call in host.calls())
    assert "dockerd --pidfile %s" % host.pidfile in host.calls()
    host.run("stop")
