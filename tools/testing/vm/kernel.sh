#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: kernel.sh SERIES    (SERIES is 6.1 or 6.12)
#
# Find the newest Debian 12 kernel of SERIES, install its headers on the
# host (to build against; nothing is loaded into the host kernel), fetch
# its image into the cache for QEMU, with the modules a guest needs to
# swap to zram (zram-modules.sh), and print shell assignments:
#   KVER=... KDIR=... VMLINUZ=... KCONFIG=... MODDIR=...
# MODDIR holds those modules and their load-order, for vm.sh --swap.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || die "usage: ${0##*/} SERIES (one of: $ALL_SERIES)"
series=$1

# The image package name for each series, as an anchored regex whose
# group 1 is the kernel release (uname -r).
case $series in
6.1)	re='^linux-image-(6\.1\.0-[0-9]+-amd64)-unsigned$' ;;
6.12)	re='^linux-image-(6\.12\.[0-9]+\+deb12-amd64)-unsigned$' ;;
*)	die "unknown kernel series '$series' (one of: $ALL_SERIES)" ;;
esac

newest_kver() {
	apt-cache search --names-only "$re" | cut -d' ' -f1 |
		sed -E "s/$re/\\1/" | sort -V | tail -n 1
}

# "Newest" is only as fresh as the package lists: refresh them daily.
apt_update
kver=$(newest_kver)
if [[ -z $kver ]]; then
	apt_update_now
	kver=$(newest_kver)
fi
[[ -n $kver ]] || die "no Debian kernel image matches $re"

apt_install "linux-headers-$kver"
kdir=/usr/src/linux-headers-$kver
[[ -e $kdir/Makefile ]] || die "$kdir: headers not installed"

# Of the image, only boot/ and the modules a guest needs to swap to zram
# (zram-modules.sh): the module we test is our own. A cache made before
# the modules were kept gets them added.
mkdir -p "$CACHE"
kernel_cache_paths "$kver"
if ! kernel_cached; then
	tmp=$(mktemp -d "$CACHE/download.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	fetch() {
		(cd "$tmp" && apt-get "${APT_OPTS[@]}" \
			-o APT::Sandbox::User=root \
			download "linux-image-$kver-unsigned" >&2)
	}
	log "downloading linux-image-$kver-unsigned"
	if ! fetch; then
		# Stale lists may name a .deb the mirror no longer has, and
		# fresh ones may name a newer kernel: start again, once.
		[[ -z ${ASHMEM_KERNEL_RETRY:-} ]] ||
			die "cannot download linux-image-$kver-unsigned"
		rm -rf "$tmp"
		apt_update_now
		ASHMEM_KERNEL_RETRY=1 exec "$0" "$series"
	fi
	deb=$(echo "$tmp"/linux-image-*.deb)
	if [[ ! -e $VMLINUZ || ! -e $KCONFIG ]]; then
		mkdir -p "$tmp/x"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" ./boot
		[[ -e $tmp/x/boot/vmlinuz-$kver ]] || die "no vmlinuz in the image"
		mkdir -p "$KCACHE"
		rm -rf "${KCACHE:?}/boot"
		mv "$tmp/x/boot" "$KCACHE/boot"
	fi
	"$VM_DIR/zram-modules.sh" "$kver" "$KCONFIG" "$MODDIR" "$deb" ||
		log "warning: no zram modules for $kver: its guests cannot swap"
fi

printf 'KVER=%q KDIR=%q VMLINUZ=%q KCONFIG=%q MODDIR=%q\n' \
	"$kver" "$kdir" "$VMLINUZ" "$KCONFIG" "$MODDIR"
