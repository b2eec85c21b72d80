# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""What Docker's default seccomp profile refuses a container: data, no logic.

Docker's built-in profile is an allow list. The syscalls below are the ones
it does not allow a container with Docker's default capabilities (moby's
profiles/seccomp/default.json from Docker 20.10 on; docs.docker.com's
"Significant syscalls blocked by the default profile" says why each is
refused). Docker 25 also refuses io_uring_setup, io_uring_enter and
io_uring_register, which earlier versions allow: they are left out, so a
profile is never held to more than the Docker version it may run under.
rules/seccomp_profile.py compares a custom profile with this list to tell
how much of the default's protection it keeps.

One row per syscall:

- name;
- docker_caps: the profile allows it after all when the container holds one
  of these capabilities (an `includes.caps` rule); () when it never does;
- docker_from_kernel: the profile allows it on kernels from this version on
  (an `includes.minKernel` rule), or None;
- kernel_cap: the capability the kernel itself checks before the call does
  what makes it dangerous, so that letting it through seccomp exposes a
  container without that capability to no more than the syscall's entry code;
  None when an unprivileged process can use it (the exposure seccomp is for);
  OBSOLETE when current kernels no longer implement it;
- arches: the Go architectures where the syscall exists, when it is limited
  to some (None: everywhere);
- partial: the default profile allows some argument values (clone without
  namespace flags, personality with a few personas), so only a rule that
  allows the syscall without argument filters lets through what it refuses.
"""

from __future__ import annotations

import collections

DefaultRefusal = collections.namedtuple(
    "DefaultRefusal", ["name", "docker_caps", "docker_from_kernel", "kernel_cap", "arches", "partial"])

# kernel_cap of syscalls that current kernels answer with ENOSYS.
OBSOLETE = "obsolete"

# Go architecture names (GOARCH), as dockerd matches a profile's includes.arches.
X86 = ("amd64", "386")
X86_32 = ("386",)


def _row(name, docker_caps=(), kernel_cap=None, docker_from_kernel=None, arches=None, partial=False):
    return DefaultRefusal(name, tuple(docker_caps), docker_from_kernel, kernel_cap, arches, partial)


REFUSED = (
    # New namespaces: unprivileged through a user namespace (CLONE_NEWUSER needs no capability).
    _row("unshare", ["SYS_ADMIN"]),
    _row("clone", ["SYS_ADMIN"], partial=True),
    _row("clone3", ["SYS_ADMIN"]),
    _row("setns", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    # The kernel keyring is not namespaced.
    _row("add_key"),
    _row("keyctl"),
    _row("request_key"),
    # Kernel attack surface an unprivileged process reaches unless a sysctl closes it.
    _row("bpf", ["SYS_ADMIN", "BPF"]),
    _row("perf_event_open", ["SYS_ADMIN", "PERFMON"]),
    _row("userfaultfd"),
    _row("personality", partial=True),
    # NUMA and memory placement.
    _row("move_pages"),
    _row("migrate_pages"),
    _row("get_mempolicy", ["SYS_NICE"], kernel_cap="SYS_NICE"),
    _row("mbind", ["SYS_NICE"], kernel_cap="SYS_NICE"),
    _row("set_mempolicy", ["SYS_NICE"], kernel_cap="SYS_NICE"),
    _row("set_mempolicy_home_node", ["SYS_NICE"], kernel_cap="SYS_NICE"),
    # Process inspection: the ptrace family is allowed from 4.8 on (older kernels let ptrace bypass seccomp).
    _row("ptrace", ["SYS_PTRACE"], docker_from_kernel=(4, 8)),
    _row("process_vm_readv", ["SYS_PTRACE"], docker_from_kernel=(4, 8)),
    _row("process_vm_writev", ["SYS_PTRACE"], docker_from_kernel=(4, 8)),
    _row("kcmp", ["SYS_PTRACE"], kernel_cap="SYS_PTRACE"),
    _row("pidfd_getfd", ["SYS_PTRACE"], kernel_cap="SYS_PTRACE"),
    _row("process_madvise", ["SYS_PTRACE"], kernel_cap="SYS_PTRACE"),
    # Mounts and the mount API.
    _row("mount", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("umount", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("umount2", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("pivot_root", kernel_cap="SYS_ADMIN"),
    _row("fsopen", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("fsconfig", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("fsmount", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("fspick", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("move_mount", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("mount_setattr", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("open_tree", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("open_by_handle_at", ["DAC_READ_SEARCH"], kernel_cap="DAC_READ_SEARCH"),
    _row("chroot", ["SYS_CHROOT"], kernel_cap="SYS_CHROOT"),
    # Host-wide settings and accounting.
    _row("sethostname", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("setdomainname", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("quotactl", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("quotactl_fd", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("swapon", kernel_cap="SYS_ADMIN"),
    _row("swapoff", kernel_cap="SYS_ADMIN"),
    _row("lookup_dcookie", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    _row("fanotify_init", ["SYS_ADMIN"], kernel_cap="SYS_ADMIN"),
    # Reading the kernel log needs CAP_SYSLOG under kernel.dmesg_restrict=1 (the host role sets it).
    _row("syslog", ["SYS_ADMIN", "SYSLOG"], kernel_cap="SYSLOG"),
    _row("acct", ["SYS_PACCT"], kernel_cap="SYS_PACCT"),
    _row("settimeofday", ["SYS_TIME"], kernel_cap="SYS_TIME"),
    _row("stime", ["SYS_TIME"], kernel_cap="SYS_TIME"),
    _row("clock_settime", ["SYS_TIME"], kernel_cap="SYS_TIME"),
    _row("clock_settime64", ["SYS_TIME"], kernel_cap="SYS_TIME"),
    _row("vhangup", ["SYS_TTY_CONFIG"], kernel_cap="SYS_TTY_CONFIG"),
    _row("reboot", ["SYS_BOOT"], kernel_cap="SYS_BOOT"),
    _row("kexec_load", kernel_cap="SYS_BOOT"),
    _row("kexec_file_load", kernel_cap="SYS_BOOT"),
    _row("init_module", ["SYS_MODULE"], kernel_cap="SYS_MODULE"),
    _row("finit_module", ["SYS_MODULE"], kernel_cap="SYS_MODULE"),
    _row("delete_module", ["SYS_MODULE"], kernel_cap="SYS_MODULE"),
    _row("iopl", ["SYS_RAWIO"], kernel_cap="SYS_RAWIO", arches=X86),
    _row("ioperm", ["SYS_RAWIO"], kernel_cap="SYS_RAWIO", arches=X86),
    _row("vm86", kernel_cap="SYS_ADMIN", arches=X86_32),
    _row("vm86old", kernel_cap="SYS_ADMIN", arches=X86_32),
    # Old interfaces still in some kernels, reachable without privilege.
    _row("uselib"),
    _row("ustat"),
    _row("sysfs"),
    _row("_sysctl"),
    # Gone from current kernels.
    _row("create_module", kernel_cap=OBSOLETE),
    _row("get_kernel_syms", kernel_cap=OBSOLETE),
    _row("query_module", kernel_cap=OBSOLETE),
    _row("nfsservctl", kernel_cap=OBSOLETE),
    _row("bdflush", kernel_cap=OBSOLETE),
)
