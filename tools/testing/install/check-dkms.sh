#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: check-dkms.sh [SERIES...]    (default: every series, 6.1 6.12)
#
# Tests the DKMS packaging with Debian's dkms, on the host, without
# loading anything: installs dkms, registers the module (make dkms-add),
# builds it with `dkms build -k KVER` for the newest Debian kernel of each
# series (kernel.sh installs its headers), checks the module DKMS built,
# installs it with `make dkms-install KVER=...` for a kernel that is not
# the running one, and removes everything again (make dkms-remove).
# Prints TAP and ends with "N passed, N failed"; exits 1 on any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$here/../vm/lib.sh"

need_root
series=("$@")
[[ ${#series[@]} -gt 0 ]] || read -r -a series <<<"$ALL_SERIES"

apt_install dkms kmod make gcc

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"

mkdir -p "$OUT"
logf=$OUT/check-dkms.log
: >"$logf"
mk=(make -C "$REPO" --no-print-directory)

version=$(cat "$REPO/VERSION")
dkms_version=$(sed -n 's/^PACKAGE_VERSION="\([^"]*\)"/\1/p' "$REPO/dkms.conf")
running=$(uname -r)

echo "TAP version 13"
if [[ -n $version && $version == "$dkms_version" ]]; then
	ok "dkms.conf PACKAGE_VERSION $dkms_version is VERSION's"
else
	not_ok "dkms.conf PACKAGE_VERSION '$dkms_version' != VERSION '$version'"
fi

# A kernel without a build tree is refused before dkms is asked anything.
if "${mk[@]}" dkms-install KVER=0.0.0-no-such-kernel >>"$logf" 2>&1; then
	not_ok "make dkms-install refuses a kernel without headers"
else
	ok "make dkms-install refuses a kernel without headers"
fi

"${mk[@]}" dkms-remove >>"$logf" 2>&1 || true
expect "make dkms-add copies the sources and adds them" "${mk[@]}" dkms-add
for f in dkms.conf Kbuild Makefile ashmem.c tools/probe-kernel.sh \
	 uapi/linux/ashmem.h; do
	[[ -e /usr/src/ashmem-$version/$f ]] ||
		not_ok "/usr/src/ashmem-$version/$f is missing"
done
if compgen -G "/usr/src/ashmem-$version/tools/probes/*.c" >/dev/null; then
	ok "the DKMS sources hold tools/probe-kernel.sh and tools/probes/"
else
	not_ok "the DKMS sources lack tools/probes/"
fi

install_kver=''
for s in "${series[@]}"; do
	eval "$("$REPO/tools/testing/vm/kernel.sh" "$s")"
	# shellcheck disable=SC2153 # KVER and KDIR come from kernel.sh.
	kver=$KVER kdir=$KDIR
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
	# dkms goes on when CLEAN fails, but says so.
	if grep -q 'bad exit status' "$out"; then
		not_ok "a dkms step failed for $kver (log: $out)"
	else
		ok "every dkms step, CLEAN included, succeeded for $kver"
	fi

	built=$(find "/var/lib/dkms/ashmem/$version/$kver" -name 'ashmem.ko*' \
		-path '*/module/*' 2>/dev/null | head -n 1)
	if [[ -z $built ]]; then
		not_ok "dkms built no ashmem.ko for $kver"
		continue
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
