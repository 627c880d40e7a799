#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: in-root.sh [-b DIR]... ROOT CMD [ARG]...
#
# Run CMD chrooted in ROOT, a build root from debian13-root.sh, with /proc
# and /dev (objtool and gcc need them), the repository and each -b DIR
# bind-mounted at the same paths as on the host, so that paths mean the
# same inside and out. CMD starts in the current directory if that is
# inside one of them, else in /, with a clean environment.
#
# The mounts are made in a private mount namespace: nobody else sees them,
# and they go away when CMD exits, however it exits; nothing is left
# mounted in the cached root. Needs root.
set -euo pipefail

PROG=${0##*/}
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { sed -n '3,13s/^# \{0,1\}//p' "$0" >&2; exit 2; }

[[ $(id -u) -eq 0 ]] || die "run as root: it mounts and chroots"

# Re-run in a mount namespace of our own; the mounts die with it.
if [[ ${ASHMEM_IN_ROOT_NS:-} != 1 ]]; then
	exec unshare --mount --propagation private -- \
		env ASHMEM_IN_ROOT_NS=1 "$0" "$@"
fi
unset ASHMEM_IN_ROOT_NS

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
binds=("$repo")
while [[ $# -gt 0 ]]; do
	case $1 in
	-b)	[[ $# -ge 2 ]] || usage
		[[ -d $2 ]] || die "$2: not a directory"
		binds+=("$(cd "$2" && pwd)")
		shift 2 ;;
	-h|--help) usage ;;
	--)	shift; break ;;
	-*)	log "unknown option $1"; usage ;;
	*)	break ;;
	esac
done
[[ $# -ge 2 ]] || usage
root=$(cd "$1" && pwd)
shift
[[ $root != / && -x $root/bin/sh ]] || die "$root: not a build root"

# debian13-root.sh does not remove a root while this lock is held.
if [[ -e $root/.ashmem-root ]]; then
	exec {lockfd}<"$root/.ashmem-root"
	flock -s "$lockfd"
fi

mount --bind /proc "$root/proc"
mount --rbind /dev "$root/dev"
cwd=/
for dir in "${binds[@]}"; do
	mkdir -p "$root$dir"
	mount --bind "$dir" "$root$dir"
	if [[ $PWD == "$dir" || $PWD == "$dir"/* ]]; then
		cwd=$PWD
	fi
done

# shellcheck disable=SC2016 # $1 and $@ are the inner shell's
exec chroot "$root" /usr/bin/env -i \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LC_ALL=C.UTF-8 TERM="${TERM:-dumb}" \
	/bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "$@"
