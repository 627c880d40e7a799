#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: debian13-root.sh
#
# Debian's newest kernel (in trixie-backports) needs trixie's gcc and
# glibc to build modules, which Debian 12 cannot install. This script:
#   - finds the newest linux-headers-VER+deb13-amd64 in trixie and
#     trixie-backports (a private apt state in the cache; the host's own
#     apt configuration is not changed);
#   - creates, once per kernel version, a Debian 13 build root with
#     mmdebstrap holding gcc-14, make, sparse and those headers, and makes
#     C=1 work there (see fix_sparse below);
#   - extracts that kernel's vmlinuz (and its .config) into the cache for
#     QEMU, with the modules a guest needs to swap to zram
#     (zram-modules.sh; added to a cache made before they were kept);
# and prints shell assignments for eval:
#   KVER=...     the kernel release
#   ROOT=...     the build root; run commands in it with in-root.sh
#   KDIR=...     the kernel build tree, a path INSIDE the root
#   VMLINUZ=...  the kernel image, on the host
#   KCONFIG=...  its .config, on the host (beside VMLINUZ, as vm.sh expects)
#   MODDIR=...   zram and the modules it needs, for vm.sh --swap
#
# Everything lives in lib.sh's CACHE (~/.cache/ashmem unless ASHMEM_CACHE
# or XDG_CACHE_HOME say otherwise), never in the work tree. A root is reused
# while the newest version and the package list stay the same; roots of
# older versions are removed once a newer one is ready.
#
# Environment:
#   ASHMEM_DEBIAN_MIRROR  Debian mirror (default: the host's, from
#                         /etc/apt/sources.list.d/ or sources.list)
#   ASHMEM_DEBIAN13_KVER  use this kernel release, not the newest
#   ASHMEM_APT_MAX_AGE    refresh the package lists when older than this
#                         many minutes (default 1440; 0: always)
# Needs root (mmdebstrap, and installing it with apt if missing).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 0 ]] || { sed -n '3,36s/^# \{0,1\}//p' "$0" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root: it creates a chroot with mmdebstrap"

# Packages of the build root. Changing the list recreates the root.
ROOT_PACKAGES=(gcc-14 make sparse)

BASE=$CACHE/debian13
mkdir -p "$BASE"
BASE=$(cd "$BASE" && pwd)

# One run at a time: two would race to create the same root.
exec {lockfd}>"$BASE/lock"
flock "$lockfd"

# --- the mirror ------------------------------------------------------------

# Prints the URI of the first Debian archive (not security) source the host
# uses, from deb822 .sources files or one-line .list files.
host_mirror() {
	local f

	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		awk '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && enabled != "no" &&
				    suites !~ /-security/ && uri ~ /\/debian\/?$/)
					print uri
				types = uri = suites = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "types:" { types = $0 }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { suites = $0 }
			tolower($1) == "enabled:" { enabled = tolower($2) }
			END { flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
		[[ -r $f ]] || continue
		# deb [options] URI SUITE COMPONENTS...
		sed -E -n 's/^[ \t]*deb[ \t]+(\[[^]]*\][ \t]+)?([^ \t]+)[ \t]+([^ \t]+).*/\2 \3/p' "$f" |
			awk '$2 !~ /-security/ && $1 ~ /\/debian\/?$/ { print $1 }'
	done
}

mirror=${ASHMEM_DEBIAN_MIRROR:-$(host_mirror | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
SOURCES=("deb $mirror trixie main" "deb $mirror trixie-backports main")

# --- private apt states on the host ---------------------------------------

# apt_state NAME SOURCE...: a package list state of our own in the cache,
# so the host's apt configuration is neither used nor changed. Sets APT_ARGS
# for apt-get and apt-cache.
apt_state() {
	local dir=$BASE/$1

	shift
	mkdir -p "$dir"/{lists/partial,cache/archives/partial,parts,prefs}
	printf '%s\n' "$@" > "$dir/sources.list.new"
	if cmp -s "$dir/sources.list.new" "$dir/sources.list"; then
		rm -f "$dir/sources.list.new"
	else
		mv "$dir/sources.list.new" "$dir/sources.list"
		rm -f "$dir/update.stamp"
	fi
	APT_DIR=$dir
	APT_ARGS=(-q
		-o "Dir::Etc::SourceList=$dir/sources.list"
		-o "Dir::Etc::SourceParts=$dir/parts"
		-o "Dir::Etc::Preferences=$dir/prefs/none"
		-o "Dir::Etc::PreferencesParts=$dir/prefs"
		-o "Dir::State::Lists=$dir/lists"
		-o "Dir::Cache=$dir/cache"
		-o "Dir::State::Status=/dev/null"
		-o APT::Architecture=amd64 -o APT::Architectures=amd64
		-o Acquire::Languages=none
		-o APT::Sandbox::User=root)
}

# Refresh the current state's lists when older than ASHMEM_APT_MAX_AGE.
apt_state_update() {
	local age=${ASHMEM_APT_MAX_AGE:-1440}
	local stamp=$APT_DIR/update.stamp

	if [[ -e $stamp && $age -gt 0 &&
	      -n $(find "$stamp" -mmin "-$age" 2>/dev/null) ]]; then
		return 0
	fi
	log "apt-get update ($(tr '\n' ';' < "$APT_DIR/sources.list"))"
	if apt-get "${APT_ARGS[@]}" update >&2; then
		touch "$stamp"
	elif compgen -G "$APT_DIR/lists/*_Packages*" >/dev/null; then
		log "warning: apt-get update failed, using the old package lists"
	else
		die "apt-get update failed for $mirror"
	fi
}

# apt_state_download PACKAGE DIR: the .deb of PACKAGE, into DIR.
apt_state_download() {
	(cd "$2" && apt-get "${APT_ARGS[@]}" download "$1" >&2)
}

HEADERS_RE='^linux-headers-([0-9][0-9.]*\+deb13-amd64)$'
newest_kver() {
	apt-cache "${APT_ARGS[@]}" search --names-only "$HEADERS_RE" |
		cut -d' ' -f1 | sed -E "s/$HEADERS_RE/\\1/" | sort -V | tail -n 1
}

apt_state apt "${SOURCES[@]}"
apt_state_update
kver=${ASHMEM_DEBIAN13_KVER:-$(newest_kver)}
[[ -n $kver ]] || die "no linux-headers-*+deb13-amd64 in trixie or trixie-backports"
[[ $kver =~ ^[0-9][0-9.]*\+deb13-amd64$ ]] || die "bad kernel release '$kver'"
kdir=/usr/src/linux-headers-$kver

# --- the build root --------------------------------------------------------

root=$BASE/root-$kver
marker=$root/.ashmem-root
# What the root was made from; a root made otherwise is made again.
ROOT_LAYOUT=2
want="kver=$kver packages=${ROOT_PACKAGES[*]} mirror=$mirror layout=$ROOT_LAYOUT"

# The kernel's Makefile runs "scripts/checker-valid.sh $(CHECK)
# $(CHECKFLAGS)" and quietly drops C=1 unless it prints 1; Debian's
# linux-headers-VER-common lacks the script (7.3.4). This one, ours,
# prints 1 if the checker parses what these headers use.
write_checker_valid() {
	cat <<'EOF'
#!/bin/sh
# Written by ashmem's tools/testing/vm/debian13-root.sh, as Debian's
# headers lack it: prints 1 if the checker "$@" parses __typeof_unqual__,
# which these headers use, without a complaint; else 0.
tmp=$(mktemp -d) || { echo 0; exit 0; }
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' 'static int a;' 'static __typeof_unqual__(a) b;' \
	'int f(void);' 'int f(void) { return a + b; }' > "$tmp/t.c"
if out=$("$@" "$tmp/t.c" 2>&1) && [ -z "$out" ]; then
	echo 1
else
	echo 0
fi
EOF
}

checker_valid() {	# checker_valid ROOT: does C=1 work in ROOT?
	[[ $(chroot "$1" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin \
		"$common/scripts/checker-valid.sh" sparse \
		-D__linux__ -Dunix -D__x86_64__ --arch=x86 -m64 \
		-mlittle-endian 2>/dev/null) == 1 ]]
}

# fix_sparse ROOT: make C=1 work in ROOT. Trixie's sparse 0.6.4 is too
# old for 7.x headers (no __typeof_unqual__); the one in Debian unstable
# is new enough, and its sparse binary needs only glibc, so it is put in
# /usr/local/bin, which comes first in in-root.sh's PATH.
fix_sparse() {
	local root=$1 tmp

	if [[ ! -e $root$common/scripts/checker-valid.sh ]] &&
	   grep -q checker-valid.sh "$root$common/Makefile"; then
		write_checker_valid > "$root$common/scripts/checker-valid.sh"
		chmod 755 "$root$common/scripts/checker-valid.sh"
	fi
	[[ -e $root$common/scripts/checker-valid.sh ]] || return 0
	checker_valid "$root" && return 0

	log "trixie's sparse is too old for $kver: taking sparse from unstable"
	apt_state apt-unstable "deb $mirror sid main"
	apt_state_update
	tmp=$(mktemp -d "$BASE/.sparse.XXXXXX")
	if apt_state_download sparse "$tmp"; then
		dpkg-deb -x "$tmp"/sparse_*.deb "$tmp/x"
		install -m 755 "$tmp/x/usr/bin/sparse" "$root/usr/local/bin/sparse"
	fi
	rm -rf "$tmp"
	# Back to trixie's lists: the kernel image comes from there.
	apt_state apt "${SOURCES[@]}"
	checker_valid "$root" ||
		log "warning: no sparse works with $kver: C=1 will check nothing"
}

have_mmdebstrap() { command -v mmdebstrap >/dev/null; }
if [[ ! -e $marker || $(cat "$marker") != "$want" ]] && ! have_mmdebstrap; then
	log "apt-get install mmdebstrap"
	apt-get "${APT_OPTS[@]}" install -y --no-install-recommends mmdebstrap >&2 ||
		{ apt-get "${APT_OPTS[@]}" update >&2 &&
		  apt-get "${APT_OPTS[@]}" install -y --no-install-recommends \
			mmdebstrap >&2; } ||
		die "cannot install mmdebstrap"
fi

if [[ ! -e $marker || $(cat "$marker") != "$want" ]]; then
	new=$(mktemp -d "$BASE/.new-root-$kver.XXXXXX")
	trap 'rm -rf --one-file-system "$new"' EXIT
	log "creating the Debian 13 build root for $kver (about a minute)"
	start=$SECONDS
	include=$(IFS=,; echo "${ROOT_PACKAGES[*]},linux-headers-$kver")
	mmdebstrap --variant=apt --components=main --include="$include" \
		trixie "$new" "${SOURCES[@]}" >&2 ||
		die "mmdebstrap failed"
	[[ -e $new$kdir/Makefile ]] || die "no $kdir/Makefile in the new root"
	common=$(sed -n 's|^include \(/.*\)/Makefile$|\1|p' "$new$kdir/Makefile")
	common=${common:-$kdir}
	fix_sparse "$new"
	echo "$want" > "$new/.ashmem-root"
	rm -rf --one-file-system "$root"
	mv "$new" "$root"
	trap - EXIT
	log "build root ready in $((SECONDS - start))s: $root"
fi

# Roots of other versions: removed unless in-root.sh is using them.
for old in "$BASE"/root-*; do
	[[ -d $old && $old != "$root" ]] || continue
	if [[ -e $old/.ashmem-root ]]; then
		exec {oldfd}<"$old/.ashmem-root"
		if ! flock -n -x "$oldfd"; then
			exec {oldfd}<&-
			continue
		fi
		exec {oldfd}<&-
	fi
	log "removing the old build root $old"
	rm -rf --one-file-system "$old"
done

# --- the kernel image ----------------------------------------------------

kernel_cache_paths "$kver"
if ! kernel_cached; then
	tmp=$(mktemp -d "$BASE/.download.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# 7.x ships the image in linux-binary-VER (linux-image-VER is a
	# metapackage); older series in linux-image-VER(-unsigned).
	for pkg in "linux-binary-$kver" "linux-image-$kver-unsigned" \
		   "linux-image-$kver"; do
		rm -rf "${tmp:?}"/*
		apt_state_download "$pkg" "$tmp" || continue
		mkdir "$tmp/x"
		dpkg-deb -x "$tmp"/*.deb "$tmp/x"
		for f in "usr/lib/modules/$kver/vmlinuz" "boot/vmlinuz-$kver"; do
			if [[ -f $tmp/x/$f ]]; then
				log "kernel image from $pkg"
				mkdir -p "$tmp/k/boot"
				mv "$tmp/x/$f" "$tmp/k/boot/vmlinuz-$kver"
				break 2
			fi
		done
	done
	[[ -e $tmp/k/boot/vmlinuz-$kver ]] ||
		die "no vmlinuz for $kver in linux-binary or linux-image"
	rm -rf "$tmp/x"
	if [[ ! -e $VMLINUZ || ! -e $KCONFIG ]]; then
		# The headers carry the same .config the image was built with.
		cp "$root$kdir/.config" "$tmp/k/boot/config-$kver"
		mkdir -p "$KCACHE"
		rm -rf "${KCACHE:?}/boot"
		mv "$tmp/k/boot" "$KCACHE/boot"
	fi
	# The modules a guest needs to swap to zram: in the same package,
	# or for 7.x in linux-modules-VER, with modules.builtin.modinfo in
	# linux-base-VER.
	debs=("$tmp"/*.deb)
	if [[ $pkg == linux-binary-* ]]; then
		mkdir "$tmp/m"
		for part in linux-modules linux-base; do
			apt_state_download "$part-$kver" "$tmp/m" ||
				log "warning: cannot download $part-$kver"
		done
		debs+=("$tmp"/m/*.deb)
	fi
	"$VM_DIR/zram-modules.sh" "$kver" "$KCONFIG" \
		"$MODDIR" "${debs[@]}" ||
		log "warning: no zram modules for $kver: its guests cannot swap"
	rm -rf "$tmp"
	trap - EXIT
fi

printf 'KVER=%q ROOT=%q KDIR=%q VMLINUZ=%q KCONFIG=%q MODDIR=%q\n' \
	"$kver" "$root" "$kdir" "$VMLINUZ" "$KCONFIG" "$MODDIR"
