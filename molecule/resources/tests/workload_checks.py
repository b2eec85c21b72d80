"""Ordinary workloads still run on the hardened daemon (seccomp profile, user
namespaces, no-new-privileges, icc off), and what the profile takes away is
really gone. Shared by the container and VM scenarios: a scenario's test
module imports these test functions, which makes pytest run them there."""

import pytest

# Python run inside a container from the userland image (the target's /usr, read-only).
THREADS = (
    "import threading; done = []; "
    "workers = [threading.Thread(target=done.append, args=(n,)) for n in range(16)]; "
    "[w.start() for w in workers]; [w.join() for w in workers]; print(len(done))"
)
SYSCALL = "import ctypes; libc = ctypes.CDLL(None, use_errno=True); rc = libc.syscall({number}, 0, 0, 0, 0); print(rc, ctypes.get_errno())"
CLONE3, PTRACE = 435, 101  # x86-64 syscall numbers
ENOSYS, EPERM = "38", "1"


def _run(host, image, command, *docker_args):
    return host.run(f"docker run --rm {' '.join(docker_args)} {image} {command}")


def _python(host, image, code):
    return _run(host, image, f'python3 -c "{code}"', "-v /usr:/usr:ro")


def _fetch(host, url, tries=15):
    """busybox wget from the target, retried while the server starts. Debian's busybox wget has no timeout
    of its own (no -T): a connection that is accepted and never answered would hold it for good, so
    coreutils' timeout ends each try after 20 s."""
    return host.run(f"for i in $(seq 1 {tries}); do timeout 20 busybox wget -q -O- {url} && exit 0; sleep 1; done; exit 1")


@pytest.fixture
def published(host):
    """Start a detached container with a published port; removed afterwards."""
    names = []

    def start(name, image, port, command, *docker_args):
        host.run(f"docker rm -f {name}")
        names.append(name)
        host.run_expect([0], f"docker run -d --name {name} -p 127.0.0.1:{port} {' '.join(docker_args)} {image} {command}")
    yield start
    for name in names:
        host.run(f"docker rm -f {name}")


def test_a_shell_runs(host, probe_image):
    result = _run(host, probe_image, "sh -c 'echo shell-ok'")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "shell-ok"


def test_python_runs(host, userland_image):
    result = _python(host, userland_image, "import json, hashlib; print(json.dumps({'ok': hashlib.sha256(b'x').hexdigest()[:4]}))")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == '{"ok": "2d71"}'


def test_threads_start(host, userland_image):
    # glibc 2.34+ creates threads with clone3 and falls back to clone only on ENOSYS.
    result = _python(host, userland_image, THREADS)
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "16"


def test_clone3_fails_with_enosys_not_eperm(host, userland_image):
    result = _python(host, userland_image, SYSCALL.format(number=CLONE3))
    assert result.rc == 0, result.stderr
    assert result.stdout.split() == ["-1", ENOSYS], result.stdout


def test_ptrace_is_refused(host, userland_image):
    result = _python(host, userland_image, SYSCALL.format(number=PTRACE))
    assert result.rc == 0, result.stderr
    rc, errno = result.stdout.split()
    assert rc == "-1" and errno in (EPERM, ENOSYS), result.stdout


def test_a_web_server_answers_on_a_published_port(host, probe_image, published):
    published("bulwark-verify-web", probe_image, "18080:80", "httpd -f -p 80 -h /www")
    body = _fetch(host, "http://127.0.0.1:18080/")
    assert body.rc == 0, body.stderr
    assert body.stdout.strip() == "bulwark-ok"


def test_a_threaded_http_server_answers_on_a_published_port(host, userland_image, published):
    # http.server serves every request from a new thread (ThreadingHTTPServer).
    published("bulwark-verify-threaded", userland_image, "18081:8000", "python3 -m http.server 8000 --directory /usr/share",
              "-v /usr:/usr:ro")
    for _request in range(3):
        listing = _fetch(host, "http://127.0.0.1:18081/")
        assert listing.rc == 0, listing.stderr + host.run("docker logs bulwark-verify-threaded").stderr
        assert "Directory listing for /" in listing.stdout
