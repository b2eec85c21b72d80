#!/bin/sh
# The outer container runtime hides parts of /proc and /sys/firmware by
# bind-mounting over them. A nested runtime that remaps user ids refuses
# to mount a fresh proc or sysfs while such masks exist ("mount_too_revealing"),
# so the test instance lifts them before its own dockerd starts.
# This runs only in disposable test instances, never on a real host.
set -u
awk '$5 ~ "^/proc/" || $5 == "/sys/firmware" {print $5}' /proc/self/mountinfo | sort -r |
while read -r target; do
    umount -l "$target" 2>/dev/null || true
done
exit 0
