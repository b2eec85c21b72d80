"""A tiny local test image, built without any registry.

No registry is reachable on the test machines, and the heavy Molecule image
is someone else's build. So this module packs the host's own `sleep` binary
and the shared libraries it needs (as `ldd` lists them) into a rootfs
tarball and loads it with the Engine's image import (`docker import`), with
`CMD ["/bin/sleep","infinity"]`. The image is a few MB and builds in about
a second; tests and the benchmark call `ensure_sleeper_image()` and reuse it.
"""

import contextlib
import io
import os
import re
import shutil
import subprocess
import tarfile

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
SLEEPER = "bulwark-test/sleeper"
SLEEPER_TAG = "latest"
SLEEPER_REF = SLEEPER + ":" + SLEEPER_TAG
IMAGE_LABEL = "bulwark.test=1"

# Users inside the image: root plus an unprivileged account, so tests can
# run the same image as root and as a normal user by name.
PASSWD = "root:x:0:0:root:/root:/bin/sleep\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sleep\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"

LDD_PATH = re.compile(r"(/\S+)")


def _sleep_binary():
    path = shutil.which("sleep")
    if path is None:
        raise RuntimeError("no `sleep` binary on this host to build %s from" % SLEEPER_REF)
    return os.path.realpath(path)


def _shared_libraries(binary):
    """Absolute library paths the dynamic loader needs for `binary` (ldd output)."""
    try:
        output = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return []  # no ldd: the binary is expected to be static
    paths = []
    for line in output.splitlines():
        match = LDD_PATH.search(line.split("=>")[-1])
        if match and os.path.exists(match.group(1)):
            paths.append(match.group(1))
    return paths


def _add_file(tar, host_path, image_path, mode=None):
    """Add a host file's content (symlinks followed) under image_path."""
    with open(host_path, "rb") as handle:
        data = handle.read()
    _add_bytes(tar, image_path, data, mode if mode is not None else os.stat(host_path).st_mode & 0o777)


def _add_bytes(tar, image_path, data, mode=0o644):
    info = tarfile.TarInfo(image_path.lstrip("/"))
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar, image_path, mode=0o755):
    info = tarfile.TarInfo(image_path.lstrip("/"))
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def rootfs_tarball():
    """The sleeper rootfs as an in-memory tar archive (bytes)."""
    binary = _sleep_binary()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("bin", "etc", "tmp", "lib", "lib64", "usr", "proc", "sys", "dev"):
            _add_dir(tar, directory, 0o1777 if directory == "tmp" else 0o755)
        added_dirs = set()
        for library in _shared_libraries(binary):
            parent = os.path.dirname(library)
            # Parent directories the loader path needs, e.g. lib/x86_64-linux-gnu.
            parts = parent.strip("/").split("/")
            for depth in range(1, len(parts) + 1):
                sub = "/".join(parts[:depth])
                if sub not in added_dirs and sub not in ("lib", "lib64", "usr"):
                    _add_dir(tar, sub)
                    added_dirs.add(sub)
            _add_file(tar, library, library)
        _add_file(tar, binary, "/bin/sleep", 0o755)
        _add_bytes(tar, "/etc/passwd", PASSWD.encode())
        _add_bytes(tar, "/etc/group", GROUP.encode())
    return buffer.getvalue()


def import_image(api, repository, tag=SLEEPER_TAG, extra_changes=()):
    """Import the sleeper rootfs as repository:tag through the Engine API; return the image id."""
    changes = ['CMD ["/bin/sleep","infinity"]', "LABEL " + IMAGE_LABEL] + list(extra_changes)
    api.import_image_from_data(rootfs_tarball(), repository=repository, tag=tag, changes=changes)
    return api.inspect_image("%s:%s" % (repository, tag))["Id"]


def ensure_sleeper_image(api):
    """Return the id of bulwark-test/sleeper:latest, building it first if it is missing."""
    import docker  # pylint: disable=import-outside-toplevel

    try:
        return api.inspect_image(SLEEPER_REF)["Id"]
    except docker.errors.ImageNotFound:
        return import_image(api, SLEEPER)


USERLAND = "bulwark-test/userland"
USERLAND_REF = USERLAND + ":" + SLEEPER_TAG
# Run a userland container with this bind: the host's own /usr, read-only (python3, sh, coreutils).
USERLAND_BIND = "/usr:/usr:ro"


def userland_tarball():
    """An image of a few symlinks (/bin, /lib, /lib64 into /usr) and empty directories: run with the
    host's /usr bind-mounted read-only it is a whole userland, python3 included, at no build cost."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        # /sbin is a directory of its own: dockerd mounts docker-init there (--init).
        for directory in ("usr", "etc", "proc", "sys", "dev", "data", "srv", "sbin"):
            _add_dir(tar, directory)
        _add_dir(tar, "tmp", 0o1777)
        for link in ("bin", "lib", "lib64"):
            info = tarfile.TarInfo(link)
            info.type = tarfile.SYMTYPE
            info.linkname = "usr/" + link
            tar.addfile(info)
        _add_bytes(tar, "/etc/passwd", PASSWD.encode())
        _add_bytes(tar, "/etc/group", GROUP.encode())
    return buffer.getvalue()


def ensure_userland_image(api):
    """Return the id of bulwark-test/userland:latest, importing it first if it is missing."""
    import docker  # pylint: disable=import-outside-toplevel

    try:
        return api.inspect_image(USERLAND_REF)["Id"]
    except docker.errors.ImageNotFound:
        api.import_image_from_data(userland_tarball(), repository=USERLAND, tag=SLEEPER_TAG,
                                   changes=["LABEL " + IMAGE_LABEL, 'CMD ["/bin/sleep","infinity"]'])
        return api.inspect_image(USERLAND_REF)["Id"]


def build_image(api, tag, dockerfile, files=None):
    """Build tag from a Dockerfile text and context files ({name: (bytes, mode)}) through the Engine API
    (the classic builder: no CLI, no registry). FROM a local image only. Returns the image id."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add_bytes(tar, "Dockerfile", dockerfile.encode())
        for name, (data, mode) in sorted((files or {}).items()):
            _add_bytes(tar, name, data, mode)
    buffer.seek(0)
    image_id = None
    for event in api.build(fileobj=buffer, custom_context=True, tag=tag, rm=True, forcerm=True, pull=False,
                           labels={"bulwark.test": "1"}, decode=True):
        if "error" in event:
            raise RuntimeError("building %s: %s" % (tag, event["error"]))
        if "aux" in event and "ID" in event["aux"]:
            image_id = event["aux"]["ID"]
    return image_id or api.inspect_image(tag)["Id"]


def import_rootfs_with(api, repository, tag, extra_files, extra_changes=()):
    """Import the sleeper rootfs plus extra files ({image path: (bytes, mode)}, e.g. a 0o4755 binary)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        with tarfile.open(fileobj=io.BytesIO(rootfs_tarball()), mode="r") as base:
            for member in base.getmembers():
                tar.addfile(member, base.extractfile(member) if member.isreg() else None)
        for path, (data, mode) in sorted(extra_files.items()):
            _add_bytes(tar, path, data, mode)
    changes = ['CMD ["/bin/sleep","infinity"]', "LABEL " + IMAGE_LABEL] + list(extra_changes)
    api.import_image_from_data(buffer.getvalue(), repository=repository, tag=tag, changes=changes)
    return api.inspect_image("%s:%s" % (repository, tag))["Id"]


def docker_api(timeout=60):
    """A low-level client of this machine's Engine, or the test is skipped saying how to get one."""
    import pytest  # pylint: disable=import-outside-toplevel

    docker = pytest.importorskip("docker")
    try:
        api = docker.APIClient(base_url=DOCKER_HOST, version="auto", timeout=timeout)
        api.ping()
    except Exception as error:  # pylint: disable=broad-except
        pytest.skip("no Docker Engine reachable at %s (%s); `make test` starts one" % (DOCKER_HOST, error))
    return api


@contextlib.contextmanager
def running_sleeper(api, name, label, **create):
    """A running container of the sleeper image, named name and labelled label=1 (create: more create_container
    arguments), removed afterwards; one of that name and label an interrupted run left is removed first. Yields its id."""
    def remove():
        for container in api.containers(all=True, filters={"label": label + "=1", "name": name}):
            api.remove_container(container["Id"], force=True)
    image_id = ensure_sleeper_image(api)
    remove()
    try:
        created = api.create_container(image_id, name=name, user="65534:65534", labels={label: "1"}, **create)
        api.start(created["Id"])
        yield created["Id"]
    finally:
        remove()
