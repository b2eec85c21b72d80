"""scripts/apt-install.sh against a fake apt-get and dpkg-query, never the real apt.

Each test gets a machine in tmp_path: a PATH of fakes (apt-get, dpkg-query,
id) plus links to the real tools the script needs, a package-lists folder
(BULWARK_APT_LISTS), our flock's file (BULWARK_APT_LOCK) and the fake dpkg's
state (one file per installed package). The fake apt-get logs every call,
and records an overlap when two of its runs meet, as real apt would fail on
its lock then.
"""

import os
import shutil
import stat
import subprocess
import textwrap
import threading
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(TOP, "scripts", "apt-install.sh")
TOOLS = ("bash", "cat", "dirname", "flock", "grep", "head", "mkdir", "mktemp", "readlink", "rm", "rmdir",
         "sleep", "stat", "tail", "touch")
DAY = 86400

FAKES = {
    # install marks its packages installed (after FAKE_INSTALL_SECONDS); update writes a
    # Packages list. FAKE_FOREIGN_LOCK (a file) stands for another apt holding the lock.
    "apt-get": """\
        echo "apt-get $*" >>"$FAKE_LOG"
        if [ -e "$FAKE_STATE/foreign-lock" ]; then
            echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)"
            exit 100
        fi
        if ! mkdir "$FAKE_STATE/running" 2>/dev/null; then
            echo overlap >>"$FAKE_LOG"
            echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1 (apt-get)"
            exit 100
        fi
        trap 'rmdir "$FAKE_STATE/running"' EXIT
        for word in "$@"; do
            case $word in update|install) action=$word ;; esac
        done
        if [ "$action" = update ]; then
            [ -z "${FAKE_UPDATE_FAILS:-}" ] || { echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease"; exit 100; }
            # An archive that did not change leaves its lists (and their dates) as they were.
            [ -n "${FAKE_ARCHIVE_UNCHANGED:-}" ] \
                || touch "$FAKE_LISTS/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
            touch "$FAKE_STATE/updated"
            exit 0
        fi
        if [ -n "${FAKE_INSTALL_NEEDS_UPDATE:-}" ] && [ ! -e "$FAKE_STATE/updated" ]; then
            echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/q/qemu/qemu-utils.deb  404  Not Found"
            exit 100
        fi
        sleep "${FAKE_INSTALL_SECONDS:-0}"
        for word in "$@"; do
            case $word in
                -*|install|DPkg::*) ;;
                "$FAKE_UNKNOWN") echo "E: Unable to locate package $word"; exit 100 ;;
                *) touch "$FAKE_STATE/installed/$word" ;;
            esac
        done
        """,
    "dpkg-query": """\
        for package; do :; done
        if [ -e "$FAKE_STATE/installed/$package" ]; then printf 'ii '; exit 0; fi
        echo "dpkg-query: no packages found matching $package" >&2
        exit 1
        """,
    "id": """\
        echo "${FAKE_UID:-0}"
        """,
}


def _write_program(path, body):
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n" + textwrap.dedent(body))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Machine:
    """Fake apt and dpkg in tmp_path; run(...) runs the script there."""

    def __init__(self, tmp_path, debian=True):
        self.bin = tmp_path / "bin"
        self.state = tmp_path / "fake"
        self.lists = tmp_path / "lists"
        self.lock = tmp_path / "lock" / "bulwark-apt-install.lock"
        self.log = tmp_path / "calls.log"
        for folder in (self.bin, self.state / "installed", self.lists):
            folder.mkdir(parents=True)
        for tool in TOOLS:
            os.symlink(shutil.which(tool), self.bin / tool)
        for name, body in FAKES.items():
            if debian or name == "id":
                _write_program(self.bin / name, body)
        self.log.touch()
        self.env = {
            "PATH": str(self.bin),
            "FAKE_STATE": str(self.state),
            "FAKE_LISTS": str(self.lists),
            "FAKE_LOG": str(self.log),
            "FAKE_UNKNOWN": "no-such-package",
            "BULWARK_APT_LISTS": str(self.lists),
            "BULWARK_APT_LOCK": str(self.lock),
        }

    def fresh_lists(self, age=0):
        listing = self.lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
        listing.touch()
        then = time.time() - age
        os.utime(listing, (then, then))

    def installed(self, *packages):
        for package in packages:
            (self.state / "installed" / package).touch()

    def is_installed(self, package):
        return (self.state / "installed" / package).exists()

    def start(self, *packages, **env):
        return subprocess.Popen(
            [shutil.which("bash"), SCRIPT, *packages], env=dict(self.env, **env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def run(self, *packages, **env):
        return subprocess.run(
            [shutil.which("bash"), SCRIPT, *packages], env=dict(self.env, **env),
            capture_output=True, text=True, timeout=60, check=False,
        )

    def calls(self):
        return self.log.read_text().splitlines()

    def apt_calls(self, action):
        return [call for call in self.calls() if call.startswith("apt-get") and " %s" % action in call]


@pytest.fixture
def machine(tmp_path):
    return Machine(tmp_path)


def _finish(process):
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_installs_only_the_missing_packages(machine):
    machine.fresh_lists()
    machine.installed("e2fsprogs")
    result = machine.run("e2fsprogs", "qemu-utils", "--no-install-recommends")
    assert result.returncode == 0, result.stdout + result.stderr
    installs = machine.apt_calls("install")
    assert len(installs) == 1
    assert installs[0].endswith("install -y --no-install-recommends qemu-utils")
    assert "e2fsprogs" not in installs[0]
    assert machine.is_installed("qemu-utils")


def test_nothing_missing_needs_neither_root_nor_apt(machine):
    machine.installed("debootstrap")
    result = machine.run("debootstrap", FAKE_UID="1000")
    assert result.returncode == 0, result.stderr
    assert machine.calls() == []
    assert not machine.lock.exists()


def test_parallel_callers_take_turns_and_the_second_finds_it_installed(machine):
    """The two VM image builds ask for the same host tools at the same moment."""
    machine.fresh_lists()
    first = machine.start("qemu-utils", "qemu-system-x86", FAKE_INSTALL_SECONDS="2")
    time.sleep(0.5)
    second = machine.start("qemu-utils", "qemu-system-x86", FAKE_INSTALL_SECONDS="2")
    for process in (first, second):
        rc, out, err = _finish(process)
        assert rc == 0, out + err
    assert "overlap" not in machine.calls(), "two apt-get runs overlapped"
    assert len(machine.apt_calls("install")) == 1, machine.calls()
    assert machine.is_installed("qemu-utils") and machine.is_installed("qemu-system-x86")


def test_parallel_callers_of_different_packages_never_overlap(machine):
    machine.fresh_lists()
    callers = [machine.start(package, FAKE_INSTALL_SECONDS="1") for package in ("debootstrap", "chromium", "shellcheck")]
    outputs = [_finish(process) for process in callers]
    for rc, out, err in outputs:
        assert rc == 0, out + err
    assert "overlap" not in machine.calls(), "two apt-get runs overlapped"
    assert all(machine.is_installed(package) for package in ("debootstrap", "chromium", "shellcheck"))
    assert any("waiting for another install of ours" in out for _rc, out, _err in outputs)


def test_a_foreign_apt_holding_the_lock_is_waited_for(machine):
    machine.fresh_lists()
    foreign = machine.state / "foreign-lock"
    foreign.touch()
    threading.Timer(2.5, foreign.unlink).start()
    result = machine.run("shellcheck")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "waiting for apt's lock" in result.stdout
    assert "held by process 4242 (unattended-upgr)" in result.stdout
    assert machine.is_installed("shellcheck")
    timeouts = [int(call.split("DPkg::Lock::Timeout=")[1].split()[0]) for call in machine.apt_calls("install")]
    assert timeouts and all(timeout > 0 for timeout in timeouts), machine.calls()


def test_a_lock_held_past_the_wait_fails_naming_the_packages(machine):
    machine.fresh_lists()
    (machine.state / "foreign-lock").touch()
    result = machine.run("chromium", BULWARK_APT_WAIT="1")
    assert result.returncode == 1
    assert "could not install chromium" in result.stderr
    assert "still held after 1 s" in result.stderr
    assert "apt-get update" not in " ".join(machine.calls()), "a lock is no reason to update the lists"


def test_empty_lists_are_updated_before_the_install(machine):
    result = machine.run("debootstrap")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "updating the package lists (there are none)" in result.stdout
    assert [call.split()[-1] for call in machine.calls()] == ["update", "debootstrap"]


def test_stale_lists_are_updated_before_the_install(machine):
    machine.fresh_lists(age=3 * DAY)
    result = machine.run("debootstrap")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "updating the package lists (they are 72 h old)" in result.stdout
    assert len(machine.apt_calls("update")) == 1
    assert machine.calls().index(machine.apt_calls("update")[0]) < machine.calls().index(machine.apt_calls("install")[0])


def test_lists_an_update_of_ours_left_old_are_not_updated_again(machine):
    """A suite that has not moved for months keeps its lists' old dates after an update."""
    machine.fresh_lists(age=90 * DAY)
    for package in ("debootstrap", "qemu-utils"):
        result = machine.run(package, FAKE_ARCHIVE_UNCHANGED="1")
        assert result.returncode == 0, result.stdout + result.stderr
    assert len(machine.apt_calls("update")) == 1, machine.calls()
    assert machine.is_installed("qemu-utils")


def test_lists_younger_than_the_bound_are_not_updated(machine):
    machine.fresh_lists(age=3600)
    result = machine.run("debootstrap")
    assert result.returncode == 0, result.stdout + result.stderr
    assert machine.apt_calls("update") == []


def test_an_install_failing_on_unrefreshed_lists_is_retried_after_an_update(machine):
    """Lists younger than the bound can still name files the archive no longer has."""
    machine.fresh_lists()
    result = machine.run("qemu-utils", FAKE_INSTALL_NEEDS_UPDATE="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(machine.apt_calls("update")) == 1
    assert len(machine.apt_calls("install")) == 2
    assert machine.is_installed("qemu-utils")


def test_install_failure_names_the_packages_and_shows_apt(machine):
    machine.fresh_lists()
    result = machine.run("qemu-utils", "no-such-package")
    assert result.returncode == 1
    assert "could not install qemu-utils no-such-package: apt-get install failed" in result.stderr
    assert "E: Unable to locate package no-such-package" in result.stderr


def test_update_failure_names_the_packages(machine):
    result = machine.run("debootstrap", FAKE_UPDATE_FAILS="1")
    assert result.returncode == 1
    assert "could not install debootstrap: apt-get update failed" in result.stderr
    assert "E: Failed to fetch" in result.stderr
    assert machine.apt_calls("install") == []


def test_not_root_says_what_is_missing(machine):
    result = machine.run("qemu-utils", "debootstrap", FAKE_UID="1000")
    assert result.returncode == 3
    assert "missing Debian packages: qemu-utils debootstrap; installing them needs root" in result.stderr
    assert machine.calls() == []


def test_not_debian_says_so(tmp_path):
    host = Machine(tmp_path, debian=False)
    result = host.run("debootstrap")
    assert result.returncode == 3
    assert "cannot install debootstrap: this is not Debian" in result.stderr


def test_usage(machine):
    assert machine.run().returncode == 2
    assert machine.run("--yes", "x").returncode == 2
