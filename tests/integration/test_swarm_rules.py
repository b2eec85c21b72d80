"""CIS sections 6 and 7 on a real single-node swarm, on a second dockerd that leaves this machine's own alone.

The second dockerd has its own --data-root, --exec-root, --pidfile and socket (-H unix://<tmp>/docker.sock),
--bridge=none and --iptables=false, and runs in a network namespace of its own (`unshare --net`, loopback up):

- a dockerd started with --bridge=none deletes the host's `docker0` interface, the main dockerd's default bridge
  (moby's removeDefaultBridgeInterface); in its own namespace there is none to delete;
- swarm init creates `docker_gwbridge` (it took 172.17.0.0/16 when tried in the host namespace, the main dockerd's
  bridge subnet) and listens on 2377 and 7946: all of that stays inside the namespace.

The audit reaches the daemon through its unix socket (a file, so any namespace) and reads the node's
docker-state.json from the data root: both work from the host. `docker swarm init --advertise-addr 127.0.0.1`
works there (loopback is accepted for a single node).

Phases, each a module fixture that builds on the one before: not in a swarm (plus two imported images and a
created container for section 6); a default swarm with an unencrypted and an encrypted overlay network and a
secret; auto-lock and 30-day node certificates; the daemon restarted, so locked; left and initialised again
with the management plane on 127.0.0.1 only and a separate data path address. Everything is stopped and removed
at the end, whatever happens.
"""

import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand_all

pytestmark = pytest.mark.integration

MAIN_DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
SWARM_IDS = ["7.%d" % number for number in range(1, 10)]
START_TIMEOUT = 60
STOP_TIMEOUT = 30


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return None


class SecondDaemon(object):
    """A dockerd of our own in a temporary directory and network namespace."""

    def __init__(self, top):
        self.top = top
        self.socket = os.path.join(top, "docker.sock")
        self.url = "unix://" + self.socket
        self.pidfile = os.path.join(top, "docker.pid")
        self.log = os.path.join(top, "dockerd.log")
        self.process = None

    def start(self):
        argv = ["dockerd", "--data-root", os.path.join(self.top, "data"), "--exec-root", os.path.join(self.top, "exec"),
                "--pidfile", self.pidfile, "-H", self.url, "--bridge=none", "--iptables=false"]
        # unshare without --fork execs: the Popen pid is dockerd's.
        script = "ip link set lo up && exec " + " ".join(argv)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(["unshare", "--net", "sh", "-c", script], stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the second dockerd exited (%s): %s" % (self.process.returncode, self._log_tail()))
            if self.cli("info", check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError("the second dockerd did not answer within %d s: %s" % (START_TIMEOUT, self._log_tail()))

    def _log_tail(self):
        with open(self.log, "r", encoding="utf-8", errors="replace") as handle:
            return handle.read()[-2000:]

    def cli(self, *args, data=None, check=True):
        result = subprocess.run(["docker", "-H", self.url] + list(args), input=data, capture_output=True, check=False,
                                timeout=60)
        if check and result.returncode != 0:
            raise AssertionError("docker %s: %s" % (" ".join(args), result.stderr.decode(errors="replace")))
        return result

    def _children(self):
        """Processes of this daemon's own (its containerd), found by our temporary directory in their command line."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                argv = _cmdline(int(entry))
                if argv and argv[0] != "dockerd" and any(self.top in word for word in argv):
                    pids.append(int(entry))
        return pids

    def stop(self):
        """SIGTERM our dockerd (SIGKILL after STOP_TIMEOUT), then whatever of ours it left running."""
        if self.process is None:
            return
        process, self.process = self.process, None
        children = self._children()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        for pid in children:
            argv = _cmdline(pid)
            if argv and any(self.top in word for word in argv):
                os.kill(pid, signal.SIGKILL)

    def cleanup(self):
        """Unmount what the daemon left mounted below our directory (deepest first), then remove it."""
        with open("/proc/self/mounts", "r", encoding="utf-8") as handle:
            points = [line.split()[1] for line in handle if line.split()[1].startswith(self.top + "/")]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)
        shutil.rmtree(self.top, ignore_errors=True)


def _tar(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def daemon():
    if os.geteuid() != 0:
        pytest.skip("a second dockerd needs root")
    for tool in ("dockerd", "docker", "unshare", "ip"):
        if shutil.which(tool) is None:
            pytest.skip("%s is not installed" % tool)
    # Short path: the daemon's containerd puts unix sockets below --exec-root (108 bytes at most).
    second = SecondDaemon(tempfile.mkdtemp(prefix="bw-swarm-", dir="/tmp"))
    try:
        second.start()
        yield second
    finally:
        try:
            if second.process is not None and second.process.poll() is None:
                second.cli("swarm", "leave", "--force", check=False)
        finally:
            second.stop()
            second.cleanup()


def audit(second):
    run = run_module("container_audit", {"docker_host": second.url, "scope": ["operations", "swarm"], "report": "all"})
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg") or run.stderr[-2000:]
    return run.result


def statuses(result, section="7"):
    return dict(((finding["rule"], finding["target"]), finding["status"])
                for finding in expand_all(result) if finding["section"] == section)


def evidence(result, rule_id, target="swarm"):
    return [finding["evidence"] for finding in result["findings"] if finding["rule"] == rule_id and finding["target"] == target][0]


@pytest.fixture(scope="module")
def before_swarm(daemon):
    """Two imported images, one used by a created (never started) container; no swarm yet."""
    for tag in ("bulwark-test/tiny:used", "bulwark-test/tiny:unused"):
        daemon.cli("import", "-c", 'CMD ["/hello"]', "-", tag, data=_tar({"hello": b"#!/hello\n", "tag": tag.encode()}))
    daemon.cli("create", "--name", "bw-created", "--network", "none", "bulwark-test/tiny:used")
    return audit(daemon)


@pytest.fixture(scope="module")
def default_swarm(daemon, before_swarm):
    daemon.cli("swarm", "init", "--advertise-addr", "127.0.0.1")
    daemon.cli("network", "create", "--driver", "overlay", "bw-plain")
    daemon.cli("network", "create", "--driver", "overlay", "--opt", "encrypted", "bw-encrypted")
    daemon.cli("secret", "create", "bw_db_password", "-", data=os.urandom(16).hex().encode())
    return audit(daemon)


@pytest.fixture(scope="module")
def hardened_swarm(daemon, default_swarm):
    daemon.cli("swarm", "update", "--autolock=true", "--cert-expiry", "720h")
    return audit(daemon)


@pytest.fixture(scope="module")
def locked_swarm(daemon, hardened_swarm):
    daemon.stop()
    daemon.start()
    return audit(daemon)


@pytest.fixture(scope="module")
def bound_swarm(daemon, locked_swarm):
    daemon.cli("swarm", "leave", "--force")
    daemon.cli("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377",
               "--data-path-addr", "127.0.0.2")
    return audit(daemon)


# --- not in a swarm ---------------------------------------------------------------------

def test_not_in_a_swarm_every_7x_rule_is_not_applicable_and_costs_no_call(before_swarm):
    assert statuses(before_swarm) == dict(((rule_id, "swarm"), "skipped") for rule_id in SWARM_IDS)
    for rule_id in SWARM_IDS:
        assert evidence(before_swarm, rule_id).startswith("not applicable: not a swarm node"), rule_id
    assert before_swarm["api_calls_by_endpoint"] == {"info": 1, "images": 1, "containers": 1}


def test_sprawl_numbers_of_the_second_daemon(before_swarm):
    assert statuses(before_swarm, "6") == {("6.1", "images"): "info", ("6.2", "containers"): "info"}
    assert evidence(before_swarm, "6.1", "images").startswith("2 images, 1 used by containers, 1 unused (0 untagged); "
                                                              "oldest unused: bulwark-test/tiny:unused (built less than an hour ago)")
    assert evidence(before_swarm, "6.2", "containers").startswith(
        "1 container: 0 running, 0 paused, 1 stopped (created 1); longest stopped: bw-created (created less than an hour ago, "
        "never started)")


def test_the_main_dockerd_is_not_a_swarm_node_either():
    run = run_module("container_audit", {"docker_host": MAIN_DOCKER_HOST, "scope": ["swarm"], "report": "all"})
    if run.result.get("failed"):
        pytest.skip("main Docker Engine not reachable: %s" % run.result.get("msg"))
    found = dict((finding["rule"], finding) for finding in run.result["findings"])
    if json.dumps(found).count("not applicable") != len(SWARM_IDS):
        pytest.skip("the main dockerd is in a swarm")
    assert set(finding["status"] for finding in found.values()) == {"skipped"}
    assert run.result["api_calls_by_endpoint"] == {"info": 1}


# --- a default swarm ----------------------------------------------------------------------

def test_default_swarm_statuses(default_swarm):
    assert statuses(default_swarm) == {
        ("7.1", "swarm"): "pass",
        ("7.2", "swarm"): "fail",
        ("7.3", "bw-encrypted"): "pass",
        ("7.3", "bw-plain"): "fail",
        ("7.3", "ingress"): "fail",
        ("7.4", "swarm"): "pass",
        ("7.5", "swarm"): "fail",
        ("7.6", "swarm"): "info",
        ("7.7", "swarm"): "warn",
        ("7.8", "swarm"): "pass",
        ("7.9", "swarm"): "warn",
    }
    assert "ListenAddr 0.0.0.0:2377 (advertised as 127.0.0.1:2377)" in evidence(default_swarm, "7.2")
    assert evidence(default_swarm, "7.1").startswith("1 manager of 1 node: ")
    assert "expire after 90 days" in evidence(default_swarm, "7.7")
    assert "1 swarm secret, by name: bw_db_password" in evidence(default_swarm, "7.4")


def test_a_manager_costs_three_list_calls_more(default_swarm):
    assert default_swarm["api_calls_by_endpoint"] == {
        "info": 1, "images": 1, "containers": 1, "nodes": 1, "networks": 1, "secrets": 1}


# --- auto-lock and short node certificates ---------------------------------------------------

def test_autolock_and_30_day_certificates(hardened_swarm):
    found = statuses(hardened_swarm)
    assert (found[("7.5", "swarm")], found[("7.6", "swarm")], found[("7.7", "swarm")]) == ("pass", "info", "pass")
    assert "unlock-key --rotate" in evidence(hardened_swarm, "7.6")
    assert "expire after 30 days" in evidence(hardened_swarm, "7.7")
    assert (found[("7.2", "swarm")], found[("7.3", "bw-plain")], found[("7.9", "swarm")]) == ("fail", "fail", "warn")


# --- restarted, so locked ------------------------------------------------------------------------

def test_a_locked_manager_passes_7_5_and_waits_for_the_rest(locked_swarm):
    expected = dict(((rule_id, "swarm"), "skipped") for rule_id in SWARM_IDS)
    expected[("7.5", "swarm")] = "pass"
    assert statuses(locked_swarm) == expected
    assert "locked" in evidence(locked_swarm, "7.1")
    assert locked_swarm["api_calls_by_endpoint"] == {"info": 1, "images": 1, "containers": 1}


# --- the management plane on loopback only, data plane apart ---------------------------------------

def test_bound_listen_address_and_separate_data_path(bound_swarm):
    assert statuses(bound_swarm) == {
        ("7.1", "swarm"): "pass",
        ("7.2", "swarm"): "pass",
        ("7.3", "ingress"): "fail",
        ("7.4", "swarm"): "info",
        ("7.5", "swarm"): "fail",
        ("7.6", "swarm"): "info",
        ("7.7", "swarm"): "warn",
        ("7.8", "swarm"): "pass",
        ("7.9", "swarm"): "pass",
    }
    assert "listens on 127.0.0.1:2377 only" in evidence(bound_swarm, "7.2")
    assert "management plane on 127.0.0.1, data plane on 127.0.0.2" in evidence(bound_swarm, "7.9")
