# -*- coding: utf-8 -*-
"""A made-up machine for the SSH access preflight: accounts, key files with owners and modes, a session,
and real `sshd -T -C` output (tests/unit/fixtures/sshd, made by make_fixtures.sh there).

The fixtures evaluate Debian's sshd_config with a drop-in for the client 192.0.2.10 port 50022 reaching
192.0.2.1 port 22: SESSION is that connection.
"""

from __future__ import annotations

import collections
import errno
import os
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh
from ansible_collections.bulwark.hardening.plugins.module_utils.host.ssh_access import Account
from ansible_collections.bulwark.hardening.plugins.module_utils.host.ssh_session import SshSession

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "sshd")
RELEASES = ("debian12", "debian13")

SESSION = SshSession("192.0.2.10", 50022, "192.0.2.1", 22, "SSH_CONNECTION of process 812 (bash)")
DEPLOY = Account("deploy", 1000, 1000, "/home/deploy", frozenset(["deploy", "sudo"]), frozenset([1000, 27]))
ROOT = Account("root", 0, 0, "/root", frozenset(["root"]), frozenset([0]))
ALICE = Account("alice", 1001, 1001, "/home/alice", frozenset(["alice"]), frozenset([1001]))
ACCOUNTS = {"deploy": DEPLOY, "root": ROOT, "alice": ALICE}

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG3xampleDeployLaptopKey0000000000000000000 deploy@laptop"
OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOfSomeoneElse00000000000000000000 ops@desk"

Stat = collections.namedtuple("Stat", ["st_mode", "st_uid", "st_gid"])


def sshd_output(release, case):
    with open(os.path.join(FIXTURES, "%s-%s.txt" % (release, case)), encoding="utf-8") as handle:
        return handle.read()


def effective(release, case):
    return ssh.parse_effective(sshd_output(release, case))


class FakeFs(object):
    """Files and directories with owners and modes: stat(path) and read(path) as the preflight calls them."""

    def __init__(self):
        self.entries = {}
        self.directory("/", 0o755)

    def directory(self, path, mode, uid=0, gid=0):
        self.entries[path] = (stat.S_IFDIR | mode, uid, gid, None)
        return self

    def file(self, path, text, mode=0o600, uid=0, gid=0):
        self.entries[path] = (stat.S_IFREG | mode, uid, gid, text)
        return self

    def stat(self, path):
        if path not in self.entries:
            raise OSError(errno.ENOENT, "No such file or directory", path)
        mode, uid, gid, _text = self.entries[path]
        return Stat(mode, uid, gid)

    def read(self, path):
        self.stat(path)
        return self.entries[path][3]


def home_with_keys(fs, account, text, mode=0o600, name="authorized_keys"):
    """account's home (0755), ~/.ssh (0700) and a key file in it, all the account's own."""
    fs.directory("/home", 0o755)
    fs.directory(account.home, 0o755, account.uid, account.gid)
    fs.directory(account.home + "/.ssh", 0o700, account.uid, account.gid)
    fs.file(account.home + "/.ssh/" + name, text, mode, account.uid, account.gid)
    return fs


def deploy_host(text=KEY + "\n", mode=0o600):
    """deploy with text in ~/.ssh/authorized_keys; root with no key."""
    fs = home_with_keys(FakeFs(), DEPLOY, text, mode)
    fs.directory("/root", 0o700)
    fs.directory("/etc", 0o755).directory("/etc/ssh", 0o755)
    return fs


def machine(fs, session=SESSION):
    return ssh.Machine(session, ACCOUNTS.get, fs.read, fs.stat)
