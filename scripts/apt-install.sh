#!/usr/bin/env bash
# Install Debian packages the project's scripts need: the one place that runs
# apt-get (docker-engine.sh, integration-tools.sh, ansible-test-sanity.sh, the image and
# VM image builds all call it).
#
#   apt-install.sh [--no-install-recommends] PACKAGE...
#
# - Only what is missing: packages dpkg-query reports installed are left
#   alone; when nothing is missing it needs neither root nor apt.
# - Our callers take turns: the two VM image builds side by side, make targets
#   in parallel, other checkouts on this machine all hold one flock
#   ($BULWARK_APT_LOCK) from the update to the end of the install, and check
#   again what is missing once it is theirs (the caller before may have
#   installed it).
# - A foreign apt or dpkg (unattended-upgrades, apt-daily, a person) is waited
#   for, not failed on: apt-get gets DPkg::Lock::Timeout for dpkg's lock, and a
#   run that still stops on one of apt's locks (apt-get update takes the lists
#   lock without waiting) is retried until the same deadline.
# - Package lists: refreshed first when there are none (images are often built
#   without them) or they are older than $BULWARK_APT_MAX_AGE seconds
#   (default 86400). Their age is that of the newest list or of our last
#   update, whichever is younger: apt dates each list with the archive's
#   Last-Modified and leaves a list the archive did not change untouched, so
#   a suite that has not moved for months (a stable suite without -updates,
#   a snapshot mirror) keeps lists months "old" right after an update; the
#   stamp ($BULWARK_APT_LOCK.updated) keeps us from updating again each time.
#   An install that fails on lists this call did not refresh is retried once
#   after an update (an archive that moved on since: 404 or no candidate).
#
# Exit status: 0 installed, or nothing was missing; 1 apt-get failed or a
# lock was not free in time (the message names the packages and shows apt's
# last lines); 2 usage; 3 cannot install here (not root, or no apt-get).
#
# Environment: BULWARK_APT_WAIT (seconds to wait for any lock, default 1800),
# BULWARK_APT_MAX_AGE, BULWARK_APT_LOCK (default
# /var/lock/bulwark-apt-install.lock), BULWARK_APT_LISTS (default
# /var/lib/apt/lists; the tests point it elsewhere).
set -euo pipefail

me=apt-install.sh
wait_seconds=${BULWARK_APT_WAIT:-1800}
max_age=${BULWARK_APT_MAX_AGE:-86400}
our_lock=${BULWARK_APT_LOCK:-/var/lock/bulwark-apt-install.lock}
updated_stamp=$our_lock.updated
lists=${BULWARK_APT_LISTS:-/var/lib/apt/lists}

die() { echo "$me: $2" >&2; exit "$1"; }

now() { printf '%(%s)T' -1; }

# Seconds left until the deadline, never below 0.
remaining() {
    local left=$(( deadline - $(now) ))
    echo $(( left > 0 ? left : 0 ))
}

install_options=()
packages=()
for arg in "$@"; do
    case $arg in
        --no-install-recommends) install_options+=("$arg") ;;
        -*) die 2 "unknown option $arg (usage: $me [--no-install-recommends] PACKAGE...)" ;;
        *) packages+=("$arg") ;;
    esac
done
[ ${#packages[@]} -gt 0 ] || die 2 "usage: $me [--no-install-recommends] PACKAGE..."

if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
    die 3 "cannot install ${packages[*]}: this is not Debian (no apt-get or dpkg-query); install them with your system's package manager"
fi

# Prints the packages of $@ that dpkg does not report installed.
missing_of() {
    local package status
    for package in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null) || status=
        case $status in
            ii*) ;;
            *) echo "$package" ;;
        esac
    done
}

missing=()
mapfile -t missing < <(missing_of "${packages[@]}")
[ ${#missing[@]} -gt 0 ] || exit 0
[ "$(id -u)" = 0 ] || die 3 "missing Debian packages: ${missing[*]}; installing them needs root (run this as root, or: sudo apt-get install ${missing[*]})"

deadline=$(( $(now) + wait_seconds ))
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# One flock for all our callers, held until the install is done.
take_our_lock() {
    mkdir -p "$(readlink -m "$(dirname "$our_lock")")"
    exec 9<>"$our_lock"
    flock -n 9 && return
    echo "$me: waiting for another install of ours to finish ($(head -c 200 "$our_lock" 2>/dev/null || true))"
    flock -w "$(remaining)" 9 \
        || die 1 "gave up on ${missing[*]}: another install of ours still held $our_lock after ${wait_seconds} s"
}

LOCK_ERROR='Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock'

# apt-get with DPkg::Lock::Timeout up to the deadline; a run that stops on a
# lock anyway is retried every 2 s until then. Its output goes to $log;
# $on_lock says whether the last failure was a lock still held.
on_lock=
apt_get() {
    local said=
    on_lock=
    while :; do
        if DEBIAN_FRONTEND=noninteractive apt-get -q -o "DPkg::Lock::Timeout=$(remaining)" "$@" \
                >"$log" 2>&1; then
            return 0
        fi
        grep -qE "$LOCK_ERROR" "$log" || return 1
        if [ "$(now)" -ge "$deadline" ]; then
            on_lock=1
            return 1
        fi
        if [ -z "$said" ]; then
            echo "$me: waiting for apt's lock: $(grep -m1 -E "$LOCK_ERROR" "$log")"
            said=1
        fi
        sleep 2
    done
}

# Shows apt's last lines and stops, naming the packages and the cause.
failed() {
    tail -n 15 "$log" >&2
    if [ -n "$on_lock" ]; then
        die 1 "could not install ${missing[*]}: $1 (a lock of apt or dpkg was still held after ${wait_seconds} s)"
    fi
    die 1 "could not install ${missing[*]}: $1"
}

# The newest modification time of the files given (0 when none exists).
newest_mtime() {
    local file newest=0 mtime
    for file in "$@"; do
        [ -f "$file" ] || continue
        mtime=$(stat -c %Y "$file")
        [ "$mtime" -le "$newest" ] || newest=$mtime
    done
    echo "$newest"
}

# Why the lists need an update ("" when they are fresh enough).
lists_need_update() {
    local newest
    newest=$(newest_mtime "$lists"/*_Packages*)
    if [ "$newest" = 0 ]; then
        echo "there are none"
        return
    fi
    newest=$(newest_mtime "$lists"/*_Packages* "$updated_stamp")
    if [ $(( $(now) - newest )) -gt "$max_age" ]; then
        echo "they are $(( ($(now) - newest) / 3600 )) h old"
    fi
}

updated=
update_lists() {
    echo "$me: updating the package lists ($1)"
    apt_get update || failed "apt-get update failed (is the archive reachable?)"
    : >"$updated_stamp"
    updated=1
}

install_missing() {
    apt_get install -y "${install_options[@]}" "${missing[@]}"
}

take_our_lock
echo "pid $$ installing ${missing[*]}" >"$our_lock"
mapfile -t missing < <(missing_of "${missing[@]}")
[ ${#missing[@]} -gt 0 ] || exit 0

reason=$(lists_need_update)
[ -z "$reason" ] || update_lists "$reason"
echo "$me: installing ${missing[*]}"
if ! install_missing; then
    [ -z "$on_lock" ] || failed "apt-get install did not get its lock"
    [ -z "$updated" ] || failed "apt-get install failed"
    update_lists "the install failed on lists this run had not refreshed"
    install_missing || failed "apt-get install failed, also after updating the package lists"
fi
still=()
mapfile -t still < <(missing_of "${missing[@]}")
[ ${#still[@]} -eq 0 ] || die 1 "apt-get install succeeded but dpkg does not report ${still[*]} installed"
echo "$me: installed ${missing[*]}"
