#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: zram-modules.sh KVER KCONFIG DEST IMAGE_DEB...
#
# Take from a Debian kernel image package (or the packages 7.x splits the
# image into: linux-modules-VER with the modules, linux-base-VER with
# modules.builtin.modinfo) what a guest of that kernel needs to swap to
# zram, for vm.sh --swap: zram.ko and every module it
# depends on (modinfo's depends, followed to the end), and, on kernels
# whose zram compresses through the crypto API (before 6.12), the module
# of its default compressor unless that is built in. The modules are
# stored decompressed (busybox insmod may not read .ko.xz or .ko.zst) in
# DEST, which is made whole or not at all, with:
#   load-order   the module files, one a line, each after those it needs
#                (empty when zram is built in)
# or, when the kernel cannot swap to zram at all, only:
#   unsupported  why not
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 4 ]] || die "usage: ${0##*/} KVER KCONFIG DEST IMAGE_DEB..."
kver=$1 kconfig=$2 dest=$3
shift 3
debs=("$@")
for deb in "${debs[@]}"; do
	[[ -r $deb ]] || die "$deb: no such package"
done
[[ -r $kconfig ]] || die "$kconfig: no such kernel config"

# xz and zstd decompress the modules, modinfo reads them.
apt_install xz-utils zstd kmod

config() { sed -n "s/^CONFIG_$1=//p" "$kconfig"; }

mkdir -p "$(dirname "$dest")"
new=$(mktemp -d "$dest.new.XXXXXX")
trap 'rm -rf "$new"' EXIT

# Keep DEST as it is if another run made it meanwhile.
publish() {
	chmod 755 "$new"
	mv -T "$new" "$dest" 2>/dev/null || [[ -e $dest/load-order ||
		-e $dest/unsupported ]] || die "cannot create $dest"
}

why=''
[[ $(config SWAP) == y ]] || why="CONFIG_SWAP is off in $kver"
case $(config ZRAM) in
y|m)	;;
*)	why="CONFIG_ZRAM is off in $kver" ;;
esac
if [[ -n $why ]]; then
	log "warning: $why: its guests cannot swap"
	echo "$why" > "$new/unsupported"
	publish
	exit 0
fi

# The packages' files in one tar, unpacked once: each module below is
# one more pass over it.
tarball=$new/image.tar
dpkg-deb --fsys-tarfile "${debs[0]}" > "$tarball"
for deb in "${debs[@]:1}"; do
	dpkg-deb --fsys-tarfile "$deb" > "$new/more.tar"
	tar -Af "$tarball" "$new/more.tar"
	rm "$new/more.tar"
done
mkdir "$new/x"

# Every module of the image, by the name the kernel knows it by.
declare -A path_of=()
while IFS= read -r path; do
	name=${path##*/}
	name=${name%%.ko*}
	path_of[${name//-/_}]=$path
done < <(tar -tf "$tarball" |
	grep -F "/modules/$kver/kernel/" | grep -E '\.ko(\.(xz|zst|gz))?$')
[[ ${#path_of[@]} -gt 0 ]] || die "no modules of $kver in ${debs[*]}"

# NAME.ko into $new, decompressed.
fetch() {
	local name=$1 path=${path_of[$1]}

	tar -xf "$tarball" -C "$new/x" "$path"
	case $path in
	*.xz)	xz -dc "$new/x/$path" ;;
	*.zst)	zstd -dcq "$new/x/$path" ;;
	*.gz)	gzip -dc "$new/x/$path" ;;
	*)	cat "$new/x/$path" ;;
	esac > "$new/$name.ko"
	[[ $(modinfo -F vermagic "$new/$name.ko") == "$kver "* ]] ||
		die "$path is not a module for $kver"
}

# NAME and, first, what it needs; each once, in load order.
declare -A state=()
order=()
add() {
	local name=$1 dep

	case ${state[$name]:-} in
	added)	return 0 ;;
	busy)	die "modules of $kver depend on each other in a loop at $name" ;;
	esac
	[[ -n ${path_of[$name]:-} ]] ||
		die "$name, needed for zram, is not a module of ${debs[*]}"
	state[$name]=busy
	fetch "$name"
	for dep in $(modinfo -F depends "$new/$name.ko" | tr ',' ' '); do
		add "${dep//-/_}"
	done
	state[$name]=added
	order+=("$name.ko")
}

# Before 6.12 zram asks the crypto API for its compressor, which would
# modprobe a module the guest does not have: load it first. Since 6.12
# zram calls its compressors itself, and modinfo's depends names them.
comp=$(config ZRAM_DEF_COMP | tr -d '"')
builtin=$new/builtin-aliases
if [[ $(config ZRAM) == m && -n $comp ]] &&
   ! grep -q '^CONFIG_ZRAM_BACKEND_' "$kconfig"; then
	tar -xOf "$tarball" --wildcards \
		"*/modules/$kver/modules.builtin.modinfo" > "$builtin" ||
		die "no modules.builtin.modinfo of $kver in ${debs[*]}"
	aliases=$(tr '\0' '\n' < "$builtin" | sed -n 's/^[^.]*\.alias=//p')
	if ! grep -qxF "crypto-$comp" <<<"$aliases"; then
		for name in "${!path_of[@]}"; do
			[[ ${path_of[$name]} == */kernel/crypto/* ]] || continue
			fetch "$name"
			aliases=$(modinfo -F alias "$new/$name.ko")
			if grep -qxF "crypto-$comp" <<<"$aliases"; then
				add "$name"
				break
			fi
			rm -f "$new/$name.ko"
		done
		[[ ${#order[@]} -gt 0 ]] ||
			die "zram's compressor $comp is neither built into $kver nor a module"
	fi
fi
[[ $(config ZRAM) == m ]] && add zram

rm -rf "$tarball" "$builtin" "$new/x"
{
	[[ ${#order[@]} -eq 0 ]] || printf '%s\n' "${order[@]}"
} > "$new/load-order"
log "zram modules of $kver: ${order[*]:-none (zram is built in)}"
publish
