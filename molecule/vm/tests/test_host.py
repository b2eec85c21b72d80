"""The host role on a real (qemu) VM: every setting is live, the audit rules
are loaded, SSH lets the connecting user in by key and nobody else, and
Docker still does its job after the OS is hardened (new containers reach
the world and each other, a published port answers). Docker-aware OS
hardening is the point: these are what generic hardening roles break."""

import http.server
import os
import subprocess
import sys
import threading

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "tests"))
import instance_fixtures  # noqa: E402

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
with open(os.path.join(TOP, "roles", "host", "defaults", "main.yml"), encoding="utf-8") as handle:
    HOST_DEFAULTS = yaml.safe_load(handle)
# qemu's user-mode network shows the machine running the VM at this address.
OUTSIDE_ADDRESS = "10.0.2.2"
NETWORK = "bulwark-verify-net"

probe_image = instance_fixtures.probe_image
userland_image = instance_fixtures.userland_image
# The client inside containers: Python from the target's own /usr. Debian 12's static busybox
# wget segfaults on its name lookup inside a container, whatever the hardening.
FETCH = ("python3 -c \"import sys, time, urllib.request\n"
         "for attempt in range(10):\n"
         "    try:\n"
         "        print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()); break\n"
         "    except OSError:\n"
         "        time.sleep(1)\n"
         "else:\n"
         "    sys.exit(1)\" ")


def expected_sysctl():
    wanted = {key: " ".join(str(int(value) if isinstance(value, bool) else value).split())
              for key, value in HOST_DEFAULTS["host_sysctl_settings"].items()}
    wanted["net.ipv4.ip_forward"] = "1"  # Docker is installed: kept on
    return wanted


@pytest.fixture(scope="module")
def live_sysctl(host):
    keys = sorted(expected_sysctl())
    out = host.check_output("sudo sysctl " + " ".join(keys))
    return dict(line.split(" = ", 1) for line in out.splitlines())


def test_every_sysctl_setting_is_live(live_sysctl):
    wrong = {key: (live_sysctl.get(key), value) for key, value in expected_sysctl().items()
             if " ".join((live_sysctl.get(key) or "").split()) != value}
    assert wrong == {}


def test_forwarding_stays_on_for_docker(live_sysctl):
    assert live_sysctl["net.ipv4.ip_forward"] == "1"


def test_forwarding_stays_on_when_every_sysctl_file_is_loaded_again(host):
    # A package upgrade or an operator runs `sysctl --system`: no file may turn Docker's forwarding off
    # (the role never writes a 0 for it, whether Docker came before or after it).
    assert host.check_output("sudo sysctl --system >/dev/null 2>&1; sudo sysctl -n net.ipv4.ip_forward") == "1"


def test_the_sysctl_file_survives_a_reboot_by_being_under_sysctl_d(host):
    text = host.file(HOST_DEFAULTS["host_sysctl_path"]).content_string
    assert "kernel.kptr_restrict = 2" in text


def test_the_audit_rules_watch_dockers_files(host):
    loaded = host.check_output("sudo auditctl -l")
    dockerd = host.check_output("readlink -f $(command -v dockerd)")
    for path in (dockerd, "/etc/docker", "/var/lib/docker", "/usr/lib/systemd/system/docker.service"):
        assert "-w %s -p wa -k docker" % path in loaded, loaded


def test_unused_modules_cannot_be_loaded(host):
    result = host.run("sudo modprobe -n -v cramfs")
    assert "install /bin/false" in result.stdout + result.stderr


def test_modules_docker_needs_still_load(host):
    assert host.run("sudo modprobe -n overlay").rc == 0
    assert host.run("sudo modprobe -n br_netfilter").rc == 0


@pytest.fixture(scope="module")
def sshd_effective(host):
    out = host.check_output("sudo sshd -T")
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def test_sshd_refuses_root_and_passwords(sshd_effective):
    assert sshd_effective["permitrootlogin"] == "no"
    assert sshd_effective["passwordauthentication"] == "no"
    assert sshd_effective["kbdinteractiveauthentication"] == "no"


def test_sshd_only_lets_the_allowed_groups_in(sshd_effective):
    assert sshd_effective["allowgroups"] == "sudo"


@pytest.fixture(scope="module")
def ansible_host_vars(host):
    return host.backend.get_variables()


def _ssh(variables, user, *options):
    """A new SSH login into the VM, outside the test's own (multiplexed) connection."""
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ControlPath=none", "-o", "ConnectTimeout=20", "-p", str(variables.get("ansible_port", 22))]
    identity = variables.get("ansible_private_key_file") or variables.get("ansible_ssh_private_key_file")
    if identity:
        argv += ["-i", identity]
    argv += list(options) + ["%s@%s" % (user, variables.get("ansible_host")), "true"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_the_connecting_user_still_logs_in_with_its_key(ansible_host_vars):
    result = _ssh(ansible_host_vars, ansible_host_vars["ansible_user"])
    assert result.returncode == 0, result.stderr


def test_root_cannot_log_in_even_with_a_key(ansible_host_vars):
    result = _ssh(ansible_host_vars, "root")
    assert result.returncode != 0
    assert "Permission denied" in result.stderr


def test_passwords_are_not_offered(ansible_host_vars):
    result = _ssh(ansible_host_vars, ansible_host_vars["ansible_user"],
                  "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive")
    assert result.returncode != 0
    assert "Permission denied (publickey)" in result.stderr


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  (the name http.server calls)
        body = b"bulwark-outside"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def outside_listener():
    """An HTTP server on the machine that runs the VM: outside the VM and its NAT."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_a_new_container_reaches_an_address_outside_the_vm(host, userland_image, outside_listener):
    result = host.run(f"docker run --rm -v /usr:/usr:ro {userland_image} "
                      + FETCH + f"http://{OUTSIDE_ADDRESS}:{outside_listener}/")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "bulwark-outside"


@pytest.fixture
def user_network(host):
    host.run(f"docker rm -f bulwark-verify-peer; docker network rm {NETWORK}")
    host.run_expect([0], f"docker network create {NETWORK}")
    yield NETWORK
    host.run(f"docker rm -f bulwark-verify-peer; docker network rm {NETWORK}")


def test_two_containers_on_a_user_defined_network_reach_each_other(host, probe_image, userland_image, user_network):
    host.run_expect([0], f"docker run -d --name bulwark-verify-peer --network {user_network} {probe_image} "
                         "httpd -f -p 80 -h /www")
    result = host.run(f"docker run --rm --network {user_network} -v /usr:/usr:ro {userland_image} "
                      + FETCH + "http://bulwark-verify-peer/")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "bulwark-ok"


def test_dev_shm_is_nodev_nosuid_noexec(host):
    options = host.check_output("findmnt -rn -o OPTIONS /dev/shm").split(",")
    assert {"nodev", "nosuid", "noexec"} <= set(options)


def test_no_world_writable_files_in_system_paths(host):
    found = host.run("sudo find /etc /usr /boot /opt -xdev \\( -type f -perm -0002 -o -type d -perm -0002 ! -perm -1000 \\) -print")
    assert found.stdout.strip() == ""


def test_core_dumps_and_upgrades(host):
    assert "* hard core 0" in host.file("/etc/security/limits.d/90-bulwark-hardening.conf").content_string
    assert 'APT::Periodic::Unattended-Upgrade "1";' in host.file(HOST_DEFAULTS["host_basics_auto_upgrades_path"]).content_string
    assert host.check_output("grep -E '^UMASK' /etc/login.defs").split()[1] == "027"


def test_time_is_synchronised_by_a_running_daemon(host):
    assert host.service("systemd-timesyncd").is_running
