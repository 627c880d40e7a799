#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the debug kernel of make check-debug, once, and print where it is.
#
# Usage: build-kernel.sh
#
# Unpacks Debian's linux-source-6.12, configures it as x86_64 defconfig +
# kvm_guest.config + debug.config (KASAN, lockdep, kmemleak, UBSAN,
# DEBUG_VM, failslab, ...), checks that every option of debug.config took,
# and builds bzImage and modules_prepare, so that external modules build
# against the tree. The tree lives in the cache, outside the work tree,
# under a key hashed from debug.config, the linux-source package version
# and the compiler: it is rebuilt only when one of those changes, and an
# interrupted build resumes. Prints shell assignments, as kernel.sh does:
#   KVER=... KDIR=... VMLINUZ=... KCONFIG=...
# Environment: ASHMEM_KERNEL_JOBS (make -j, default 3).
set -euo pipefail

DEBUG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$DEBUG_DIR/../vm/lib.sh"

FRAGMENT=$DEBUG_DIR/debug.config
TARBALL=/usr/src/linux-source-6.12.tar.xz
JOBS=${ASHMEM_KERNEL_JOBS:-3}

# Building a kernel from source needs more than building a module.
BUILD_PACKAGES=(
	make gcc libc6-dev bc bison flex perl	# the build itself
	libelf-dev				# objtool
	libssl-dev				# certificate tooling
	xz-utils				# the source tarball
	linux-source-6.12
)

# Apply every line of the fragment with scripts/config.
apply_fragment() {
	local line name val

	while IFS= read -r line; do
		if [[ $line =~ ^CONFIG_([A-Za-z0-9_]+)=(.*)$ ]]; then
			name=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
			case $val in
			y)	scripts/config --enable "$name" ;;
			m)	scripts/config --module "$name" ;;
			\"*\")	val=${val#\"}; val=${val%\"}
				scripts/config --set-str "$name" "$val" ;;
			*)	scripts/config --set-val "$name" "$val" ;;
			esac
		elif [[ $line =~ ^#\ CONFIG_([A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			scripts/config --disable "${BASH_REMATCH[1]}"
		fi
	done < "$FRAGMENT"
}

# Fail loudly if olddefconfig dropped or changed an option of the fragment
# (a missing dependency, a renamed symbol).
verify_fragment() {
	local line name bad=0

	while IFS= read -r line; do
		if [[ $line =~ ^CONFIG_([A-Za-z0-9_]+)= ]]; then
			grep -qxF -- "$line" .config && continue
		elif [[ $line =~ ^#\ CONFIG_([A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			name=${BASH_REMATCH[1]}
			! grep -q "^CONFIG_$name=" .config && continue
		else
			continue
		fi
		name=${BASH_REMATCH[1]}
		log "error: wanted '$line', .config has:" \
			"$(grep -E "^(# )?CONFIG_${name}[= ]" .config || echo nothing)"
		bad=1
	done < "$FRAGMENT"
	[[ $bad -eq 0 ]] || die "the debug kernel's .config lacks options of $FRAGMENT"
}

# Unpack, configure and build into $1; each step leaves a stamp, so that
# an interrupted build goes on where it stopped.
build() {
	local kdir=$1 srcver=$2 start=$SECONDS

	if [[ ! -e $kdir/.unpacked ]]; then
		log "unpacking $TARBALL ($srcver) into $kdir"
		rm -rf "$kdir"
		mkdir -p "$kdir"
		tar -xJf "$TARBALL" -C "$kdir" --strip-components=1
		touch "$kdir/.unpacked"
	fi
	cd "$kdir"
	if [[ ! -e .configured ]]; then
		log "configuring: defconfig, kvm_guest.config, debug.config"
		make -s defconfig >&2
		make -s kvm_guest.config >&2
		apply_fragment
		make -s olddefconfig >&2
		verify_fragment
		touch .configured
	fi
	log "building bzImage and modules_prepare with -j$JOBS (10-20 minutes)"
	if ! make -j"$JOBS" bzImage modules_prepare > build.log 2>&1; then
		tail -n 40 build.log >&2
		die "the debug kernel does not build (log: $kdir/build.log)"
	fi
	# Module.symvers is written by "make modules"; without modules the
	# kernel's own exports are in vmlinux.symvers.
	cp vmlinux.symvers Module.symvers
	touch .complete
	log "debug kernel built in $((SECONDS - start))s"
}

# Trees of other keys are several GB that nothing uses any more: remove
# the ones this script made (they have its stamp), never anything else.
remove_old_trees() {
	local top=$1 keep=$2 old

	for old in "$top"/*; do
		[[ -d $old && $old != "$keep" && -e $old/.unpacked ]] || continue
		log "removing the old debug kernel $old"
		rm -rf "$old"
	done
}

main() {
	local srcver key top kdir kver

	apt_install "${BUILD_PACKAGES[@]}"
	[[ -r $TARBALL ]] || die "$TARBALL: not found"

	srcver=$(dpkg-query -W -f '${Version}' linux-source-6.12)
	key=$({
		cat "$FRAGMENT"
		echo "linux-source-6.12 $srcver"
		gcc --version | head -n 1
	} | sha256sum | cut -c1-16)
	top=$CACHE/debug-kernel
	kdir=$top/$key
	mkdir -p "$top"

	# One build at a time: a second run waits, then finds it built.
	exec 9> "$top/.lock"
	if ! flock -n 9; then
		log "another build of the debug kernel is running: waiting for it"
		flock 9
	fi
	if [[ ! -e $kdir/.complete ]]; then
		build "$kdir" "$srcver"
		remove_old_trees "$top" "$kdir"
	fi

	kver=$(cat "$kdir/include/config/kernel.release")
	printf 'KVER=%q KDIR=%q VMLINUZ=%q KCONFIG=%q\n' \
		"$kver" "$kdir" "$kdir/arch/x86/boot/bzImage" "$kdir/.config"
}

# All of the script is read before any of it runs: editing it meanwhile
# cannot change what a running build does.
main "$@"; exit
