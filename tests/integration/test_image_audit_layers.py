"""image_audit reads every layer of real `docker save` output, and needs nothing but Python to do it.

Images are built here with `docker build` (the Engine's classic builder, no
registry) on a local base that has a shell: the sleeper rootfs of images.py
plus the host's sh, rm, chmod and mkdir with their libraries, imported. Each
image has one weakness that only its lower layers show:

- secret-removed: a private key COPYed in one layer and deleted (rm) in the
  next - a whiteout;
- setuid-removed / setuid-chmod: a setuid file COPYed, then deleted, or made
  plain by chmod a-s (a copy of the file in the later layer);
- opaque: a directory with a setuid file and a .env file, replaced by an
  empty one in a later layer (rm -rf && mkdir: an opaque directory whiteout);
- odd-names: setuid files named with bytes that are not UTF-8, one of them
  deleted by a later layer;
- many: 100,000 files in the base layer and a later layer that deletes a
  directory of them and the key next to them.

Checked: the verdicts and evidence of 4.8, 4.10 and BW-010 (layer numbers
included), that the module's only Engine calls are reads (no container or
volume appears), the cache, and that the same audit runs in a Python
without the Docker SDK while TLS says the SDK is needed.

Every image made here is named bwsave-... and removed at the end, whatever happens.
"""

import io
import os
import re
import secrets
import shutil
import tarfile

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from ansible_collections.bulwark.hardening.tests.integration.images import (
    IMAGE_LABEL, _add_bytes, _add_dir, _add_file, _shared_libraries, build_image, docker_api, rootfs_tarball,
)
# A fixture: a Python of the tests' own version with nothing but the standard library.
from test_audit_without_sdk import bare_python  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
PREFIX = "bwsave-"
SHELL = PREFIX + "shell:1"
MANY_BASE = PREFIX + "many-base:1"
TAG = ":1"
MANY_FILES = 100000

KEY_BODY = secrets.token_urlsafe(48)
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n" % KEY_BODY).encode()
DOTENV_SECRET = secrets.token_urlsafe(24)
DOTENV = ("LOG_LEVEL=info\nDB_PASSWORD=%s\n" % DOTENV_SECRET).encode()
ELF = b"\x7fELF fake"
HARDENED = 'USER 65534:65534\nHEALTHCHECK --interval=30s CMD ["/bin/sleep", "0"]\n'
BAD_NAME = b"tool-\xff"
OTHER_BAD_NAME = b"tool-\xfe\x1b[31m"
KEPT_NAME = b"kept\xff"

# name: (Dockerfile after FROM, context files {name: (bytes, mode)}, base). COPY drops the setuid and setgid
# bits of the build context's files, so a RUN chmod sets them (its layer holds a copy of the file).
IMAGES = {
    "secret-removed": ("COPY id_rsa /root/.ssh/id_rsa\nRUN rm /root/.ssh/id_rsa\n", {"id_rsa": (PRIVATE_KEY, 0o600)}, SHELL),
    "setuid-removed": ("COPY tool /usr/local/bin/tool\nRUN chmod 4755 /usr/local/bin/tool\nRUN rm /usr/local/bin/tool\n",
                       {"tool": (ELF, 0o755)}, SHELL),
    "setuid-chmod": ("COPY tool /usr/local/bin/tool\nRUN chmod 4755 /usr/local/bin/tool\nRUN chmod a-s /usr/local/bin/tool\n",
                     {"tool": (ELF, 0o755)}, SHELL),
    "opaque": ("COPY app /opt/app\nRUN chmod 4755 /opt/app/tool\nRUN rm -rf /opt/app && mkdir /opt/app\n",
               {"app/tool": (ELF, 0o755), "app/.env": (DOTENV, 0o600)}, SHELL),
    # tool-? is tool-\xff, tool-??* is tool-\xfe\x1b[31m (dash globs bytes).
    "odd-names": ("COPY bin /opt/bin\nRUN chmod 4755 /opt/bin/kept* /opt/bin/tool-? && chmod 2755 /opt/bin/tool-??*\n"
                  "RUN rm /opt/bin/tool-*\n",
                  {"bin/" + BAD_NAME.decode("utf-8", "surrogateescape"): (ELF, 0o755),
                   "bin/" + OTHER_BAD_NAME.decode("utf-8", "surrogateescape"): (ELF, 0o755),
                   "bin/" + KEPT_NAME.decode("utf-8", "surrogateescape"): (ELF, 0o755)}, SHELL),
    "many": ("RUN rm -rf /data/7 /data/keys/id_ed25519\n", {}, MANY_BASE),
}


def reference(name):
    return PREFIX + name + TAG


def _shell_rootfs():
    """The sleeper rootfs plus the host's sh, rm, chmod and mkdir and the libraries they need (ldd)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        names = set()
        with tarfile.open(fileobj=io.BytesIO(rootfs_tarball()), mode="r") as base:
            for member in base.getmembers():
                tar.addfile(member, base.extractfile(member) if member.isreg() else None)
                names.add(member.name)
        for tool in ("sh", "rm", "chmod", "mkdir"):
            binary = os.path.realpath(shutil.which(tool))
            for library in _shared_libraries(binary):
                parts = os.path.dirname(library).strip("/").split("/")
                for depth in range(1, len(parts) + 1):
                    if "/".join(parts[:depth]) not in names:
                        _add_dir(tar, "/".join(parts[:depth]))
                        names.add("/".join(parts[:depth]))
                if library.lstrip("/") not in names:
                    _add_file(tar, library, library)
                    names.add(library.lstrip("/"))
            _add_file(tar, binary, "/bin/" + tool, 0o755)
    return buffer.getvalue()


def _many_rootfs(path):
    """The shell rootfs plus MANY_FILES empty files in /data/<n>/ and a private key in /data/keys."""
    with tarfile.open(path, "w") as tar:
        with tarfile.open(fileobj=io.BytesIO(_shell_rootfs()), mode="r") as base:
            for member in base.getmembers():
                tar.addfile(member, base.extractfile(member) if member.isreg() else None)
        _add_dir(tar, "data")
        for number in range(MANY_FILES):
            if number % 1000 == 0:
                _add_dir(tar, "data/%d" % (number // 1000))
            tar.addfile(tarfile.TarInfo("data/%d/f%d" % (number // 1000, number)))
        _add_dir(tar, "data/keys")
        _add_bytes(tar, "/data/keys/id_ed25519", PRIVATE_KEY, 0o600)


def _remove_everything(api):
    """Remove the images of this test and every image built on them (a failed build leaves its steps' images,
    untagged), children before parents: Docker refuses the other order."""
    ours = set()
    for name in [reference(name) for name in IMAGES] + [MANY_BASE, SHELL]:
        ours.update(image["Id"] for image in api.images(name=name.rsplit(":", 1)[0])
                    if (image.get("Labels") or {}).get("bulwark.test") == "1")
    everything = api.images(all=True)
    parent = dict((image["Id"], image.get("ParentId")) for image in everything)

    def chain(image_id):
        """The image and its parents, up to the first that has none."""
        found = []
        while image_id and image_id not in found and len(found) < 500:
            found.append(image_id)
            image_id = parent.get(image_id)
        return found
    mine = [chain(image["Id"]) for image in everything if ours.intersection(chain(image["Id"]))]
    for _depth, image_id in sorted(((len(line), line[0]) for line in mine), reverse=True):
        api.remove_image(image_id, force=True, noprune=True)  # each of ours by itself, children first


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    api = docker_api(timeout=600)
    _remove_everything(api)
    try:
        api.import_image_from_data(_shell_rootfs(), repository=SHELL.split(":", maxsplit=1)[0], tag="1",
                                   changes=['CMD ["/bin/sh"]', "LABEL " + IMAGE_LABEL])
        path = str(tmp_path_factory.mktemp("bwsave") / "many.tar")
        _many_rootfs(path)
        api.import_image_from_file(path, repository=MANY_BASE.split(":", maxsplit=1)[0], tag="1",
                                   changes=['CMD ["/bin/sleep","infinity"]', "LABEL " + IMAGE_LABEL])
        os.unlink(path)
        ids = {}
        for name, (steps, files, base) in IMAGES.items():
            ids[name] = build_image(api, reference(name), "FROM %s\n%s%s" % (base, steps, HARDENED), files)
        yield api, ids
    finally:
        _remove_everything(api)


def audit(cache_dir, names, interpreter=None, check=False, **extra):
    args = {"docker_host": DOCKER_HOST, "images": [reference(name) for name in names], "cache_dir": str(cache_dir),
            "report": "all"}
    args.update(extra)
    options = {"interpreter": interpreter} if interpreter else {}
    run = run_module("image_audit", args, check=check, **options)
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg") or run.stdout[-3000:]
    return run


def findings(run, name):
    return dict((f["rule"], f) for f in run.result["findings"] if f["target"] == reference(name))


def containers_of(api, ids):
    return [container for image_id in ids for container in api.containers(all=True, filters={"ancestor": image_id})]


@pytest.fixture(scope="module")
def first(lab, tmp_path_factory):
    return audit(tmp_path_factory.mktemp("bwsave-cache") / "cache", list(IMAGES))


def test_a_key_deleted_by_a_later_layer_is_found_in_its_layer(first):
    run = first
    found = findings(run, "secret-removed")
    assert found["BW-010"]["status"] == "fail" and found["4.10"]["status"] == "fail"
    # The shell base is one layer, COPY adds the key (2), RUN deletes it (3); USER and HEALTHCHECK add none.
    assert ("/root/.ssh/id_rsa (private key, %d bytes, layer 2 of 3, deleted in layer 3)" % len(PRIVATE_KEY)
            in found["BW-010"]["evidence"])
    assert "still in the image" in found["BW-010"]["evidence"]
    assert "1 of them deleted or overwritten by a later layer, still in the image" in found["4.10"]["evidence"]


@pytest.mark.parametrize("name", ["setuid-removed", "setuid-chmod"])
def test_a_setuid_file_a_later_layer_removed_is_not_what_a_container_sees(first, name):
    run = first
    four_eight = findings(run, name)["4.8"]
    assert four_eight["status"] == "pass", four_eight
    assert four_eight["evidence"].endswith("in 4 layers; 1 more in lower layers, deleted or replaced by later ones")


def test_an_opaque_directory_hides_what_was_below_it(first):
    run = first
    found = findings(run, "opaque")
    assert found["4.8"]["status"] == "pass" and "1 more in lower layers" in found["4.8"]["evidence"]
    assert found["BW-010"]["status"] == "fail"
    assert "/opt/app/.env (.env file with secret values, %d bytes, layer 2 of 4, deleted in layer 4)" % len(DOTENV) \
        in found["BW-010"]["evidence"]


def test_names_that_are_not_utf8_are_shown_escaped_and_whiteouts_of_them_apply(first):
    run = first
    four_eight = findings(run, "odd-names")["4.8"]
    assert four_eight["status"] == "fail"
    assert four_eight["evidence"] == ("files with special permission bits: 1 setuid (/opt/bin/kept\\xff); "
                                      "2 more in lower layers, deleted or replaced by later ones")
    assert "\x1b" not in run.stdout


def test_many_files_in_every_layer_are_read_whole(first):
    run = first
    found = findings(run, "many")
    assert run.result["scans_incomplete"] == [] and run.result["scan_errors"] == []
    assert "/data/keys/id_ed25519 (private key, %d bytes, layer 1 of 2, deleted in layer 2)" % len(PRIVATE_KEY) \
        in found["BW-010"]["evidence"]
    files = re.search(r"among (\d+) files in 2 layers", found["4.8"]["evidence"])
    assert found["4.8"]["status"] == "pass" and files and int(files.group(1)) > MANY_FILES, found["4.8"]


def test_the_audit_only_reads(lab, first):
    api, ids = lab
    run = first
    assert set(run.result["api_calls_by_endpoint"]) == {"images", "inspect_image", "history", "get_image"}
    assert run.result["api_calls_by_endpoint"]["get_image"] == len(IMAGES)
    assert containers_of(api, ids.values()) == []  # no container of any image audited, ever
    for value in (KEY_BODY, DOTENV_SECRET):
        assert value not in run.stdout and value not in run.stderr


def test_the_cache_answers_a_second_run_and_check_mode_writes_none(lab, tmp_path):
    cache = tmp_path / "cache"
    cold = audit(cache, ["secret-removed"])
    warm = audit(cache, ["secret-removed"])
    assert cold.result["cache"]["written"] == 1 and warm.result["cache"]["hits"] == 1
    assert "get_image" not in warm.result["api_calls_by_endpoint"]
    assert findings(warm, "secret-removed")["BW-010"]["evidence"] == findings(cold, "secret-removed")["BW-010"]["evidence"]
    checked = audit(tmp_path / "never", ["secret-removed"], check=True)
    assert checked.result["cache"]["written"] == 0 and not (tmp_path / "never").exists()


def test_without_the_docker_sdk_the_same_audit(lab, first, bare_python, tmp_path):  # noqa: F811
    run = first
    without = audit(tmp_path / "cache", list(IMAGES), interpreter=bare_python)
    verdicts = [sorted((f["rule"], f["target"], f["status"], f["evidence"]) for f in result["findings"])
                for result in (without.result, run.result)]
    assert verdicts[0] == verdicts[1]


def test_over_tls_without_the_sdk_it_says_the_sdk_is_needed(bare_python):  # noqa: F811
    run = run_module("image_audit", {"docker_host": "tcp://127.0.0.1:2376", "tls": True}, interpreter=bare_python)
    assert run.result.get("failed")
    assert "Failed to import the required Python library (docker)" in run.result["msg"]
    assert "over the local Unix socket or plain TCP the audit needs nothing but Python" in run.result["msg"]
