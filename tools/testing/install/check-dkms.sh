#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: check-dkms.sh [SERIES...]    (default: lib.sh's ALL_SERIES)
#
# Tests the DKMS packaging with Debian's dkms, on the host, without
# loading anything: installs dkms, registers the module (make dkms-add),
# builds it with `dkms build -k KVER` for the newest Debian kernel of each
# series (kernel.sh installs its headers), checks the module DKMS built,
# installs it with `make dkms-install KVER=...` for a kernel that is not
# the running one, checks that dkms-install rebuilds changed sources of
# the same version, and removes everything again (make dkms-remove).
# Series 7 builds in the Debian 13 root (root.sh), with trixie's dkms:
# the same steps run there, on a scratch layer thrown away afterwards.
# Prints TAP and ends with "N passed, N failed"; exits 1 on any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$here/../vm/lib.sh"

need_root
select_series "$@"

apt_install dkms kmod make gcc

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
# shellcheck source-path=SCRIPTDIR source=root.sh
. "$here/root.sh"

mkdir -p "$OUT"
logf=$OUT/check-dkms.log
: >"$logf"
mk=(make -C "$REPO" --no-print-directory)

version=$(cat "$REPO/VERSION")
running=$(uname -r)
work=$(mktemp -d "${TMPDIR:-/tmp}/ashmem-dkms.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "TAP version 13"
expect "make check-version: VERSION $version, debian/changelog the same" \
	"${mk[@]}" check-version

# A kernel without a build tree is refused before dkms is asked anything.
if "${mk[@]}" dkms-install KVER=0.0.0-no-such-kernel >>"$logf" 2>&1; then
	not_ok "make dkms-install refuses a kernel without headers"
else
	ok "make dkms-install refuses a kernel without headers"
fi

"${mk[@]}" dkms-remove >>"$logf" 2>&1 || true
expect "make dkms-add copies the sources and adds them" "${mk[@]}" dkms-add
if grep -qx "PACKAGE_VERSION=\"$version\"" "/usr/src/ashmem-$version/dkms.conf"; then
	ok "the copied dkms.conf has PACKAGE_VERSION $version"
else
	not_ok "the copied dkms.conf lacks PACKAGE_VERSION=\"$version\""
fi
for f in VERSION dkms.conf Kbuild Makefile ashmem.c ashmem_range.c \
	 tools/probe-kernel.sh uapi/linux/ashmem.h; do
	[[ -e /usr/src/ashmem-$version/$f ]] ||
		not_ok "/usr/src/ashmem-$version/$f is missing"
done
if compgen -G "/usr/src/ashmem-$version/tools/probes/*.c" >/dev/null; then
	ok "the DKMS sources hold tools/probe-kernel.sh and tools/probes/"
else
	not_ok "the DKMS sources lack tools/probes/"
fi

# check_built KVER DIR: the module DKMS built for KVER under DIR (its
# /var/lib/dkms): its vermagic and version.
check_built() {
	local kver=$1 dir=$2 built magic mv

	built=$(find "$dir/$version/$kver" -name 'ashmem.ko*' \
		-path '*/module/*' 2>/dev/null | head -n 1)
	if [[ -z $built ]]; then
		not_ok "dkms built no ashmem.ko for $kver"
		return 1
	fi
	ok "dkms built $(basename "$built") for $kver"
	magic=$(modinfo -F vermagic "$built" | cut -d' ' -f1)
	if [[ $magic == "$kver" ]]; then
		ok "its vermagic is $kver, not the running kernel's"
	else
		not_ok "its vermagic is '$magic', not $kver"
	fi
	mv=$(modinfo -F version "$built")
	if [[ $mv == "$version" ]]; then
		ok "its version is $version"
	else
		not_ok "its version is '$mv', not $version"
	fi
}

# The Debian 13 root's kernel: every step in the root, on a scratch layer.
check_in_root() {
	local kver=$1 root=$2 rmk upper

	root_setup "$root" "$work/root"
	ROOT_BINDS=("$work")
	rmk=(root_run make -C "$REPO" --no-print-directory)
	upper=$(root_upper)
	expect "$kver: make dkms-add in the Debian 13 root" "${rmk[@]}" dkms-add
	expect "$kver: dkms build -k $kver there" \
		root_run dkms build -m ashmem -v "$version" -k "$kver"
	check_built "$kver" "$upper/var/lib/dkms/ashmem" || return 0
	expect "$kver: make dkms-install KVER=$kver there" \
		"${rmk[@]}" dkms-install "KVER=$kver"
	if compgen -G "$upper/usr/lib/modules/$kver/updates/dkms/ashmem.ko*" \
		>/dev/null; then
		ok "$kver: it is in /lib/modules/$kver/updates/dkms"
	else
		not_ok "$kver: it is not in /lib/modules/$kver/updates/dkms"
	fi
	expect "$kver: make dkms-remove there" "${rmk[@]}" dkms-remove
	if compgen -G "$upper/usr/lib/modules/$kver/updates/dkms/ashmem.ko*" \
		>/dev/null || [[ -e $upper/usr/src/ashmem-$version ]]; then
		not_ok "$kver: make dkms-remove left files behind"
	else
		ok "$kver: make dkms-remove left nothing behind"
	fi
}

install_kver=''
for s in "${series_list[@]}"; do
	eval "$(kernel_vars "$s")"
	# shellcheck disable=SC2153 # KVER, KDIR and ROOT come from kernel_vars.
	kver=$KVER kdir=$KDIR
	if [[ -n $ROOT ]]; then
		check_in_root "$kver" "$ROOT"
		continue
	fi
	args=(-m ashmem -v "$version" -k "$kver")
	# /lib/modules/KVER/build is the headers' own link; where it is
	# missing (headers unpacked by hand) dkms is told the tree.
	[[ -e /lib/modules/$kver/build ]] ||
		args+=(--kernelsourcedir "$kdir")
	out=$OUT/dkms-build-$kver.log
	if dkms build "${args[@]}" >"$out" 2>&1; then
		ok "dkms build -k $kver"
	else
		not_ok "dkms build -k $kver (log: $out)"
	fi
	# dkms goes on when a cleaning step fails, but says so.
	if grep -qE 'bad exit status|deprecated' "$out"; then
		not_ok "a dkms step failed or warned for $kver (log: $out)"
	else
		ok "every dkms step succeeded, without a warning, for $kver"
	fi

	check_built "$kver" /var/lib/dkms/ashmem || continue
	[[ $kver == "$running" ]] || install_kver=$kver
	[[ -e /lib/modules/$kver/build ]] || install_kver=''
done

# Installing into another kernel's tree only writes files there; the
# running kernel is never the target.
if [[ -n $install_kver ]]; then
	expect "make dkms-install KVER=$install_kver" \
		"${mk[@]}" dkms-install "KVER=$install_kver"
	if compgen -G "/lib/modules/$install_kver/updates/dkms/ashmem.ko*" \
		>/dev/null &&
	   grep -q 'updates/dkms/ashmem.ko' "/lib/modules/$install_kver/modules.dep"; then
		ok "it is in /lib/modules/$install_kver/updates/dkms and modules.dep"
	else
		not_ok "it is not in /lib/modules/$install_kver/updates/dkms or modules.dep"
	fi

	# The same version from changed sources: dkms-install must build
	# them, not install the old build again. The change is a modinfo
	# field of its own (a comment would do, but modpost's srcversion
	# digest skips comments, so nothing would show it).
	old=$(modinfo -F srcversion "/var/lib/dkms/ashmem/$version/$install_kver"/*/module/ashmem.ko*)
	"${mk[@]}" copy-sources DEST="$work/changed" >>"$logf" 2>&1
	printf '\nMODULE_INFO(check_dkms, "rebuilt");\n' >>"$work/changed/ashmem.c"
	expect "make dkms-install KVER=$install_kver, sources changed" \
		make -C "$work/changed" --no-print-directory dkms-install \
		"KVER=$install_kver"
	ko=$(echo "/lib/modules/$install_kver/updates/dkms"/ashmem.ko*)
	new=$(modinfo -F srcversion "$ko" || true)
	if [[ $(modinfo -F check_dkms "$ko" || true) == rebuilt ]]; then
		ok "the module was rebuilt from the changed sources ($old -> $new)"
	else
		not_ok "dkms-install kept the old build (srcversion ${new:-none})"
	fi
else
	echo "# no installable kernel other than the running one: skipped dkms-install"
fi

expect "make dkms-remove" "${mk[@]}" dkms-remove
if [[ -e /usr/src/ashmem-$version || -e /var/lib/dkms/ashmem/$version ]] ||
   { [[ -n $install_kver ]] &&
     compgen -G "/lib/modules/$install_kver/updates/dkms/ashmem.ko*" >/dev/null; }; then
	not_ok "make dkms-remove left files behind"
else
	ok "make dkms-remove left nothing behind"
fi

tap_end
