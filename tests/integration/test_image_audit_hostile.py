"""image_audit against the real Docker Engine with hostile images and with containers that are not its own.

Images are imported from tar files made here (the sleeper rootfs plus the
entries under test, names written byte for byte; no registry):

- odd: setuid files named with bytes that are not UTF-8, escape sequences and
  a bidirectional override, a 3,000-character path, a hard link to a setuid
  file, a private key under a directory named b"\\xff";
- many: 120,000 empty files, one setuid file last, and a VOLUME.

Containers that are not the audit's own: a running container and a created
one of a third-party image carrying the label bulwark.image-scan=1 (the label
earlier versions gave their scan containers; containers inherit it) and a
VOLUME (so they have an anonymous volume).

Checked: the module's result reaches Ansible and is cached and read back;
nothing of the third party is touched, in check mode or not; two runs at
once both read their image whole; a run killed during its scan leaves
nothing behind (no container, no volume, no cache entry) and the next run
scans the image again; a capped scan says so and is not cached.

The audit reads images with docker save and creates nothing, so what earlier
versions tested here about their own scan containers (a per-run record,
removal of an interrupted run's containers, check mode leaving them) has no
object any more: those tests became the ones above that check nothing is
created or left.

Every image, container and volume made here has a name starting with bwia-
(or is an anonymous volume of one of those containers) and is removed at the
end, whatever happens.
"""

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import BIN, ansible_env, ensure_farm, run_module
from ansible_collections.bulwark.hardening.tests.integration.images import IMAGE_LABEL, docker_api, rootfs_tarball

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
PREFIX = "bwia-"
ODD = PREFIX + "odd:1"
MANY = PREFIX + "many:1"
THIRD_PARTY = PREFIX + "third-party:1"
THIRD_PARTY_RUNNING = PREFIX + "third-party-running"
THIRD_PARTY_CREATED = PREFIX + "third-party-created"
MANY_FILES = 120000
DEEP = b"/".join(b"deep%02d" % number for number in range(500)) + b"/tool"  # 3,500 characters

ODD_ENTRIES = [
    (b"usr/bin/\xff", 0o4755, b"\x7fELF"),
    (b"usr/bin/esc\x1b[31mred", 0o4755, b"\x7fELF"),
    (b"usr/bin/\xe2\x80\xaeexe.sh", 0o2755, b"\x7fELF"),
    (b"usr/bin/caf\xc3\xa9", 0o4755, b"\x7fELF"),
    (DEEP, 0o4755, b"\x7fELF"),
]
PRIVATE_KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n-----END OPENSSH PRIVATE KEY-----\n"


def _raw_info(name, mode=0o644, size=0, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
    info.mode, info.size, info.type = mode, size, kind
    return info


def _rootfs_with(path, add_entries):
    """Write the sleeper rootfs plus add_entries(tar) to path, names byte for byte (GNU format, as raw as tar gets)."""
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as tar:
        with tarfile.open(fileobj=io.BytesIO(rootfs_tarball()), mode="r") as base:
            for member in base.getmembers():
                tar.addfile(member, base.extractfile(member) if member.isreg() else None)
        add_entries(tar)


def _odd_entries(tar):
    for name, mode, data in ODD_ENTRIES:
        tar.addfile(_raw_info(name, mode, len(data)), io.BytesIO(data))
    link = _raw_info(b"usr/bin/linked-\xfe", 0o4755, 0, tarfile.LNKTYPE)
    link.linkname = "usr/bin/caf\u00e9"
    tar.addfile(link)
    tar.addfile(_raw_info(b"root/\xff/.ssh/id_ed25519", 0o600, len(PRIVATE_KEY)), io.BytesIO(PRIVATE_KEY))


def _many_entries(tar):
    for number in range(MANY_FILES):
        if number % 1000 == 0:
            tar.addfile(_raw_info(b"data/%d" % (number // 1000), 0o755, 0, tarfile.DIRTYPE))
        tar.addfile(_raw_info(b"data/%d/f%d" % (number // 1000, number)))
    tar.addfile(_raw_info(b"usr/bin/last-setuid", 0o4755, 4), io.BytesIO(b"\x7fELF"))


def _import(api, reference, add_entries, directory, changes=()):
    path = os.path.join(directory, "rootfs.tar")
    _rootfs_with(path, add_entries)
    repository, tag = reference.rsplit(":", 1)
    api.import_image_from_file(path, repository=repository, tag=tag,
                               changes=['CMD ["/bin/sleep","infinity"]', "LABEL " + IMAGE_LABEL, "USER 65534",
                                        'HEALTHCHECK CMD ["/bin/sleep","0"]'] + list(changes))
    os.unlink(path)
    return api.inspect_image(reference)["Id"]


def _remove_everything(api):
    for name in (THIRD_PARTY_RUNNING, THIRD_PARTY_CREATED):
        try:
            api.remove_container(name, v=True, force=True)  # ours (made by this test), with its anonymous volume
        except Exception:  # pylint: disable=broad-except
            pass
    for reference in (ODD, MANY, THIRD_PARTY):
        for image in api.images(name=reference.rsplit(":", 1)[0]):
            api.remove_image(image["Id"], force=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    api = docker_api(timeout=300)
    _remove_everything(api)
    directory = str(tmp_path_factory.mktemp("bwia-images"))
    try:
        ids = {
            ODD: _import(api, ODD, _odd_entries, directory),
            MANY: _import(api, MANY, _many_entries, directory, ["VOLUME /data"]),
            THIRD_PARTY: _import(api, THIRD_PARTY, lambda tar: None, directory,
                                 ["LABEL bulwark.image-scan=1", "VOLUME /state"]),
        }
        running = api.create_container(THIRD_PARTY, name=THIRD_PARTY_RUNNING, user="65534")
        api.start(running["Id"])
        api.create_container(THIRD_PARTY, name=THIRD_PARTY_CREATED, user="65534")
        yield api, ids
    finally:
        _remove_everything(api)


def third_party_state(api):
    """{name: (status, [volume names])} of the third party's containers."""
    found = {}
    for name in (THIRD_PARTY_RUNNING, THIRD_PARTY_CREATED):
        data = api.inspect_container(name)
        found[name] = (data["State"]["Status"], sorted(m["Name"] for m in data["Mounts"] if m["Type"] == "volume"))
    return found


def volumes_exist(api, state):
    names = set(volume["Name"] for volume in api.volumes().get("Volumes") or [])
    return all(set(volumes) <= names for _status, volumes in state.values())


def audit(cache_dir, images, check=False, **extra):
    args = {"docker_host": DOCKER_HOST, "images": images, "cache_dir": str(cache_dir), "report": "all"}
    args.update(extra)
    run = run_module("image_audit", args, check=check)
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg") or run.stdout[-3000:]
    return run


def findings(run, target):
    return dict((f["rule"], f) for f in run.result["findings"] if f["target"] == target)


def containers_of(api, image_id):
    return api.containers(all=True, filters={"ancestor": image_id})


def test_odd_names_reach_ansible_escaped_are_cached_and_read_back(lab, tmp_path):
    api, ids = lab
    cache = tmp_path / "cache"
    first = audit(cache, [ODD])
    evidence = findings(first, ODD)["4.8"]["evidence"]
    assert first.result["scan_errors"] == [] and findings(first, ODD)["4.8"]["status"] == "fail"
    assert "5 setuid" in evidence and "/usr/bin/\\xff" in evidence and "/usr/bin/esc\\x1b[31mred" in evidence
    assert "1 setgid (/usr/bin/\\u202eexe.sh)" in evidence
    assert "\x1b" not in first.stdout and "\u202e" not in first.stdout
    secret = findings(first, ODD)["BW-010"]
    assert secret["status"] == "fail" and "/root/\\xff/.ssh/id_ed25519 (private key" in secret["evidence"]
    assert first.result["cache"]["written"] == 1
    again = audit(cache, [ODD])
    assert again.result["cache"]["hits"] == 1 and findings(again, ODD)["4.8"]["evidence"] == evidence
    assert containers_of(api, ids[ODD]) == []


def test_a_cache_entry_from_before_is_scanned_again_not_fatal(lab, tmp_path):
    _api, ids = lab
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    # What the earlier version cached for this image: the undecodable byte as a lone surrogate.
    poisoned = {"format": 2, "image_id": ids[ODD], "scan": {
        "setuid": ["/usr/bin/\udcff"], "setgid": [], "setuid_count": 1, "setgid_count": 0, "secret_files": [], "files": 9,
        "bytes_read": 1, "incomplete": None}}
    path = cache / (ids[ODD][len("sha256:"):] + ".json")
    path.write_text(json.dumps(poisoned))
    os.chmod(str(path), 0o600)
    run = audit(cache, [ODD])
    assert run.result["cache"]["ignored"] == 1 and run.result["cache"]["written"] == 1
    assert "/usr/bin/\\xff" in findings(run, ODD)["4.8"]["evidence"]


def test_many_files_scanned_whole_then_capped(lab, tmp_path):
    api, ids = lab
    whole = audit(tmp_path / "whole", [MANY])
    assert findings(whole, MANY)["4.8"]["evidence"] == "files with special permission bits: 1 setuid (/usr/bin/last-setuid)"
    assert whole.result["scans_incomplete"] == []
    capped = audit(tmp_path / "capped", [MANY], scan_max_entries=5000)
    four_eight = findings(capped, MANY)["4.8"]
    assert four_eight["status"] == "skipped" and "stopped after 5000 archive entries (scan_max_entries)" in four_eight["evidence"]
    assert findings(capped, MANY)["BW-010"]["status"] == "skipped"
    assert capped.result["scans_incomplete"] == [{"image": MANY, "reason": "stopped after 5000 archive entries (scan_max_entries)"}]
    assert capped.result["cache"]["written"] == 0
    timed = audit(tmp_path / "capped", [MANY], scan_max_seconds=1)
    assert "scan_max_seconds" in findings(timed, MANY)["4.8"]["evidence"] and timed.result["cache"]["misses"] == 1
    assert timed.result["cache"]["written"] == 0
    assert containers_of(api, ids[MANY]) == []


@pytest.mark.parametrize("check", [True, False])
def test_containers_of_a_third_party_image_carrying_the_scan_label_are_never_touched(lab, tmp_path, check):
    api, _ids = lab
    before = third_party_state(api)
    assert before[THIRD_PARTY_RUNNING][0] == "running" and before[THIRD_PARTY_CREATED][0] == "created"
    assert all(volumes for _status, volumes in before.values())
    run = audit(tmp_path / "cache", [ODD], check=check)
    assert set(run.result["api_calls_by_endpoint"]) == {"images", "inspect_image", "history", "get_image"}
    assert third_party_state(api) == before and volumes_exist(api, before)


def test_two_runs_at_once_leave_each_other_alone(lab, tmp_path):
    api, ids = lab
    runs = {}

    def one(name, image):
        runs[name] = run_module("image_audit", {"docker_host": DOCKER_HOST, "images": [image], "report": "all",
                                                "cache_dir": str(tmp_path / name)})
    threads = [threading.Thread(target=one, args=("slow", MANY)), threading.Thread(target=one, args=("quick", ODD))]
    threads[0].start()
    time.sleep(1.0)  # the quick run starts while the slow one is streaming its image
    threads[1].start()
    for thread in threads:
        thread.join(600)
    for name, run in runs.items():
        assert run.returncode == 0 and not run.result.get("failed"), (name, run.result.get("msg"))
        assert run.result["scan_errors"] == [] and run.result["scans_incomplete"] == [], (name, run.result)
        assert run.result["api_calls_by_endpoint"]["get_image"] == 1
    assert findings(runs["slow"], MANY)["4.8"]["status"] == "fail"
    assert containers_of(api, ids[MANY]) == [] and containers_of(api, ids[ODD]) == []


def _start_module(cache_dir, image):
    ensure_farm()
    command = [os.path.join(BIN, "ansible"), "localhost", "-m", "bulwark.hardening.image_audit", "-a",
               json.dumps({"docker_host": DOCKER_HOST, "images": [image], "cache_dir": str(cache_dir)}),
               "-e", "ansible_python_interpreter=" + sys.executable]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ansible_env(),
                            start_new_session=True)


def _descendants(pid):
    """Every process below pid (/proc): the module, which ansible runs in a session of its own, among them."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _module_pids(pid):
    found = []
    for child in _descendants(pid):
        try:
            with open("/proc/%d/cmdline" % child, "rb") as handle:
                if b"AnsiballZ_image_audit" in handle.read():
                    found.append(child)
        except OSError:
            pass
    return found


def test_a_run_killed_during_its_scan_leaves_nothing_behind(lab, tmp_path):
    api, ids = lab
    cache = tmp_path / "cache"
    process = _start_module(cache, MANY)
    killed = []
    try:
        deadline = time.monotonic() + 120
        while not _module_pids(process.pid) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(1.0)  # the save of 120,000 files is being written and streamed
        killed = _module_pids(process.pid)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)  # as an OOM kill or a power cut would: no finally runs
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert killed, "the module was not running when it was to be killed"
    assert not cache.exists() or not [name for name in os.listdir(str(cache)) if name.endswith(".json")], \
        "the module finished before it was killed"
    assert containers_of(api, ids[MANY]) == []  # so no volume either
    again = audit(cache, [MANY])
    assert again.result["cache"]["misses"] == 1 and again.result["cache"]["written"] == 1
    assert findings(again, MANY)["4.8"]["status"] == "fail"
    assert third_party_state(api)[THIRD_PARTY_RUNNING][0] == "running"
