"""CIS 2.7 (2.8 in v1.8), 3.9-3.14: with TLS on, dockerd listens on TCP with
tlsverify, the key is 0400 and the certificates 0444, only a client with a
certificate from the CA gets in, and the collection's audit, connecting
over that TLS listener through the shared Docker connection options,
passes TLS (2.8, in the audit's default CIS v1.8 ids) and 3.9-3.14. Turning
TLS off removes the listener again.

This reconfigures the daemon (listeners move from the unit's -H to
daemon.json), so it runs last (pytest takes files in name order)."""

import json
import subprocess

import pytest

from audit_proof import audit_target
from conftest import run_playbook

TLS_DIR = "/etc/docker/tls"
PORT = 2376
DROP_IN_DIR = "/etc/systemd/system/docker.service.d"
DROP_IN = f"{DROP_IN_DIR}/bulwark-hosts.conf"
OPERATOR_DROP_IN = f"{DROP_IN_DIR}/10-operator.conf"
OPERATOR_FLAG = "--label=bulwark.test.operator-flag=kept"
CLIENT = "/root/tls-client"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    work = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=bulwark-test-ca",
             "-keyout", "ca-key.pem", "-out", "ca.pem", cwd=work)
    for name, usage in (("server", "serverAuth"), ("client", "clientAuth")):
        (work / f"{name}.ext").write_text(f"subjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=bulwark-test-{name}",
                 "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", cwd=work)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-CAcreateserial", "-days", "1", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=work)
    return work


def tls_vars(certificates, **extra):
    return json.dumps(dict({
        "docker_daemon_tls_enabled": True,
        "docker_daemon_tls_listen": f"tcp://127.0.0.1:{PORT}",
        "docker_daemon_tls_cacert_src": str(certificates / "ca.pem"),
        "docker_daemon_tls_cert_src": str(certificates / "server.pem"),
        "docker_daemon_tls_key_src": str(certificates / "server-key.pem"),
    }, **extra))


@pytest.fixture(scope="module")
def operator_drop_in(host, tmp_path_factory):
    """An admin's own drop-in that adds a flag to dockerd's ExecStart (loaded before the role's)."""
    unit_exec = host.check_output("sed -n 's/^ExecStart=//p' /lib/systemd/system/docker.service")
    local = tmp_path_factory.mktemp("drop-in") / "10-operator.conf"
    local.write_text(f"[Service]\nExecStart=\nExecStart={unit_exec} {OPERATOR_FLAG}\n")
    host.run_expect([0], f"mkdir -p {DROP_IN_DIR}")
    subprocess.run(["docker", "cp", str(local), f"{host.backend.get_hostname()}:{OPERATOR_DROP_IN}"], check=True)
    # reset-failed: the tests before restarted dockerd more often than the unit's start limit allows.
    host.run_expect([0], "systemctl daemon-reload")
    host.run_expect([0], "systemctl reset-failed docker.service")
    host.run_expect([0], "systemctl restart docker.service")
    yield OPERATOR_FLAG
    host.run(f"rm -f {OPERATOR_DROP_IN}")


@pytest.fixture(scope="module")
def tls_enabled(host, certificates, operator_drop_in):  # pylint: disable=unused-argument
    result = run_playbook(host, "bulwark.hardening.harden", "-e", tls_vars(certificates))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    name = host.backend.get_hostname()
    host.run_expect([0], f"mkdir -p {CLIENT}")  # not /tmp: docker cp cannot write into a tmpfs
    for source in ("ca.pem", "client.pem", "client-key.pem"):
        subprocess.run(["docker", "cp", str(certificates / source), f"{name}:{CLIENT}/{source}"], check=True)
    return result


def test_a_tls_change_dockerd_refuses_removes_the_drop_in_again(host, certificates, operator_drop_in):
    # Runs first: dockerd refuses the address, so the roll-back must take the new drop-in away too.
    result = run_playbook(host, "bulwark.hardening.harden", "-e",
                          tls_vars(certificates, docker_daemon_extra_settings={"storage-driver": "bulwark-no-such-driver"}))
    assert result.returncode != 0
    assert "previous configuration is back" in result.stdout + result.stderr, result.stdout[-3000:]
    assert not host.file(DROP_IN).exists
    assert host.run(f"docker -H tcp://127.0.0.1:{PORT} info").rc != 0
    assert host.run("docker info --format '{{.ServerVersion}}'").rc == 0


def _docker_over_tcp(host, *args):
    return host.run(f"docker -H tcp://127.0.0.1:{PORT} {' '.join(args)} info --format '{{{{.ServerVersion}}}}'")


def test_key_is_0400_and_certificates_0444(host, tls_enabled):
    assert host.file(f"{TLS_DIR}/server-key.pem").mode == 0o400
    assert host.file(f"{TLS_DIR}/server-cert.pem").mode == 0o444
    assert host.file(f"{TLS_DIR}/ca.pem").mode == 0o444


def test_a_client_with_a_ca_signed_certificate_gets_in(host, tls_enabled):
    result = _docker_over_tcp(host, "--tlsverify", f"--tlscacert {CLIENT}/ca.pem",
                              f"--tlscert {CLIENT}/client.pem", f"--tlskey {CLIENT}/client-key.pem")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip()


def test_a_client_without_a_certificate_is_refused(host, tls_enabled):
    result = _docker_over_tcp(host, "--tlsverify", f"--tlscacert {CLIENT}/ca.pem")
    # docker CLIs differ in exit codes here (26.x exits 0 with the client part
    # of `info` only): what matters is that no server version came back.
    assert not result.stdout.strip(), result.stdout


def test_the_unix_socket_still_answers(host, tls_enabled):
    assert host.run("docker info --format '{{.ServerVersion}}'").rc == 0


def test_the_drop_in_keeps_every_flag_of_the_effective_execstart_but_h(host, tls_enabled, operator_drop_in):
    # The ExecStart systemd would run without the role's drop-in: the unit's, as the admin's drop-in changed it.
    unit_exec = host.check_output("sed -n 's/^ExecStart=//p' /lib/systemd/system/docker.service").split()
    expected = [word for word in unit_exec + [operator_drop_in] if word not in ("-H", "fd://")]
    assert host.file(DROP_IN).content_string.splitlines()[-2:] == ["ExecStart=", "ExecStart=" + " ".join(expected)]
    assert host.file(TLS_DIR).mode == 0o700
    # ... and dockerd really runs with it: the admin's flag survived.
    assert "bulwark.test.operator-flag=kept" in host.check_output("docker info --format '{{json .Labels}}'")


def test_the_audit_over_the_tls_listener_passes_tls_and_3_9_to_3_14(host, tls_enabled):
    result = audit_target(host, scope="daemon,files", docker_host=f"tcp://127.0.0.1:{PORT}", validate_certs="true",
                          ca_path=f"{CLIENT}/ca.pem", client_cert=f"{CLIENT}/client.pem", client_key=f"{CLIENT}/client-key.pem")
    # TLS is 2.8 in CIS v1.8, the audit's default (2.7 in v1.6; v1.8's 2.7 is the devicemapper check).
    tls_rules = ("2.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
    verdicts = dict((finding["rule"], finding["status"]) for finding in result["findings"] if finding["rule"] in tls_rules)
    assert result["summary"]["cis_version"] == "1.8"
    assert verdicts == dict.fromkeys(tls_rules, "pass"), result["findings"]
    assert result["api_calls"] >= 1


def test_turning_tls_off_removes_the_listener_and_the_drop_in(host, tls_enabled):
    host.run_expect([0], f"rm -f {OPERATOR_DROP_IN}")  # back to the plain unit; the harden run reloads systemd
    result = run_playbook(host, "bulwark.hardening.harden")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert not host.file(DROP_IN).exists
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert not set(config) & {"hosts", "tls", "tlsverify", "tlscacert", "tlscert", "tlskey"}, config
    assert host.run(f"docker -H tcp://127.0.0.1:{PORT} info").rc != 0
    assert host.run("docker info --format '{{.ServerVersion}}'").rc == 0
