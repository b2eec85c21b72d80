"""The SSH lockout preflight against the VM's real sshd (OpenSSH 9.2 on Debian 12, 10.0 on 13), over the
real SSH session Ansible opens as `bulwark` (through sudo, so the client address comes from the session's
process tree): every case the old three-keyword model let through is refused with its reason, and the
good ones are accepted.

Every Ansible call is a round trip into an emulated CPU (about 6 s), so the cases are planned in one
call of a test-only module (../library/bulwark_ssh_preflight_cases.py: host_harden's own ssh plan for
each case, nothing applied), plus one real host_harden call in check mode for the module's own path.
Each case's drop-in is CASE_PATH, which sorts before the role's drop-in: its values win, as the role's
own would. Test users (bwssh*), a Match drop-in and root's key moved aside are put back afterwards."""

import json
import os

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, "..", "..", "..")
with open(os.path.join(TOP, "roles", "host", "defaults", "main.yml"), encoding="utf-8") as handle:
    HOST_DEFAULTS = yaml.safe_load(handle)

CASE_PATH = "/etc/ssh/sshd_config.d/00-0-bwssh-case.conf"
MATCH_PATH = "/etc/ssh/sshd_config.d/60-bwssh-match.conf"
# qemu's user-mode network shows the machine running the VM (Ansible's end) at this address.
CLIENT = "10.0.2.2"
# Users with bulwark's key: from= for elsewhere and for here, a group-writable key file, and two users
# with a Match block each (one matches this connection, one does not).
USERS = ("bwsshfrom", "bwsshnear", "bwsshmode", "bwsshm1", "bwsshm2")
SETUP = """set -e
key=$(grep -m1 '^ssh-' /home/bulwark/.ssh/authorized_keys)
groupadd -f bwssh
for user in %(users)s; do
    id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups bwssh "$user"
    install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"
    printf '%%s\\n' "$key" >"/home/$user/.ssh/authorized_keys"
    chown "$user:$user" "/home/$user/.ssh/authorized_keys"; chmod 0600 "/home/$user/.ssh/authorized_keys"
done
printf 'from="192.0.2.0/24" %%s\\n' "$key" >/home/bwsshfrom/.ssh/authorized_keys
printf 'from="%(client)s" %%s\\n' "$key" >/home/bwsshnear/.ssh/authorized_keys
chmod 0664 /home/bwsshmode/.ssh/authorized_keys
printf 'Match User bwsshm1 Address %(client)s LocalPort 22\\n    DenyUsers bwsshm1\\n' >%(match)s
printf 'Match User bwsshm2 Address 192.0.2.1\\n    DenyUsers bwsshm2\\n' >>%(match)s
mv /root/.ssh/authorized_keys /root/.ssh/authorized_keys.bwssh
""" % dict(users=" ".join(USERS), client=CLIENT, match=MATCH_PATH)
TEARDOWN = """rm -f %(match)s
if [ -e /root/.ssh/authorized_keys.bwssh ]; then mv /root/.ssh/authorized_keys.bwssh /root/.ssh/authorized_keys; fi
for user in %(users)s; do userdel --remove "$user" 2>/dev/null || true; done
groupdel bwssh 2>/dev/null || true
""" % dict(users=" ".join(USERS), match=MATCH_PATH)


def ssh_option(allow_groups=("sudo",), algorithms=False, **settings):
    """host_harden's ssh option as tasks/ssh.yml builds it, at CASE_PATH, with settings added."""
    wanted = dict(HOST_DEFAULTS["host_ssh_settings"], **settings)
    if algorithms:
        wanted.update(Ciphers=HOST_DEFAULTS["host_ssh_ciphers"], MACs=HOST_DEFAULTS["host_ssh_macs"],
                      KexAlgorithms=HOST_DEFAULTS["host_ssh_kex_algorithms"])
    return dict(path=CASE_PATH, settings=wanted, allow_groups=list(allow_groups))


OURS = ("sudo", "bwssh")
# name: (connecting user, ssh option, None when accepted else a part of the refusal)
CASES = {
    "role defaults": ("bulwark", ssh_option(algorithms=True), None),
    "AllowUsers alice": ("bulwark", ssh_option(AllowUsers="alice"), "bulwark is not in AllowUsers (alice)"),
    "DenyUsers bulwark": ("bulwark", ssh_option(DenyUsers="bulwark"), "bulwark is in DenyUsers (bulwark)"),
    "AuthorizedKeysFile moved": ("bulwark", ssh_option(AuthorizedKeysFile="/etc/ssh/authorized_keys/%u"),
                                 "/etc/ssh/authorized_keys/bulwark: no such file"),
    "PubkeyAuthentication no": ("bulwark", ssh_option(PubkeyAuthentication="no"),
                                "would be accepted: PubkeyAuthentication no"),
    "AuthenticationMethods publickey,password": (
        "bulwark", ssh_option(PasswordAuthentication="yes", AuthenticationMethods="publickey,password"),
        "AuthenticationMethods would be publickey,password"),
    "root with a password under prohibit-password": (
        "root", ssh_option(("sudo", "root"), PermitRootLogin="prohibit-password", PasswordAuthentication="yes"),
        "logs in with a password now (no key sshd accepts) and PermitRootLogin would be prohibit-password"),
    "from= elsewhere": ("bwsshfrom", ssh_option(OURS), 'from="192.0.2.0/24" does not let %s in' % CLIENT),
    "from= here": ("bwsshnear", ssh_option(OURS), None),
    "StrictModes": ("bwsshmode", ssh_option(OURS), "StrictModes: bad ownership or modes for the file"),
    "Match block for this connection": ("bwsshm1", ssh_option(OURS), "bwsshm1 is in DenyUsers (bwsshm1)"),
    "Match block for another address": ("bwsshm2", ssh_option(OURS), None),
}


@pytest.fixture(scope="module")
def case_results(host):
    host.run_expect([0], SETUP)
    library = os.path.join(HERE, "..", "library")
    previous = os.environ.get("ANSIBLE_LIBRARY")
    os.environ["ANSIBLE_LIBRARY"] = library + (os.pathsep + previous if previous else "")
    try:
        cases = [dict(name=name, connecting_user=user, ssh=option) for name, (user, option, _why) in CASES.items()]
        result = host.ansible("bulwark_ssh_preflight_cases", json.dumps(dict(connection="ssh", cases=cases)),
                              check=True, become=True)
        yield result["cases"]
    finally:
        if previous is None:
            del os.environ["ANSIBLE_LIBRARY"]
        else:
            os.environ["ANSIBLE_LIBRARY"] = previous
        host.run(TEARDOWN)


@pytest.mark.parametrize("name", [name for name, (_user, _option, why) in CASES.items() if why])
def test_a_case_that_locks_the_user_out_is_refused_with_its_reason(case_results, name):
    refused = case_results[name]["refused"]
    assert refused and refused.startswith("ssh: refused before any change, the connecting user would be locked out: ")
    assert CASES[name][2] in refused, refused


@pytest.mark.parametrize("name", [name for name, (_user, _option, why) in CASES.items() if not why])
def test_a_case_that_keeps_the_user_in_is_accepted_for_this_connection(case_results, name):
    result = case_results[name]
    assert result["refused"] is None
    assert result["changed"] and result["skipped"] is None
    access = result["access"]
    assert access["client_address"] == CLIENT
    # sudo resets the environment: the address came from the SSH session's own process.
    assert access["client_address_from"].startswith("SSH_CONNECTION of process ")
    assert access["session_method"] == "publickey" and len(access["keys_kept"]) == 1


def test_host_harden_itself_refuses_a_lockout_in_check_mode(host):
    arguments = dict(connection="ssh", connecting_user="bulwark", ssh=ssh_option(DenyUsers="bulwark"))
    try:
        result = host.ansible("bulwark.hardening.host_harden", json.dumps(arguments), check=True, become=True)
    except host.ansible.AnsibleException as error:
        result = error.result
    # A failed module: no result of any area, the refusal as its message (the ad hoc result file
    # testinfra reads may lack "failed").
    assert "areas" not in result
    assert "bulwark is in DenyUsers (bulwark)" in result["msg"]
    assert not host.file(CASE_PATH).exists
