"""Ordinary workloads still run under the hardened seccomp profile, and what
it takes away is really gone."""

PYTHON_PTRACE = (
    "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
    "rc = libc.syscall(101, 0, 0, 0, 0); "  # ptrace(PTRACE_TRACEME)
    "print(rc, ctypes.get_errno())"
)


def _run(host, image, command, *docker_args):
    return host.run(f"docker run --rm {' '.join(docker_args)} {image} {command}")


def test_a_shell_runs(host, probe_image):
    result = _run(host, probe_image, "sh -c 'echo shell-ok'")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "shell-ok"


def test_python_runs(host, userland_image):
    result = _run(host, userland_image,
                  "python3 -c \"import json, hashlib, threading; print(json.dumps({'ok': hashlib.sha256(b'x').hexdigest()[:4]}))\"",
                  "-v /usr:/usr:ro")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == '{"ok": "2d71"}'


def test_ptrace_is_refused(host, userland_image):
    result = _run(host, userland_image, f'python3 -c "{PYTHON_PTRACE}"', "-v /usr:/usr:ro")
    assert result.rc == 0, result.stderr
    rc, errno = result.stdout.split()
    assert rc == "-1" and errno in ("1", "38"), result.stdout  # EPERM or ENOSYS


def test_a_web_server_answers(host, probe_image):
    name = "bulwark-verify-web"
    host.run(f"docker rm -f {name}")
    host.run_expect([0], f"docker run -d --name {name} -p 127.0.0.1:18080:80 {probe_image} httpd -f -p 80 -h /www")
    try:
        body = host.run("for i in 1 2 3 4 5 6 7 8 9 10; do "
                        "busybox wget -q -O- http://127.0.0.1:18080/ && exit 0; sleep 1; done; exit 1")
        assert body.rc == 0, body.stderr
        assert body.stdout.strip() == "bulwark-ok"
    finally:
        host.run(f"docker rm -f {name}")
