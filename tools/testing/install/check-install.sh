#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: check-install.sh [SERIES...]    (default: lib.sh's ALL_SERIES)
#
# Tests `make install`, `make sign` and `make uninstall` on the host into a
# staging directory (DESTDIR), for the newest Debian kernel of each series
# (series 7 in the Debian 13 root of root.sh, on a scratch layer), from a
# copy of the sources (make copy-sources) so that the work tree is left
# alone; and the udev rule, with `udevadm test` in a private mount
# namespace whose /dev, /run/udev and rules directories are scratch
# copies, on a misc device the host has. Nothing is loaded and nothing
# outside the scratch directories is written.
# Prints TAP and ends with "N passed, N failed"; exits 1 on any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$here/../vm/lib.sh"

need_root
select_series "$@"

apt_install kmod make gcc openssl udev util-linux

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
# shellcheck source-path=SCRIPTDIR source=root.sh
. "$here/root.sh"

mkdir -p "$OUT"
logf=$OUT/check-install.log
: >"$logf"
work=$(mktemp -d "${TMPDIR:-/tmp}/ashmem-install.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT

echo "TAP version 13"

# A throwaway Machine Owner Key, as doc/install.md makes one.
openssl req -new -x509 -newkey rsa:2048 -nodes -days 1 -outform DER \
	-subj "/CN=ashmem test MOK/" -keyout "$work/mok.priv" \
	-out "$work/mok.der" >>"$logf" 2>&1

for s in "${series_list[@]}"; do
	eval "$(kernel_vars "$s")"
	# shellcheck disable=SC2153 # KVER, KDIR and ROOT come from kernel_vars.
	kver=$KVER kdir=$KDIR
	src=$work/src-$kver dest=$work/root-$kver
	make -C "$REPO" --no-print-directory copy-sources DEST="$src" >>"$logf"
	mk=(make -C "$src" --no-print-directory KVER="$kver" KDIR="$kdir"
	    DESTDIR="$dest")
	if [[ -n $ROOT ]]; then
		mkdir -p "$work/scratch"
		root_setup "$ROOT" "$work/scratch"
		ROOT_BINDS=("$work")
		mk=(root_run "${mk[@]}")
	fi

	expect "make install KVER=$kver DESTDIR=..." "${mk[@]}" install \
		MOK_KEY="$work/mok.priv" MOK_CERT="$work/mok.der"
	moddir=$dest/lib/modules/$kver
	ko=$(find "$moddir/extra" -name 'ashmem.ko*' 2>/dev/null | head -n 1)
	if [[ -n $ko ]]; then
		ok "the module is in /lib/modules/$kver/extra: ${ko##*/}"
	else
		not_ok "no module in /lib/modules/$kver/extra"
		continue
	fi
	if grep -q '^extra/ashmem.ko[^:]*:' "$moddir/modules.dep" 2>/dev/null; then
		ok "depmod listed it in modules.dep"
	else
		not_ok "modules.dep does not list extra/ashmem.ko"
	fi
	signer=$(modinfo -F signer "$ko" 2>/dev/null || true)
	if [[ $signer == 'ashmem test MOK' ]]; then
		ok "it is signed with the MOK given to make install"
	else
		not_ok "its signer is '$signer', not the MOK"
	fi
	if cmp -s "$src/udev/60-ashmem.rules" \
		  "$dest/etc/udev/rules.d/60-ashmem.rules" &&
	   cmp -s "$src/modules-load.d/ashmem.conf" \
		  "$dest/etc/modules-load.d/ashmem.conf"; then
		ok "the udev rule and modules-load.d file are installed"
	else
		not_ok "the udev rule or modules-load.d file is missing"
	fi

	# A second install must not stack a second signature.
	expect "make install again" "${mk[@]}" install \
		MOK_KEY="$work/mok.priv" MOK_CERT="$work/mok.der"
	sigs=$(grep -c -a 'Module signature appended' "$src/ashmem.ko" || true)
	if [[ $sigs == 1 ]]; then
		ok "the module is signed once"
	else
		not_ok "the module carries $sigs signatures"
	fi

	expect "make uninstall" "${mk[@]}" uninstall
	left=$(find "$dest" -name 'ashmem*' | head -n 1)
	if [[ -z $left ]] &&
	   ! grep -q ashmem "$moddir/modules.dep" 2>/dev/null; then
		ok "make uninstall left no ashmem file and no modules.dep entry"
	else
		not_ok "make uninstall left ${left:-a modules.dep entry}"
	fi
done

# The udev rule, on a device that exists here: ashmem's own is not (the
# module is never loaded on the host), so the rule is tried on a copy that
# matches another misc device, with everything else unchanged.
# udev_test DEV [MODE]: the rule run on a node of DEV made with MODE (the
# mode the module gives it: 0666, or node_mode; default 600), in
# $work/udev.
udev_test() {
	local dev=$1 scratch=$work/udev

	rm -rf "$scratch"

	mkdir -p "$scratch/rules" "$scratch/dev" "$scratch/run"
	sed "s/KERNEL==\"ashmem\"/KERNEL==\"$dev\"/" \
		"$REPO/udev/60-ashmem.rules" >"$scratch/rules/60-ashmem.rules"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m sh -c '
		set -e
		mount --make-rprivate /
		for d in /etc/udev/rules.d /usr/lib/udev/rules.d \
			 /lib/udev/rules.d /run/udev/rules.d; do
			[ -d "$d" ] && mount --bind "$1/rules" "$d"
		done
		mount -t tmpfs tmpfs /dev
		mknod -m 666 /dev/null c 1 3
		mknod -m "$5" "/dev/$2" c "$3" "$4"
		mount --bind "$1/run" /run
		udevadm test --action=add "/sys/class/misc/$2" >"$1/test.log" 2>&1
		stat -c "%a" "/dev/$2" >"$1/mode"
		for l in /dev/ashmem*; do
			printf "%s -> %s\n" "$l" "$(readlink "$l")"
		done >"$1/links"
	' sh "$scratch" "$dev" "$(cut -d: -f1 "/sys/class/misc/$dev/dev")" \
		"$(cut -d: -f2 "/sys/class/misc/$dev/dev")" "${2:-600}"
}

dev=''
for d in /sys/class/misc/*/dev; do
	name=$(basename "$(dirname "$d")")
	[[ $name == ashmem ]] && continue
	dev=$name
	break
done
boot_id=$(tr -d ' \n' </proc/sys/kernel/random/boot_id)
if [[ -z $dev ]] || ! command -v udevadm >/dev/null; then
	echo "# no misc device or no udevadm here: the udev rule is not tested"
elif udev_test "$dev" 666 >>"$logf" 2>&1; then
	ok "udevadm test runs the rule"
	mode=$(cat "$work/udev/mode")
	if [[ $mode == 666 ]]; then
		ok "the rule keeps the module's default mode 0666"
	else
		not_ok "the rule turns the module's 0666 node into $mode"
	fi
	if grep -qx "/dev/ashmem$boot_id -> $dev" "$work/udev/links"; then
		ok "the rule links /dev/ashmem<boot_id> to the node"
	else
		not_ok "no /dev/ashmem$boot_id link: $(cat "$work/udev/links")"
	fi
	cat "$work/udev/test.log" >>"$logf"
else
	not_ok "udevadm test failed (log: $logf)"
	cat "$work/udev/test.log" >>"$logf" 2>/dev/null || true
fi

# The module's node_mode parameter is the administrator's way to keep
# ashmem from other users (README: node_mode=0660): the module makes the
# node with that mode, and the rule must not open it to everyone again.
# A node that comes 0660 stays 0660.
if [[ -n $dev ]] && command -v udevadm >/dev/null &&
   udev_test "$dev" 660 >>"$logf" 2>&1; then
	mode=$(cat "$work/udev/mode")
	if [[ $mode == 660 ]]; then
		ok "the rule keeps the mode node_mode=0660 gave the node"
	else
		not_ok "the rule turns a node_mode=0660 node into $mode"
	fi
elif [[ -n $dev ]] && command -v udevadm >/dev/null; then
	not_ok "udevadm test on a 0660 node failed (log: $logf)"
fi

tap_end
