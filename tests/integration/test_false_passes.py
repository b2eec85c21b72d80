"""Verdicts that used to pass what is insecure, against real Engines (issue 20, items 1, 3, 4, 5, 6).

On this machine's Engine (containers named bwfp-it-*, removed at the end):

- 5.22 fails containers whose own seccomp profile lets everything through
  but for a rule that names reboot only or applies to arm64, and passes the
  docker_daemon role's profile;
- 5.10, 5.16 and 5.17 fail containers that join a host-namespace container
  (--network/--pid/--ipc container:<donor>), the donor outside the audit's
  name filter, so gather inspects it;
- 5.26 reads the kernel's NoNewPrivs of each container's init.

In a throwaway instance of the Molecule image (Debian 12, docker.io, dockerd
started by systemd with -H fd:// from docker.socket), where dockerd may be
reconfigured and restarted: a container created before daemon.json's
no-new-privileges fails 5.26 and one created after passes; with daemon.json
`group` set, 3.15 passes the socket systemd made (group docker) and
daemon_files leaves its group alone; a docker.socket drop-in's TCP
ListenStream fails TLS (2.8 in the audit's default CIS v1.8 ids, v1.6's 2.7).
"""

import json
import os
import subprocess

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import BIN, ansible_env, run_module
from ansible_collections.bulwark.hardening.tests.integration.images import SLEEPER_REF, docker_api, ensure_sleeper_image
from ansible_collections.bulwark.hardening.tests.integration.instances import check_in, instance, write_inventory

pytestmark = pytest.mark.integration

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PREFIX = "bwfp-it-"
ROLE_PROFILE = os.path.join(TOP, "roles", "docker_daemon", "files", "seccomp-hardened.json")
ALLOW_REBOOT_ONLY = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["reboot"], "action": "SCMP_ACT_ERRNO"}]}
ARM64_ONLY = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["keyctl", "add_key", "request_key", "unshare", "clone3", "bpf", "userfaultfd"],
     "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["arm64"]}}]}


def _profile(profile):
    # The docker CLI inlines a profile file's JSON into the option; the API takes it the same way.
    return ["seccomp=" + (profile if isinstance(profile, str) else json.dumps(profile))]


@pytest.fixture(scope="module")
def local_verdicts():
    """container_audit's verdicts {(rule, target): (status, evidence)} over this test's containers."""
    api = docker_api()
    ensure_sleeper_image(api)
    with open(ROLE_PROFILE, encoding="utf-8") as handle:
        role_profile = handle.read()
    created = []

    def run(name, **host_config):
        container = api.create_container(SLEEPER_REF, name=PREFIX + name, labels={"bulwark.test": "1"},
                                         host_config=api.create_host_config(**host_config))
        created.append(container["Id"])
        api.start(container["Id"])
    try:
        run("seccomp-reboot-only", security_opt=_profile(ALLOW_REBOOT_ONLY))
        run("seccomp-arm64-only", security_opt=_profile(ARM64_ONLY))
        run("seccomp-role", security_opt=_profile(role_profile))
        run("donor-net", network_mode="host")
        run("joiner-net", network_mode="container:" + PREFIX + "donor-net")
        run("donor-pid", pid_mode="host", ipc_mode="host")
        run("joiner-pid", pid_mode="container:" + PREFIX + "donor-pid", ipc_mode="container:" + PREFIX + "donor-pid")
        run("nnp", security_opt=["no-new-privileges"])
        run("plain")
        # The donors are left out of the audit: gather must inspect them itself.
        audit = run_module("container_audit", {"scope": ["containers"], "report": "all", "name_filter": [
            PREFIX + "seccomp-*", PREFIX + "joiner-*", PREFIX + "nnp", PREFIX + "plain"]})
        assert not audit.result.get("failed"), audit.result.get("msg")
        yield audit.result, dict(((finding["rule"], finding["target"]), (finding["status"], finding["evidence"]))
                                 for finding in audit.result["findings"])
    finally:
        for container in created:
            api.remove_container(container, force=True, v=True)


@pytest.mark.parametrize("name", ["seccomp-reboot-only", "seccomp-arm64-only"])
def test_5_22_fails_profiles_that_refuse_nothing_dockers_default_refuses(local_verdicts, name):
    _result, verdicts = local_verdicts
    status, evidence = verdicts[("5.22", PREFIX + name)]
    assert status == "fail" and "disabled in all but name" in evidence, evidence


def test_5_22_passes_the_roles_profile(local_verdicts):
    _result, verdicts = local_verdicts
    status, evidence = verdicts[("5.22", PREFIX + "seccomp-role")]
    assert status == "pass" and "refuses every syscall Docker's default profile refuses" in evidence, evidence


@pytest.mark.parametrize("rule_id,joiner,donor", [
    ("5.10", "joiner-net", "donor-net"), ("5.16", "joiner-pid", "donor-pid"), ("5.17", "joiner-pid", "donor-pid")])
def test_namespace_rules_follow_the_joiner_to_its_host_namespace_donor(local_verdicts, rule_id, joiner, donor):
    result, verdicts = local_verdicts
    status, evidence = verdicts[(rule_id, PREFIX + joiner)]
    assert status == "fail" and "joins %s%s" % (PREFIX, donor) in evidence, evidence
    assert not [target for _rule, target in verdicts if target.startswith(PREFIX + "donor")]
    # Nine containers listed and audited (name-filtered to seven), plus one inspect per donor.
    assert result["api_calls_by_endpoint"]["inspect_container"] == result["containers"] + 2


def test_5_26_reads_the_kernels_flag(local_verdicts):
    _result, verdicts = local_verdicts
    status, evidence = verdicts[("5.26", PREFIX + "nnp")]
    assert status == "pass" and "NoNewPrivs=1" in evidence, evidence
    status, evidence = verdicts[("5.26", PREFIX + "plain")]
    assert status == "fail" and "NoNewPrivs=0" in evidence, evidence


# --- a Debian 12 host whose dockerd systemd starts with -H fd:// -------------------------------------------

BOX = """set -e
d=$(mktemp -d); mkdir -p "$d/bin"; cp /bin/busybox "$d/bin/"; ln -s busybox "$d/bin/sleep"
tar -C "$d" -c . | docker import -c 'CMD ["/bin/sleep","1000000"]' - bwfp/box:local >/dev/null; rm -rf "$d"
"""
# dockerd restarts: the container made before comes back (restart always) with the settings it was created with.
RECONFIGURE = """set -e
getent group bwfpops >/dev/null || groupadd bwfpops
mkdir -p /etc/docker /etc/systemd/system/docker.socket.d
python3 - <<'PY'
import json, os
path = "/etc/docker/daemon.json"
config = json.load(open(path)) if os.path.exists(path) else {}
config.update({"no-new-privileges": True, "group": "bwfpops"})
json.dump(config, open(path, "w"))
PY
printf '[Socket]\\nListenStream=127.0.0.1:2375\\n' > /etc/systemd/system/docker.socket.d/bwfp-tcp.conf
systemctl daemon-reload
systemctl stop docker.service docker.socket
systemctl start docker.socket docker.service
for i in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
for i in $(seq 60); do [ "$(docker inspect -f '{{.State.Running}}' bwfp-before)" = true ] && break; sleep 1; done
"""


def _module(inventory, target, name, arguments, check=False):
    command = [os.path.join(BIN, "ansible"), "-i", inventory, target, "-b", "-m", "bulwark.hardening." + name]
    command += (["-a", json.dumps(arguments)] if arguments else []) + (["--check"] if check else [])
    completed = subprocess.run(command, capture_output=True, text=True, env=ansible_env(), check=False, timeout=300)
    result = json.loads(completed.stdout)["plays"][0]["tasks"][0]["hosts"][target]
    assert not result.get("failed"), result.get("msg")
    return result


@pytest.fixture(scope="module")
def socket_activated_host(tmp_path_factory):
    """(verdicts, daemon_files check-mode result) on an instance reconfigured between two containers."""
    api = docker_api(timeout=120)
    with instance("bwfp-host-", "bulwark.it.false-passes") as target:
        check_in(api, target, BOX + "docker run -d --name bwfp-before --restart always bwfp/box:local >/dev/null")
        assert "fd://" in check_in(api, target, "tr '\\0' ' ' < /proc/$(pidof dockerd)/cmdline")
        check_in(api, target, RECONFIGURE)
        check_in(api, target, "docker run -d --name bwfp-after bwfp/box:local >/dev/null")
        inventory = write_inventory(target, tmp_path_factory.mktemp("false-passes"))
        audit = _module(inventory, target, "container_audit", {
            "scope": ["host", "daemon", "files", "containers"], "report": "all", "name_filter": ["bwfp-*"]})
        files = _module(inventory, target, "daemon_files", {}, check=True)
        yield dict(((finding["rule"], finding["target"]), (finding["status"], finding["evidence"]))
                   for finding in audit["findings"]), files


def test_5_26_fails_a_container_created_before_the_daemon_default(socket_activated_host):
    verdicts, _files = socket_activated_host
    status, evidence = verdicts[("5.26", "bwfp-before")]
    assert status == "fail" and "NoNewPrivs=0" in evidence and "created before" in evidence, evidence
    status, evidence = verdicts[("5.26", "bwfp-after")]
    assert status == "pass" and "NoNewPrivs=1" in evidence, evidence


def test_3_15_and_1_1_2_take_the_group_systemd_gives_the_socket(socket_activated_host):
    verdicts, _files = socket_activated_host
    status, evidence = verdicts[("3.15", "/run/docker.sock")]
    assert status == "pass", evidence
    status, evidence = verdicts[("1.1.2", "host")]
    assert "socket group docker" in evidence and "bwfpops" not in evidence, evidence


def test_daemon_files_keeps_the_sockets_group(socket_activated_host):
    _verdicts, files = socket_activated_host
    [socket] = [entry for entry in files["files"] if "3.15" in entry["rules"]]
    assert socket["path"] == "/run/docker.sock" and not socket["changed"], socket
    assert ":docker " in socket["after"], socket


def test_tls_fails_a_socket_activated_tcp_listener(socket_activated_host):
    verdicts, _files = socket_activated_host
    status, evidence = verdicts[("2.8", "daemon")]  # CIS v1.8's 2.8, v1.6's 2.7: TLS
    assert status == "fail" and "ListenStream=127.0.0.1:2375" in evidence and "without TLS" in evidence, evidence
