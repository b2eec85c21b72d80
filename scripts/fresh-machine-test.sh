#!/usr/bin/env bash
# Run a command (default: `make test`) on a fresh machine: a container of a
# machine's root file system as it was before anything of ours was installed
# (no qemu, debootstrap, chromium or docker.io), with a copy of this checkout,
# as root. This is how we prove that the README's commands set themselves up.
#
#   scripts/fresh-machine-test.sh ROOTFS_TAR [COMMAND...]
#   e.g. scripts/fresh-machine-test.sh /var/tmp/fresh/root.tar
#        scripts/fresh-machine-test.sh /var/tmp/fresh/root.tar 'scripts/docker-engine.sh start && docker info'
#
# ROOTFS_TAR is a tar of a machine's / (without /proc, /sys, /dev, /run, /tmp,
# /var/tmp). What it does:
#  1. Imports the tar once as the image $PREFIX-root:<hash of the tar's path,
#     size and time>; later runs reuse it (remove it with `docker rmi`).
#  2. Starts the container $PREFIX-<pid> from it: docker-init as PID 1 (no
#     systemd, so scripts/docker-engine.sh starts a background dockerd), with
#     what a nested Docker Engine needs here without --privileged, as the
#     Molecule instances have it (molecule/default/molecule.yml): every
#     capability but SYS_RESOURCE, BPF, PERFMON and CHECKPOINT_RESTORE;
#     seccomp and AppArmor unconfined; /sys/fs/cgroup read-only; tmpfs on /run
#     and /run/lock; the volume $PREFIX-<pid>-docker on /var/lib/docker (a
#     nested overlay2 needs a backing store that is not overlay). Then it
#     lifts the runtime's masks over /proc (molecule/resources/images/
#     unmask-kernel-paths.sh), as the test instances do, and makes /tmp and
#     /var/tmp, which the tar leaves out, on the container's disk.
#  3. Copies the checkout in, at /work/checkout: a clean `git clone` of this
#     checkout's HEAD, then the working tree's changes on top (modified and
#     new files that git does not ignore; deleted files removed), so what is
#     tested is what `git commit -a` plus the new files would commit.
#  4. Runs COMMAND there with `bash -c`, as root. The tar holds no login
#     environment, so this machine's PATH, LANG, PYENV_ROOT, PIP_*, PYTHON*
#     and CA-bundle variables are passed on. Paths that pip's configuration
#     names as extra indexes and that the tar leaves out
#     ($BULWARK_FRESH_MOUNTS, default "/opt/pypi /opt/pypi-more", those that
#     exist) are bind-mounted read-only. The network is Docker's default
#     bridge: the container resolves and reaches Debian's archive and PyPI as
#     this machine does.
#  5. Removes the container and its volume at the end, also after a failure
#     or Ctrl-C (KEEP=1 keeps them and says how to enter and remove them).
# The output goes to the terminal and to .cache/fresh-machine/<container>.log;
# the exit status is COMMAND's.
#
# Environment: BULWARK_FRESH_PREFIX (names of the image, container and volume;
# default bulwark-fresh), BULWARK_FRESH_MOUNTS, KEEP.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
prefix=${BULWARK_FRESH_PREFIX:-bulwark-fresh}
mounts=${BULWARK_FRESH_MOUNTS:-/opt/pypi /opt/pypi-more}
inside=/work/checkout

die() { echo "fresh-machine-test.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] || die "usage: $0 ROOTFS_TAR [COMMAND...]"
tarball=$1; shift
[ -f "$tarball" ] || die "no such file: $tarball"
command=${*:-make test}
docker info >/dev/null 2>&1 || die "no Docker Engine answers here"

# The capabilities molecule/default/molecule.yml grants its instances.
CAPABILITIES=(AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID
    IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE
    NET_BROADCAST NET_RAW SETFCAP SETGID SETPCAP SETUID SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE
    SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_TIME SYS_TTY_CONFIG WAKE_ALARM)

ensure_image() {
    local tag
    tag=$(stat -c '%n %s %Y' "$(readlink -f "$tarball")" | sha256sum | cut -c1-12)
    image=$prefix-root:$tag
    if docker image inspect "$image" >/dev/null 2>&1; then
        echo "using the image $image"
        return
    fi
    echo "importing $tarball as $image (a few minutes for a whole machine)"
    docker import --change 'CMD ["sleep", "infinity"]' "$tarball" "$image" >/dev/null
}

container=$prefix-$$
volume=$container-docker
made=()
# Removes what this run made (KEEP=1: says how to reach and remove it instead).
cleanup() {
    [ ${#made[@]} -gt 0 ] || return 0
    if [ -n "${KEEP:-}" ]; then
        echo "kept: container $container, volume $volume (enter: docker exec -it $container bash;" \
            "remove: docker rm -f $container && docker volume rm $volume)"
    else
        docker rm -f "$container" >/dev/null 2>&1 || true
        docker volume rm "$volume" >/dev/null 2>&1 || true
        echo "removed the container $container and its volume"
    fi
    made=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_container() {
    local args=(--detach --name "$container" --hostname fresh-machine --init
                --security-opt seccomp=unconfined --security-opt apparmor=unconfined
                --volume /sys/fs/cgroup:/sys/fs/cgroup:ro --volume "$volume:/var/lib/docker"
                --tmpfs /run --tmpfs /run/lock)
    local capability path
    for capability in "${CAPABILITIES[@]}"; do args+=(--cap-add "$capability"); done
    for path in $mounts; do
        [ -d "$path" ] && args+=(--volume "$path:$path:ro")
    done
    docker volume create "$volume" >/dev/null
    made+=("$volume")
    docker run "${args[@]}" "$image" sleep infinity >/dev/null
    made+=("$container")
    docker exec "$container" sh -c 'mkdir -p /tmp /var/tmp /work && chmod 1777 /tmp /var/tmp'
}

# HEAD cloned, then the working tree's changes on top.
copy_checkout() {
    local clone
    clone=$(mktemp -d "${TMPDIR:-/tmp}/fresh-machine-checkout.XXXXXX")
    git clone -q "$top" "$clone/checkout"
    (
        cd "$top"
        git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' path; do
            if [ -e "$path" ] || [ -L "$path" ]; then printf '%s\0' "$path"; fi
        done | tar --null -T - -c | tar -x -C "$clone/checkout"
        git ls-files -z --deleted | (cd "$clone/checkout" && xargs -0 -r rm -f --)
    )
    docker exec "$container" mkdir -p "$inside"
    tar -C "$clone/checkout" -c . | docker exec -i "$container" tar -x -C "$inside"
    rm -rf "$clone"
    echo "copied the checkout (HEAD $(git -C "$top" rev-parse --short HEAD) plus" \
        "$(git -C "$top" status --porcelain | wc -l) changed or new paths) to $container:$inside"
}

# This machine's environment variables that the tar cannot carry.
environment_args() {
    local name
    for name in $(compgen -e); do
        case $name in
            PATH | LANG | PYENV_ROOT | PIP_* | PYTHON* | SSL_CERT_* | *CA_BUNDLE | GIT_SSL_CAINFO) printf -- '-e\0%s\0' "$name" ;;
        esac
    done
}

ensure_image
start_container
copy_checkout
docker exec "$container" sh "$inside/molecule/resources/images/unmask-kernel-paths.sh"
mkdir -p "$top/.cache/fresh-machine"
log=$top/.cache/fresh-machine/$container.log
env_args=()
mapfile -t -d '' env_args < <(environment_args)
echo "running in $container: $command (log: $log)"
started=$SECONDS
set +e
docker exec "${env_args[@]}" -w "$inside" "$container" bash -c "$command" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo "fresh machine: '$command' exited $rc after $((SECONDS - started)) s" | tee -a "$log"
cleanup
exit "$rc"
