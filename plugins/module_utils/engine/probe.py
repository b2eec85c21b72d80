# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Prove that the daemon can still start containers: a throwaway container from a throwaway image.

A daemon can start and still refuse every container: default ulimits above
what the runtime may set, a seccomp profile that blocks exec, a cgroup
parent the cgroup driver rejects, a missing default runtime, a log driver
that cannot reach its target. Asking `docker info` sees none of that, so
after a restart one container is started for real.

Nothing is pulled and no image of the host is run (its entrypoint could do
anything): the image is made here from a few bytes, a static program for
the daemon's architecture whose only instruction is exit(0), imported into
the daemon, run once without network, and removed with its container.
"""

from __future__ import annotations

import hashlib
import io
import struct
import tarfile
import time

PROBE_REPOSITORY = "bulwark-dockerd-probe"
PROBE_PATH = "/probe"

# exit(0) for each architecture the probe supports, as machine code.
_EXIT_CODE = {
    # x86-64: xor edi, edi; mov eax, 60 (exit); syscall
    "x86_64": (0x3E, bytes.fromhex("31ffb83c0000000f05")),
    # AArch64: mov x0, #0; mov x8, #93 (exit); svc #0
    "aarch64": (0xB7, bytes.fromhex("000080d2a80b80d2010000d4")),
}
# How docker info .Architecture spells them on other distributions.
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

_LOAD_ADDRESS = 0x400000
_ELF_HEADER_SIZE = 64
_PROGRAM_HEADER_SIZE = 56


class ProbeError(Exception):
    """The probe could not even be set up (not the same as a container that fails to start)."""


def supported(architecture):
    return _ARCH_ALIASES.get(architecture, architecture) in _EXIT_CODE


def exit_program(architecture):
    """A static ELF executable for the architecture that exits with status 0."""
    machine, code = _EXIT_CODE[_ARCH_ALIASES.get(architecture, architecture)]
    entry_offset = _ELF_HEADER_SIZE + _PROGRAM_HEADER_SIZE
    size = entry_offset + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian, version 1, System V
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH",
        2,                                  # e_type: executable
        machine,                            # e_machine
        1,                                  # e_version
        _LOAD_ADDRESS + entry_offset,       # e_entry
        _ELF_HEADER_SIZE,                   # e_phoff
        0,                                  # e_shoff: no sections
        0,                                  # e_flags
        _ELF_HEADER_SIZE,                   # e_ehsize
        _PROGRAM_HEADER_SIZE,               # e_phentsize
        1,                                  # e_phnum
        0, 0, 0,                            # e_shentsize, e_shnum, e_shstrndx
    )
    program_header = struct.pack(
        "<IIQQQQQQ",
        1,                                  # p_type: PT_LOAD
        5,                                  # p_flags: read + execute
        0,                                  # p_offset
        _LOAD_ADDRESS, _LOAD_ADDRESS,       # p_vaddr, p_paddr
        size, size,                         # p_filesz, p_memsz
        0x1000,                             # p_align
    )
    return header + program_header + code


def image_tar(architecture):
    """A root filesystem tarball holding only the probe program."""
    program = exit_program(architecture)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        entry = tarfile.TarInfo(PROBE_PATH.lstrip("/"))
        entry.size = len(program)
        entry.mode = 0o755
        archive.addfile(entry, io.BytesIO(program))
    return buffer.getvalue()


def run_probe(call, architecture, timeout=30):
    """Start one throwaway container; return (started, detail, container inspect or None).

    call: call(method name, *args, **kwargs) on a docker.APIClient (the
    CountingClient's call, which counts them). started is False when the daemon refused to run
    it (detail: the daemon's error) or it did not exit 0. The image and the
    container are removed whatever happens.
    """
    if not supported(architecture):
        raise ProbeError("no probe program for architecture %s" % architecture)
    tar = image_tar(architecture)
    tag = hashlib.sha256(tar).hexdigest()[:12]
    image = "%s:%s" % (PROBE_REPOSITORY, tag)
    call("import_image_from_data", tar, repository=PROBE_REPOSITORY, tag=tag)
    container = None
    try:
        container = call(
            "create_container", image, command=[PROBE_PATH], network_disabled=True,
            labels={"bulwark.probe": "1"}, host_config=call("create_host_config", network_mode="none"),
        )["Id"]
        return _start_and_wait(call, container, timeout)
    finally:
        if container is not None:
            _quietly(call, "remove_container", container, force=True, v=True)
        _quietly(call, "remove_image", image, force=True)


def _start_and_wait(call, container, timeout):
    try:
        call("start", container)
    except Exception as error:  # pylint: disable=broad-except
        return False, "the daemon could not start a container: %s" % (getattr(error, "explanation", None) or error), None
    deadline = time.monotonic() + timeout
    while True:
        inspect = call("inspect_container", container)
        state = inspect.get("State") or {}
        if state.get("Status") in ("exited", "dead"):
            break
        if time.monotonic() > deadline:
            return False, "the probe container did not exit within %d s" % timeout, inspect
        time.sleep(0.1)
    if state.get("ExitCode") != 0 or state.get("Error"):
        error = (": %s" % state["Error"]) if state.get("Error") else ""
        return False, "the probe container exited with code %s%s" % (state.get("ExitCode"), error), inspect
    return True, "a container started and exited 0", inspect


def _quietly(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except Exception:  # pylint: disable=broad-except
        pass  # cleanup of a throwaway item: the probe's verdict stands either way
