# -*- coding: utf-8 -*-
"""The probe container: a tiny exit(0) ELF program, its image tarball, and one run that always cleans up."""

from __future__ import annotations

import io
import platform
import struct
import subprocess
import tarfile

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.engine.probe import (
    PROBE_PATH, PROBE_REPOSITORY, ProbeError, exit_program, image_tar, run_probe, supported,
)

EM_X86_64 = 0x3E
EM_AARCH64 = 0xB7
ELF_HEADER = "<4sBBBB8xHHIQQQIHHHHHH"
PROGRAM_HEADER = "<IIQQQQQQ"


def elf_header(program):
    fields = struct.unpack_from(ELF_HEADER, program)
    names = ("magic", "elf_class", "data", "ident_version", "os_abi", "type", "machine", "version", "entry", "phoff",
             "shoff", "flags", "ehsize", "phentsize", "phnum", "shentsize", "shnum", "shstrndx")
    return dict(zip(names, fields))


def program_header(program, offset):
    names = ("type", "flags", "offset", "vaddr", "paddr", "filesz", "memsz", "align")
    return dict(zip(names, struct.unpack_from(PROGRAM_HEADER, program, offset)))


# --- the program ------------------------------------------------------------------

@pytest.mark.parametrize("architecture, machine", [("x86_64", EM_X86_64), ("aarch64", EM_AARCH64)])
def test_exit_program_is_a_64_bit_little_endian_executable(architecture, machine):
    header = elf_header(exit_program(architecture))
    assert header["magic"] == b"\x7fELF"
    assert (header["elf_class"], header["data"], header["ident_version"]) == (2, 1, 1)
    assert (header["type"], header["machine"], header["version"]) == (2, machine, 1)
    assert (header["ehsize"], header["phentsize"], header["phnum"]) == (64, 56, 1)
    assert (header["shoff"], header["shnum"]) == (0, 0)


@pytest.mark.parametrize("architecture", ["x86_64", "aarch64"])
def test_the_entry_point_is_inside_the_one_loaded_segment(architecture):
    program = exit_program(architecture)
    header = elf_header(program)
    segment = program_header(program, header["phoff"])
    assert segment["type"] == 1  # PT_LOAD
    assert segment["flags"] == 5  # read + execute
    assert segment["offset"] == 0
    assert segment["filesz"] == segment["memsz"] == len(program)
    assert segment["vaddr"] % segment["align"] == 0
    assert segment["vaddr"] <= header["entry"] < segment["vaddr"] + segment["filesz"]
    assert header["entry"] - segment["vaddr"] == header["phoff"] + header["phentsize"]


def test_the_x86_64_program_ends_with_the_exit_system_call():
    assert exit_program("x86_64").endswith(bytes.fromhex("b83c0000000f05"))


def test_the_aarch64_program_ends_with_svc_0():
    assert exit_program("aarch64").endswith(bytes.fromhex("010000d4"))


def test_docker_info_spellings_give_the_same_program():
    assert exit_program("amd64") == exit_program("x86_64")
    assert exit_program("arm64") == exit_program("aarch64")


@pytest.mark.skipif(platform.machine() != "x86_64", reason="runs the x86_64 program natively")
def test_the_x86_64_program_runs_and_exits_0(tmp_path):
    path = tmp_path / "probe"
    path.write_bytes(exit_program("x86_64"))
    path.chmod(0o755)
    assert subprocess.run([str(path)], check=False, timeout=10).returncode == 0


@pytest.mark.parametrize("architecture, expected", [
    ("x86_64", True), ("amd64", True), ("aarch64", True), ("arm64", True), ("s390x", False), ("armv7l", False),
])
def test_supported(architecture, expected):
    assert supported(architecture) is expected


def test_image_tar_holds_only_the_probe():
    with tarfile.open(fileobj=io.BytesIO(image_tar("x86_64")), mode="r") as archive:
        members = archive.getmembers()
        program = archive.extractfile(members[0]).read()
    assert [(member.name, member.isfile(), member.mode) for member in members] == [("probe", True, 0o755)]
    assert "/" + members[0].name == PROBE_PATH
    assert program == exit_program("x86_64")


# --- run_probe --------------------------------------------------------------------

class DaemonError(Exception):
    """Shaped like docker.errors.APIError: the daemon's own words are in explanation."""

    def __init__(self, explanation):
        super(DaemonError, self).__init__("500 Server Error")
        self.explanation = explanation


RLIMIT_ERROR = ("failed to create shim task: OCI runtime create failed: runc create failed: unable to start container "
                "process: error during container init: error setting rlimits for ready process: error setting rlimit "
                "type 7: operation not permitted: unknown")


class FakeEngine(object):
    """A `call` function over a pretend daemon, recording every call."""

    def __init__(self, states=({"Status": "exited", "ExitCode": 0, "Error": ""},), start_error=None, cleanup_error=None):
        self.calls = []
        self.states = list(states)
        self.start_error = start_error
        self.cleanup_error = cleanup_error

    def __call__(self, name, *args, **kwargs):
        self.calls.append((name, args, kwargs))
        if name == "create_container":
            return {"Id": "5e1c0ffee", "Warnings": []}
        if name == "create_host_config":
            return {"NetworkMode": kwargs["network_mode"]}
        if name == "start" and self.start_error:
            raise self.start_error
        if name == "inspect_container":
            state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
            return {"Id": args[0], "State": state}
        if name in ("remove_container", "remove_image") and self.cleanup_error:
            raise self.cleanup_error
        return None

    def names(self):
        return [name for name, _args, _kwargs in self.calls]

    def called(self, name):
        return [(args, kwargs) for called, args, kwargs in self.calls if called == name]


def removed_everything(engine):
    image = engine.called("create_container")[0][0][0]
    return (engine.called("remove_container") == [(("5e1c0ffee",), {"force": True, "v": True})]
            and engine.called("remove_image") == [((image,), {"force": True})])


def test_a_probe_that_exits_0():
    engine = FakeEngine(states=[{"Status": "running"}, {"Status": "exited", "ExitCode": 0, "Error": ""}])
    started, detail, inspect = run_probe(engine, "x86_64")
    assert (started, detail) == (True, "a container started and exited 0")
    assert inspect["State"]["ExitCode"] == 0
    assert removed_everything(engine)


def test_the_image_is_imported_under_the_name_it_is_run_and_removed_by():
    engine = FakeEngine()
    run_probe(engine, "amd64")
    (tar,), imported = engine.called("import_image_from_data")[0]
    assert tar == image_tar("x86_64")
    image = "%s:%s" % (imported["repository"], imported["tag"])
    assert imported["repository"] == PROBE_REPOSITORY
    assert engine.called("create_container")[0][0] == (image,)
    assert engine.called("remove_image")[0][0] == (image,)


def test_the_probe_container_runs_the_program_without_network():
    engine = FakeEngine()
    run_probe(engine, "x86_64")
    _args, options = engine.called("create_container")[0]
    assert options["command"] == [PROBE_PATH]
    assert options["network_disabled"] is True
    assert options["host_config"] == {"NetworkMode": "none"}
    assert options["labels"] == {"bulwark.probe": "1"}


def test_a_container_the_daemon_cannot_start():
    engine = FakeEngine(start_error=DaemonError(RLIMIT_ERROR))
    started, detail, inspect = run_probe(engine, "x86_64")
    assert started is False
    assert detail == "the daemon could not start a container: " + RLIMIT_ERROR
    assert inspect is None
    assert "inspect_container" not in engine.names()
    assert removed_everything(engine)


def test_a_start_error_without_explanation_is_reported_by_its_text():
    engine = FakeEngine(start_error=RuntimeError("connection aborted"))
    assert run_probe(engine, "x86_64")[1] == "the daemon could not start a container: connection aborted"


def test_a_probe_that_exits_non_zero():
    engine = FakeEngine(states=[{"Status": "exited", "ExitCode": 139, "Error": ""}])
    started, detail, inspect = run_probe(engine, "x86_64")
    assert started is False
    assert detail.startswith("the probe container exited with code 139")
    assert inspect["State"]["ExitCode"] == 139
    assert removed_everything(engine)


def test_a_probe_the_runtime_reports_an_error_for():
    engine = FakeEngine(states=[{"Status": "dead", "ExitCode": 0, "Error": "shim disconnected"}])
    started, detail, _inspect = run_probe(engine, "x86_64")
    assert started is False
    assert detail == "the probe container exited with code 0: shim disconnected"


def test_a_probe_that_does_not_exit_in_time():
    engine = FakeEngine(states=[{"Status": "running", "ExitCode": 0, "Error": ""}])
    started, detail, inspect = run_probe(engine, "x86_64", timeout=0)
    assert started is False
    assert detail == "the probe container did not exit within 0 s"
    assert inspect["State"]["Status"] == "running"
    assert removed_everything(engine)


def test_a_failing_cleanup_does_not_change_the_verdict():
    engine = FakeEngine(cleanup_error=DaemonError("conflict: unable to remove repository reference"))
    assert run_probe(engine, "x86_64")[0] is True
    assert engine.names()[-2:] == ["remove_container", "remove_image"]


def test_the_image_is_removed_when_the_container_cannot_be_created():
    engine = FakeEngine()

    def refuse_create(name, *args, **kwargs):
        if name == "create_container":
            raise DaemonError("No such image")
        return engine(name, *args, **kwargs)

    with pytest.raises(DaemonError):
        run_probe(refuse_create, "x86_64")
    assert "remove_container" not in engine.names()
    assert [name for name in engine.names() if name.startswith("remove")] == ["remove_image"]


def test_an_unsupported_architecture_calls_nothing():
    engine = FakeEngine()
    with pytest.raises(ProbeError, match="s390x"):
        run_probe(engine, "s390x")
    assert engine.calls == []
