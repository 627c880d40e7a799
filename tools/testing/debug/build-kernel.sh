#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a debug kernel of make check-debug or make check-kcsan, once, and
# print where it is.
#
# Usage: build-kernel.sh [debug|kcsan]
#
# Unpacks Debian's linux-source-6.12 and configures it, out of the source
# tree, as allnoconfig + base.config (what the VM and the tests need,
# lockdep, fault injection) + the variant's fragment: debug.config (KASAN,
# kmemleak, UBSAN, DEBUG_VM, ...; the default) or kcsan.config (KCSAN).
# Checks that every option of both fragments took, and builds bzImage and
# modules_prepare, so that external modules build against the tree. The
# variants share the unpacked source; each builds in its own directory of
# the cache, under a key hashed from the fragments, the linux-source
# package version and the compiler: it is rebuilt only when one of those
# changes, and an interrupted build resumes. Prints shell assignments, as
# kernel.sh does:
#   KVER=... KDIR=... VMLINUZ=... KCONFIG=...
# Environment: ASHMEM_KERNEL_JOBS (make -j, default 3).
set -euo pipefail

DEBUG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$DEBUG_DIR/../vm/lib.sh"

VARIANT=${1:-debug}
BASE=$DEBUG_DIR/base.config
FRAGMENT=$DEBUG_DIR/$VARIANT.config
TARBALL=$LINUX_SOURCE_TARBALL
JOBS=${ASHMEM_KERNEL_JOBS:-3}

# Building a kernel from source needs more than building a module.
BUILD_PACKAGES=(
	make gcc libc6-dev bc bison flex perl	# the build itself
	libelf-dev				# objtool
	libssl-dev				# certificate tooling
	xz-utils				# the source tarball
	"$LINUX_SOURCE_PKG"
)

# Fail loudly if Kconfig dropped or changed an option of a fragment (a
# missing dependency, a renamed symbol).
verify_fragment() {
	local fragment=$1 line name bad=0

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
	done < "$fragment"
	[[ $bad -eq 0 ]] || die "the $VARIANT kernel's .config lacks options of $fragment"
}

# Unpack the source into $1 once, for every variant.
unpack() {
	local src=$1 srcver=$2

	[[ -e $src/.unpacked ]] && return
	log "unpacking $TARBALL ($srcver) into $src"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf "$TARBALL" -C "$src" --strip-components=1
	touch "$src/.unpacked"
}

# Configure and build the source $2 into $1; each step leaves a stamp, so
# that an interrupted build goes on where it stopped.
build() {
	local kdir=$1 src=$2 start=$SECONDS

	cd "$kdir"
	if [[ ! -e .configured ]]; then
		log "configuring: allnoconfig, base.config, $VARIANT.config"
		cat "$BASE" "$FRAGMENT" > fragment.config
		make -s -C "$src" O="$kdir" KCONFIG_ALLCONFIG="$kdir/fragment.config" \
			allnoconfig >&2
		verify_fragment "$BASE"
		verify_fragment "$FRAGMENT"
		touch .configured
	fi
	log "building the $VARIANT kernel: bzImage and modules_prepare with -j$JOBS"
	if ! make -j"$JOBS" bzImage modules_prepare > build.log 2>&1; then
		tail -n 40 build.log >&2
		die "the $VARIANT kernel does not build (log: $kdir/build.log)"
	fi
	# Module.symvers is written by "make modules"; without modules the
	# kernel's own exports are in vmlinux.symvers.
	cp vmlinux.symvers Module.symvers
	touch .complete
	log "$VARIANT kernel built in $((SECONDS - start))s"
}

# Builds of other keys are hundreds of MB that nothing uses any more:
# remove this variant's (the other variant's may be in use), then the
# sources no build names. Nothing else: trees without these stamps may
# belong to an older build-kernel.sh that another checkout still runs.
remove_old_trees() {
	local top=$1 keep=$2 old used

	for old in "$top"/*; do
		[[ -d $old && $old != "$keep" && -e $old/.variant ]] || continue
		[[ $(<"$old/.variant") == "$VARIANT" ]] || continue
		log "removing the old $VARIANT kernel $old"
		rm -rf "$old"
	done
	used=$(cat "$top"/*/.source 2>/dev/null || true)
	for old in "$top"/source-*; do
		[[ -d $old ]] || continue
		grep -qxF -- "$old" <<<"$used" && continue
		log "removing the unused kernel source $old"
		rm -rf "$old"
	done
}

main() {
	local srcver key top src kdir kver

	[[ -r $FRAGMENT && $VARIANT =~ ^[a-z0-9]+$ ]] ||
		die "unknown kernel variant '$VARIANT' (no $FRAGMENT)"
	apt_install "${BUILD_PACKAGES[@]}"
	[[ -r $TARBALL ]] || die "$TARBALL: not found"

	srcver=$(linux_source_version)
	key=$({
		cat "$BASE" "$FRAGMENT"
		echo "$LINUX_SOURCE_PKG $srcver"
		gcc --version | head -n 1
	} | sha256sum | cut -c1-16)
	top=$CACHE/debug-kernel
	src=$top/source-$srcver
	kdir=$top/$VARIANT-$key
	mkdir -p "$top"

	# One build of a variant at a time: a second run waits, then finds it
	# built. The variants build side by side, but unpack and remove
	# trees one at a time, under the lock of the cache's top.
	exec 9> "$top/.lock-$VARIANT"
	if ! flock -n 9; then
		log "another build of the $VARIANT kernel is running: waiting for it"
		flock 9
	fi
	if [[ ! -e $kdir/.complete ]]; then
		exec 8> "$top/.lock"
		flock 8
		unpack "$src" "$srcver"
		mkdir -p "$kdir"
		echo "$VARIANT" > "$kdir/.variant"
		echo "$src" > "$kdir/.source"
		flock -u 8
		build "$kdir" "$src"
		flock 8
		remove_old_trees "$top" "$kdir"
		flock -u 8
	fi

	kver=$(cat "$kdir/include/config/kernel.release")
	printf 'KVER=%q KDIR=%q VMLINUZ=%q KCONFIG=%q\n' \
		"$kver" "$kdir" "$kdir/arch/x86/boot/bzImage" "$kdir/.config"
}

# All of the script is read before any of it runs: editing it meanwhile
# cannot change what a running build does.
main "$@"; exit
