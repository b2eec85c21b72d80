#!/usr/bin/env bash
# Build the Debian VM image for the Molecule scenario `vm`, from Debian's
# archive, never downloaded ready-made:
#   debootstrap (kernel, sshd, dockerd, auditd, apparmor, timesyncd,
#   unattended-upgrades ... all baked in: installing anything inside the
#   emulated VM takes minutes)
#   -> ext4 file system made from the directory (mkfs.ext4 -d, no loop
#   device, no mount) -> qcow2 disk, plus vmlinuz, initrd and an SSH key
#   pair, generated per build, for the sudo user `bulwark` that Ansible logs
#   in as (the host role forbids root logins over SSH).
# Builds are cached under $BULWARK_VM_CACHE/<recipe hash>/ and rebuilt only
# when the recipe changes; $BULWARK_VM_CACHE/debian<N> points at the current
# one. The last line printed is always that build's directory.
# Usage: build-image.sh [bookworm|trixie]   (needs root to build)
#        build-image.sh --host-tools        only install the host tools
#   (make test-vm runs that once before its two builds start side by side;
#   every install goes through scripts/apt-install.sh, whose lock makes
#   parallel callers take turns anyway)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
apt_install=$here/../../../scripts/apt-install.sh
mirror=${BULWARK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${BULWARK_VM_CACHE:-/var/tmp/bulwark-vm}
disk_size=${BULWARK_VM_DISK_SIZE:-8G}  # sparse; the qcow2 holds only what is used
packages="linux-image-cloud-amd64,initramfs-tools,systemd,systemd-sysv,udev,dbus,openssh-server,\
python3,python3-apt,python3-docker,sudo,docker.io,apparmor,auditd,busybox-static,iproute2,iptables,procps,kmod,\
systemd-timesyncd,unattended-upgrades,libnss-myhostname"

declare -A version=([bookworm]=12 [trixie]=13)
# From trixie on, the docker CLI is its own package.
declare -A extra_packages=([bookworm]="" [trixie]=",docker-cli")

die() { echo "build-image.sh: $*" >&2; exit 1; }

# Everything that shapes the image: this script, the suite and its packages.
recipe_hash() {
    { cat "$here/build-image.sh"; echo "$1 $packages${extra_packages[$1]}"; } | sha256sum | cut -c1-12
}

# Host tools, installed from Debian's archive when missing and we are root.
ensure_tools() {
    local -A tool_package=([debootstrap]=debootstrap [mkfs.ext4]=e2fsprogs [qemu-img]=qemu-utils
                           [qemu-system-x86_64]=qemu-system-x86 [ssh-keygen]=openssh-client)
    local tool missing=()
    for tool in "${!tool_package[@]}"; do
        command -v "$tool" >/dev/null || missing+=("${tool_package[$tool]}")
    done
    [ ${#missing[@]} -eq 0 ] && return
    [ "$(id -u)" = 0 ] || die "missing host packages: ${missing[*]} (install them, or run this as root)"
    command -v apt-get >/dev/null || die "missing host packages: ${missing[*]}, and no apt-get to install them"
    echo "installing ${missing[*]}"
    "$apt_install" --no-install-recommends "${missing[@]}" \
        || die "could not install ${missing[*]} from Debian's archive"
}

# Enable or mask units in the tree (symlinks only, nothing starts): with the
# host's systemctl when there is one, else with the tree's own in a chroot
# (trixie's then warns that /proc is not mounted, which these verbs ignore).
offline_systemctl() {
    local root=$1; shift
    if command -v systemctl >/dev/null; then
        systemctl --quiet --root="$root" "$@"
    else
        chroot "$root" systemctl --quiet "$@"
    fi
}

# Configure the debootstrapped tree as a bootable VM, from the host.
configure_rootfs() {
    local root=$1 suite=$2 out=$3
    echo "bulwark-vm" >"$root/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 bulwark-vm\n' >"$root/etc/hosts"
    # vm.sh names each VM after its instance (systemd.hostname=), which
    # /etc/hosts does not know: libnss-myhostname resolves the name, or sudo
    # warns on every become that it cannot.
    grep -q '^hosts:.*myhostname' "$root/etc/nsswitch.conf" \
        || die "libnss-myhostname did not add itself to the hosts line of /etc/nsswitch.conf"
    # The whole disk is the root file system: no partition table.
    echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$root/etc/fstab"
    # DHCP on the virtio NIC from qemu's user-mode network (10.0.2.0/24).
    cat >"$root/etc/systemd/network/10-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
    echo "nameserver 10.0.2.3" >"$root/etc/resolv.conf"
    echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"

    # Ansible logs in as `bulwark`, by this build's key only (the password
    # stays locked), and becomes root through sudo without a password: the
    # host role's sshd drop-in sets PermitRootLogin no, so a root connection
    # would end in the middle of a run. Root keeps the key too (handy by hand
    # before hardening; the role refuses it after).
    chroot "$root" useradd --uid 1000 --user-group --groups sudo --create-home --home-dir /home/bulwark \
        --shell /bin/bash bulwark || die "could not create the user bulwark"
    local gid
    gid=$(chroot "$root" id -g bulwark)
    install -d -m 0700 -o 1000 -g "$gid" "$root/home/bulwark/.ssh"
    install -m 0600 -o 1000 -g "$gid" "$out/id_ed25519.pub" "$root/home/bulwark/.ssh/authorized_keys"
    echo "bulwark ALL=(ALL) NOPASSWD:ALL" >"$root/etc/sudoers.d/bulwark"
    chmod 0440 "$root/etc/sudoers.d/bulwark"
    chroot "$root" visudo -cq -f /etc/sudoers.d/bulwark || die "sudoers.d/bulwark does not parse"
    install -d -m 0700 "$root/root/.ssh"
    install -m 0600 "$out/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
    # Only what a disposable VM needs that the host role does not decide.
    # sshd keeps the first value it reads for a keyword and reads the drop-ins
    # in name order, so this file sorts after the role's
    # 00-bulwark-hardening.conf: the role's settings win wherever they meet.
    cat >"$root/etc/ssh/sshd_config.d/50-bulwark-vm.conf" <<'EOF'
# Disposable test VM: no reverse DNS lookup on each login (slow without DNS).
UseDNS no
EOF
    # Each VM makes its own machine id at first boot.
    : >"$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"

    offline_systemctl "$root" enable systemd-networkd.service ssh.service docker.service \
        containerd.service auditd.service apparmor.service systemd-timesyncd.service \
        || die "could not enable the VM's services"
    # Its unit only waits for shutdown, to finish an upgrade in progress; the
    # upgrades themselves come from the apt timers, masked below.
    if [ -e "$root/lib/systemd/system/unattended-upgrades.service" ] \
            || [ -e "$root/usr/lib/systemd/system/unattended-upgrades.service" ]; then
        offline_systemctl "$root" enable unattended-upgrades.service || die "could not enable unattended-upgrades"
    fi
    # Background jobs that would only steal the emulated CPU during a test.
    offline_systemctl "$root" mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
        e2scrub_all.timer e2scrub_reap.service fstrim.timer || die "could not mask the VM's timers"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
}

build() {
    local suite=$1 hash=$2 out=$3
    local work="$cache/.build-$hash"
    local root="$work/rootfs"
    rm -rf "$work"; mkdir -p "$root"
    ssh-keygen -q -t ed25519 -N '' -C "bulwark-vm-$hash" -f "$work/id_ed25519"

    echo "building the $suite VM image $hash: debootstrap from $mirror (a few minutes)"
    if ! debootstrap --variant=minbase --include="$packages${extra_packages[$suite]}" "$suite" "$root" "$mirror" \
            >"$work/debootstrap.log" 2>&1; then
        tail -n 15 "$work/debootstrap.log" >&2
        die "debootstrap of $suite from $mirror failed (is the archive reachable? log: $work/debootstrap.log)"
    fi
    configure_rootfs "$root" "$suite" "$work"

    # Boot straight into the kernel: qemu loads these two files itself.
    local kernel initrd
    kernel=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)
    initrd=$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -n 1)
    if [ -z "$kernel" ] || [ -z "$initrd" ]; then
        die "no kernel or initrd in $root/boot (see $work/debootstrap.log)"
    fi
    cp "$kernel" "$work/vmlinuz"
    cp "$initrd" "$work/initrd.img"

    echo "making the disk ($disk_size ext4, filled from the tree without mounting it)"
    mkfs.ext4 -q -F -L bulwark-root -d "$root" "$work/disk.raw" "$disk_size" >/dev/null \
        || die "mkfs.ext4 -d failed (e2fsprogs 1.43 or newer is needed for -d)"
    qemu-img convert -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
    rm -rf "$root" "$work/disk.raw"
    echo "$suite $packages${extra_packages[$suite]}" >"$work/recipe"
    mv "$work" "$out"
}

# Builds of older recipes for this suite are only disk space now.
remove_stale_builds() {
    local suite=$1 keep=$2 dir
    for dir in "$cache"/*/; do
        dir=${dir%/}
        if [ "$(basename "$dir")" != "$keep" ] && [ "$(cut -d' ' -f1 "$dir/recipe" 2>/dev/null)" = "$suite" ]; then
            rm -rf "$dir"
        fi
    done
}

if [ "${1:-}" = --host-tools ]; then
    ensure_tools
    exit 0
fi
suite=${1:-bookworm}
num=${version[$suite]:-}
[ -n "$num" ] || die "unknown suite '$suite' (known: ${!version[*]})"
hash=$(recipe_hash "$suite")
out="$cache/$hash"
mkdir -p "$cache"
ensure_tools

# One build per suite at a time; a second caller waits, then finds it cached.
exec 9>"$cache/.lock-$suite"
flock 9
if [ -f "$out/disk.qcow2" ]; then
    echo "debian$num VM image $hash is up to date"
else
    [ "$(id -u)" = 0 ] || die "building the VM image needs root (debootstrap, chroot)"
    started=$SECONDS
    build "$suite" "$hash" "$out"
    remove_stale_builds "$suite" "$hash"
    echo "built the debian$num VM image $hash in $((SECONDS - started)) s"
fi
ln -sfn "$hash" "$cache/debian$num"
echo "$out"
