#!/usr/bin/env bash
# The state of a VM that a hardening run may change, as sorted text, so that
# two fingerprints of the same VM can be compared line by line (prepare.yml
# records one of the fresh VM, check_changed_nothing.yml compares another
# with it after the converge playbook ran in check mode). Run as root.
# The one place that says what is fingerprinted; by hand:
#   ssh -p PORT -i KEY bulwark@127.0.0.1 sudo bash -s < molecule/vm/fingerprint.sh
# Whatever changes by itself on an idle VM is left out, or the comparison
# would fail without any run: sysctl's counters and random values (measured:
# two fingerprints 30 s apart differ in nothing else).
set -uo pipefail
export LC_ALL=C

section() { printf '\n== %s\n' "$1"; }

# A VM reachable over SSH may still be booting: services that start late
# change sysctl values and file modes by themselves (seen on Debian 13), so
# wait until systemd says the boot is over (running, or degraded).
timeout 300 systemctl is-system-running --wait >/dev/null 2>&1

section "sysctl -a, without the counters and random values that move by themselves"
# Left out: usage counters (dentries, inodes, open files, AIO contexts, ptys,
# conntrack entries, quota statistics, the last pid) and the random values
# (a fresh uuid on every read, the entropy estimate). kernel.random.boot_id
# stays: it proves the VM was not rebooted.
sysctl -a 2>/dev/null \
    | grep -Ev '^(fs\.dentry-state|fs\.inode-(nr|state)|fs\.file-nr|fs\.aio-nr|kernel\.pty\.nr|net\.netfilter\.nf_conntrack_count|fs\.quota\.[a-z_]+|kernel\.ns_last_pid|kernel\.random\.(uuid|entropy_avail)) = ' \
    | sort

section "auditctl -l"
auditctl -l 2>&1

section "sha256sum of every regular file under /etc"
find /etc -xdev -type f -print0 | sort -z | xargs -0 -r sha256sum

section "mode, owner and group of everything under /etc"
find /etc -xdev -print0 | sort -z | xargs -0 -r stat -c '%n %a %U %G'

section "getent group docker sudo"
getent group docker sudo

section "mount options of /, /tmp and /dev/shm"
for mountpoint in / /tmp /dev/shm; do
    findmnt -rn -o TARGET,OPTIONS --mountpoint "$mountpoint" || echo "$mountpoint (not a mount point)"
done

section "loaded kernel modules"
lsmod | awk 'NR > 1 {print $1}' | sort

section "units: enabled, active"
for unit in ssh docker auditd systemd-timesyncd unattended-upgrades; do
    echo "$unit $(systemctl is-enabled "$unit" 2>&1) $(systemctl is-active "$unit" 2>&1)"
done

section "sshd -T"
sshd -T 2>&1 | sort
