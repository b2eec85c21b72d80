"""CIS 2.7, 3.9-3.14: with TLS on, dockerd listens on TCP with tlsverify,
the key is 0400 and the certificates 0444, and only a client with a
certificate from the CA gets in.

This reconfigures the daemon (listeners move from the unit's -H to
daemon.json), so it runs last (pytest takes files in name order)."""

import json
import subprocess

import pytest

from conftest import run_playbook

TLS_DIR = "/etc/docker/tls"
PORT = 2376


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


@pytest.fixture(scope="module")
def tls_enabled(host, certificates):
    result = run_playbook(host, "bulwark.hardening.harden", "-e", json.dumps({
        "docker_daemon_tls_enabled": True,
        "docker_daemon_tls_listen": f"tcp://127.0.0.1:{PORT}",
        "docker_daemon_tls_cacert_src": str(certificates / "ca.pem"),
        "docker_daemon_tls_cert_src": str(certificates / "server.pem"),
        "docker_daemon_tls_key_src": str(certificates / "server-key.pem"),
    }))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    name = host.backend.get_hostname()
    host.run_expect([0], "mkdir -p /root/tls-client")  # not /tmp: docker cp cannot write into a tmpfs
    for source in ("ca.pem", "client.pem", "client-key.pem"):
        subprocess.run(["docker", "cp", str(certificates / source), f"{name}:/root/tls-client/{source}"], check=True)
    return result


def _docker_over_tcp(host, *args):
    return host.run(f"docker -H tcp://127.0.0.1:{PORT} {' '.join(args)} info --format '{{{{.ServerVersion}}}}'")


def test_key_is_0400_and_certificates_0444(host, tls_enabled):
    assert host.file(f"{TLS_DIR}/server-key.pem").mode == 0o400
    assert host.file(f"{TLS_DIR}/server-cert.pem").mode == 0o444
    assert host.file(f"{TLS_DIR}/ca.pem").mode == 0o444


def test_a_client_with_a_ca_signed_certificate_gets_in(host, tls_enabled):
    result = _docker_over_tcp(host, "--tlsverify", "--tlscacert /root/tls-client/ca.pem",
                              "--tlscert /root/tls-client/client.pem", "--tlskey /root/tls-client/client-key.pem")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip()


def test_a_client_without_a_certificate_is_refused(host, tls_enabled):
    result = _docker_over_tcp(host, "--tlsverify", "--tlscacert /root/tls-client/ca.pem")
    # docker CLIs differ in exit codes here (26.x exits 0 with the client part
    # of `info` only): what matters is that no server version came back.
    assert not result.stdout.strip(), result.stdout


def test_the_unix_socket_still_answers(host, tls_enabled):
    assert host.run("docker info --format '{{.ServerVersion}}'").rc == 0
