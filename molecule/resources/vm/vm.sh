#!/usr/bin/env bash
# Start and stop the disposable qemu VMs of the Molecule scenario `vm`.
#   vm.sh accel IMAGE_DIR          print kvm if KVM really runs a kernel here, else tcg
#   vm.sh start NAME IMAGE_DIR [MEMORY_MB] [CPUS]
#                                  boot NAME on a throw-away overlay of the image;
#                                  print its Molecule instance config as one JSON line
#   vm.sh stop NAME                stop NAME by its pidfile, remove its overlay
#   vm.sh stop-all                 stop every VM that has a pidfile here
# IMAGE_DIR is a directory made by build-image.sh. The state of instance NAME
# lives in $BULWARK_VM_RUN/NAME/: overlay.qcow2, qemu.pid, console.log (the
# serial console, kept after stop for post-mortems).
# BULWARK_VM_ACCEL=kvm|tcg skips the probe.
set -euo pipefail

run=${BULWARK_VM_RUN:-/var/tmp/bulwark-vm/run}

die() { echo "vm.sh: $*" >&2; exit 1; }

if ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null; then
    die "qemu is not installed (as root on Debian, build-image.sh --host-tools installs it)"
fi

# /dev/kvm may exist and still not run a guest (nested virtualisation that
# fails on MSRs or hangs), so boot the real kernel with no root file system:
# reaching its "Kernel panic" within the timeout proves KVM works.
probe_accel() {
    local image=$1 log
    if [ ! -w /dev/kvm ]; then echo tcg; return; fi
    log=$(mktemp)
    # (the braces send bash's own "Aborted" report, if qemu dies, to /dev/null too)
    { timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
        -display none -no-reboot -kernel "$image/vmlinuz" -append "console=ttyS0 panic=-1" \
        -serial "file:$log" || true; } >/dev/null 2>&1
    if grep -q "Kernel panic" "$log"; then echo kvm; else echo tcg; fi
    rm -f "$log"
}

# The pid in NAME's pidfile, only if that process is still our qemu (a pid
# can be reused by an unrelated process after qemu is gone).
qemu_pid() {
    local pidfile=$1 pid
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/cmdline" ]; then return 1; fi
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    case $cmdline in
        *qemu-system*"-pidfile $pidfile "*) echo "$pid" ;;
        *) return 1 ;;
    esac
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local name=$1 image=$2 memory=${3:-2048} cpus=${4:-2}
    local dir="$run/$name" accel cpu port
    [ -f "$image/disk.qcow2" ] || die "no VM image in $image (build it with build-image.sh)"
    stop "$name" >/dev/null  # a leftover of an interrupted run
    mkdir -p "$dir"
    qemu-img create -q -f qcow2 -b "$image/disk.qcow2" -F qcow2 "$dir/overlay.qcow2"
    accel=${BULWARK_VM_ACCEL:-$(probe_accel "$image")}
    # Under emulation the plain qemu64 model runs Python about a quarter
    # faster than "max", whose AVX code paths in glibc are emulated too.
    if [ "$accel" = kvm ]; then cpu=host; else cpu=qemu64; fi
    port=$(free_port)
    # Direct kernel boot, virtio disk and NIC, user-mode networking with
    # SSH forwarded from loopback only. cache=unsafe: the overlay is thrown
    # away, so the guest's flushes need not reach the host's disk.
    if ! qemu-system-x86_64 -name "$name" -accel "$accel" -cpu "$cpu" -m "$memory" -smp "$cpus" \
            -nodefaults -no-user-config -display none \
            -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
            -append "root=/dev/vda rw console=ttyS0 systemd.hostname=$name" \
            -drive "file=$dir/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe" \
            -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22" \
            -device virtio-net-pci,netdev=net0,romfile= \
            -device virtio-rng-pci \
            -serial "file:$dir/console.log" \
            -pidfile "$dir/qemu.pid" -daemonize 2>"$dir/qemu.err"; then
        die "qemu could not start $name: $(cat "$dir/qemu.err")"
    fi
    # Ansible logs in as the image's sudo user, never as root: the host role
    # forbids root logins over SSH in the middle of a run.
    printf '{"instance": "%s", "address": "127.0.0.1", "port": %s, "user": "bulwark", "identity_file": "%s",' \
        "$name" "$port" "$image/id_ed25519"
    printf ' "accel": "%s", "console_log": "%s", "pidfile": "%s", "started": %s}\n' \
        "$accel" "$dir/console.log" "$dir/qemu.pid" "$(date +%s)"
}

stop() {
    local name=$1 dir="$run/$1" pid tries=20
    if pid=$(qemu_pid "$dir/qemu.pid"); then
        kill -TERM "$pid"
        while [ $tries -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
            sleep 0.5; tries=$((tries - 1))
        done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
        echo "stopped $name (pid $pid)"
    fi
    rm -f "$dir/overlay.qcow2" "$dir/qemu.pid" "$dir/qemu.err"
}

stop_all() {
    local pidfile
    for pidfile in "$run"/*/qemu.pid; do
        [ -e "$pidfile" ] || continue
        stop "$(basename "$(dirname "$pidfile")")"
    done
}

case ${1:-} in
    accel) [ $# -eq 2 ] || die "usage: vm.sh accel IMAGE_DIR"; probe_accel "$2" ;;
    start) [ $# -ge 3 ] || die "usage: vm.sh start NAME IMAGE_DIR [MEMORY_MB] [CPUS]"; shift; start "$@" ;;
    stop) [ $# -eq 2 ] || die "usage: vm.sh stop NAME"; stop "$2" ;;
    stop-all) stop_all ;;
    *) die "usage: vm.sh accel|start|stop|stop-all ..." ;;
esac
