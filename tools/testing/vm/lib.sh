# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the VM test scripts: paths, logging, apt wrappers.
# Sourced, not run. Needs bash with set -euo pipefail in the caller.
# shellcheck shell=bash disable=SC2034

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_DIR/../../.." && pwd)

# Downloaded kernels and extracted kernel sources live outside the tree.
# HOME may be unset in CI.
if [[ -n ${ASHMEM_CACHE:-} ]]; then
	CACHE=$ASHMEM_CACHE
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
	CACHE=$XDG_CACHE_HOME/ashmem
elif [[ -n ${HOME:-} ]]; then
	CACHE=$HOME/.cache/ashmem
else
	CACHE=/var/cache/ashmem
fi

# Build copies, initramfs images and logs: in the tree, git-ignored.
OUT=${ASHMEM_OUT:-$REPO/build}

# The Debian kernel series we test against, oldest first: the one list
# every script takes. 6.1 and 6.12 are Debian 12's: kernel.sh installs
# their headers on the host. 7 is Debian's newest (trixie-backports),
# which builds only in a Debian 13 root (debian13-root.sh, in-root.sh).
ALL_SERIES="6.1 6.12 7"
# The ABIs the test programs are built and run for.
ABIS="64 32"

# The series a script tests: its arguments, else KERNELS, else
# ALL_SERIES; each one of ALL_SERIES. Sets the array series_list.
select_series() {
	local s

	read -r -a series_list <<<"${*:-${KERNELS:-$ALL_SERIES}}"
	for s in "${series_list[@]}"; do
		[[ " $ALL_SERIES " == *" $s "* ]] ||
			die "unknown kernel series '$s' (one of: $ALL_SERIES)"
	done
}

# Does SERIES build only in the Debian 13 root?
series_in_root() { [[ $1 == 7 ]]; }

# The series of ALL_SERIES whose headers install on the host.
HOST_SERIES=''
for _s in $ALL_SERIES; do
	series_in_root "$_s" || HOST_SERIES+="${HOST_SERIES:+ }$_s"
done
unset _s

# kernel_vars SERIES: shell assignments for eval, KVER, KDIR, VMLINUZ,
# KCONFIG and ROOT (the Debian 13 build root; empty for a kernel whose
# headers are on the host).
kernel_vars() {
	if series_in_root "$1"; then
		"$VM_DIR/debian13-root.sh"
	else
		echo "ROOT=''"
		"$VM_DIR/kernel.sh" "$1"
	fi
}

# The cache of kernel KVER's image (kernel.sh, debian13-root.sh): sets
# KCACHE, its directory, and in it VMLINUZ, KCONFIG and MODDIR (the zram
# modules of zram-modules.sh).
kernel_cache_paths() {	# kver
	KCACHE=$CACHE/kernels/$1
	VMLINUZ=$KCACHE/boot/vmlinuz-$1
	KCONFIG=$KCACHE/boot/config-$1
	MODDIR=$KCACHE/modules
}

# Is all of kernel_cache_paths' kernel there? A cache made before the zram
# modules were kept lacks them.
kernel_cached() {
	[[ -e $VMLINUZ && -e $KCONFIG &&
	   ( -e $MODDIR/load-order || -e $MODDIR/unsupported ) ]]
}

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
	[[ $(id -u) -eq 0 ]] || die "run as root: it installs Debian packages"
}

# apt must not stop to ask, and waits for another apt to finish rather
# than failing on the dpkg lock.
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-q -o DPkg::Lock::Timeout=600)

is_installed() {
	[[ $(dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# Refresh the package lists before installing, at most once a day
# (ASHMEM_APT_MAX_AGE minutes), so repeated runs need no network; a stamp
# in the cache records the last refresh. apt_update_now refreshes anyway.
apt_update() {
	local stamp=$CACHE/apt-update.stamp
	local age=${ASHMEM_APT_MAX_AGE:-1440}

	if [[ -e $stamp && -n $(find "$stamp" -mmin "-$age" 2>/dev/null) ]]; then
		return 0
	fi
	if [[ $(id -u) -ne 0 ]]; then
		log "not root: using the package lists as they are"
		return 0
	fi
	apt_update_now
}

apt_update_now() {
	local stamp=$CACHE/apt-update.stamp

	need_root
	log "apt-get update"
	apt-get "${APT_OPTS[@]}" update >&2
	mkdir -p "$CACHE"
	touch "$stamp"
}

# Install the given packages that are not installed yet.
apt_install() {
	local pkg missing=()

	for pkg in "$@"; do
		is_installed "$pkg" || missing+=("$pkg")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		log "already installed: $*"
		return 0
	fi
	apt_update
	log "apt-get install ${missing[*]}"
	apt-get "${APT_OPTS[@]}" install -y --no-install-recommends \
		"${missing[@]}" >&2
}

# Copy the module's sources (every file git does not ignore) into a fresh
# directory DEST, so each kernel gets a clean build and no objects land in
# the tree.
copy_sources() {
	local dest=$1

	rm -rf "$dest"
	mkdir -p "$dest"
	if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$REPO" && git ls-files -z -co --exclude-standard |
			tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
			tar -xf - -C "$dest"
	else
		tar -C "$REPO" --exclude=./.git --exclude=./build -cf - . |
			tar -xf - -C "$dest"
	fi
}

# Files the checks take from Debian's linux-source-6.12 instead of
# vendoring them: checkpatch.pl with its data, the kselftest harness, and
# what the range test builds the driver's range code with (the userspace
# copies of the kernel's headers, its rbtree). The test Makefiles copy
# theirs from here too when not told where they are (linux-source.sh).
LINUX_SOURCE_FILES=(
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
	tools/include
	tools/lib/rbtree.c
)

# The Debian package of kernel sources the checks and the debug kernels
# (build-kernel.sh) take, and its tarball.
LINUX_SOURCE_PKG=linux-source-6.12
LINUX_SOURCE_TARBALL=/usr/src/$LINUX_SOURCE_PKG.tar.xz

# The installed version of LINUX_SOURCE_PKG.
linux_source_version() {
	dpkg-query -W -f '${Version}' "$LINUX_SOURCE_PKG"
}

# Unpack LINUX_SOURCE_FILES into the cache once per package version (it
# takes ~15 s to decompress) and print the directory. .complete lists
# what was unpacked: when the list grows, the new files are unpacked
# beside the old ones, which other trees' checks may be using.
linux_source() {
	local tarball=$LINUX_SOURCE_TARBALL
	local ver dir tmp want

	ver=$(linux_source_version)
	dir=$CACHE/linux-source-$ver
	want=$(printf '%s\n' "${LINUX_SOURCE_FILES[@]}")
	if [[ ! -e $dir/.complete || $(<"$dir/.complete") != "$want" ]]; then
		log "unpacking checkpatch, the kselftest harness and tools/include from $tarball"
		mkdir -p "$CACHE"
		tmp=$(mktemp -d "$CACHE/linux-source.XXXXXX")
		chmod 755 "$tmp"
		tar -xJf "$tarball" -C "$tmp" --strip-components=1 \
			"${LINUX_SOURCE_FILES[@]/#/$LINUX_SOURCE_PKG/}"
		if [[ -d $dir ]]; then
			cp -a "$tmp/." "$dir/"
			rm -rf "$tmp"
		else
			mv "$tmp" "$dir"
		fi
		printf '%s\n' "$want" > "$dir/.complete"
	fi
	echo "$dir"
}

# For make run and make bench: install what the VM needs, get the Debian
# kernel of SERIES (kernel.sh) and build ashmem.ko for it in
# $OUT/WHAT/KVER/src. Sets KVER, KDIR, VMLINUZ, KCONFIG and WORK_DIR
# ($OUT/WHAT/KVER).
build_module_for() {	# series what
	local series=$1 what=$2 kvars

	"$VM_DIR/deps.sh"
	kvars=$("$VM_DIR/kernel.sh" "$series")
	eval "$kvars"
	WORK_DIR=$OUT/$what/$KVER
	log "building ashmem.ko for $KVER"
	copy_sources "$WORK_DIR/src"
	if ! make -s -C "$KDIR" M="$WORK_DIR/src" modules \
		> "$WORK_DIR/build.log" 2>&1; then
		cat "$WORK_DIR/build.log" >&2
		die "the module does not build for $KVER (log: $WORK_DIR/build.log)"
	fi
}

# Build the static demo program (tools/demo) into OUTFILE.
build_demo() {
	local outfile=$1

	mkdir -p "$(dirname "$outfile")"
	gcc -static -O2 -Wall -Wextra -Werror -I"$REPO/uapi" \
		-I"$REPO/tools/testing/shared" \
		-o "$outfile" "$REPO/tools/demo/ashmem_demo.c"
}

# Build the kselftests and the fuzzer of one ABI (64 or 32) into OUTDIR,
# each make's output in LOGDIR/build-ABI-NAME.log, with the kselftest
# harness of LSRC (linux_source). Prints what went wrong, a line each, and
# fails if anything did.
build_test_programs() {	# abi outdir logdir lsrc
	local abi=$1 outdir=$2 logdir=$3 lsrc=$4 dir blog m32=() bad=0

	[[ $abi == 32 ]] && m32=(M32=1)
	for dir in "$REPO/tools/testing/selftests/ashmem" \
		   "$REPO/tools/testing/fuzz"; do
		blog=$logdir/build-$abi-${dir##*/}.log
		if ! make -C "$dir" OUTPUT="$outdir" \
			KSFT_INC="$lsrc/tools/testing/selftests" "${m32[@]}" \
			> "$blog" 2>&1; then
			cat "$blog" >&2
			echo "the $abi-bit ${dir##*/} programs do not build"
			bad=1
		elif grep -qE 'warning:' "$blog"; then
			cat "$blog" >&2
			echo "the $abi-bit ${dir##*/} programs build with warnings"
			bad=1
		fi
	done
	return "$bad"
}

# Guest script lines that run one program between the markers tap_counts
# reads: "ashmem-check: begin ABI/NAME" and "ashmem-check: end ABI/NAME
# status N"; a status other than 0 (or 4, all skipped) sets rc=1.
guest_run() {	# abi name command...
	local abi=$1 name=$2

	shift 2
	cat <<-EOF
	echo "ashmem-check: begin $abi/$name"
	$*
	s=\$?
	echo "ashmem-check: end $abi/$name status \$s"
	[ \$s -eq 0 ] || [ \$s -eq 4 ] || rc=1
	EOF
}

# Count one program's results in a console log, from the guest's markers
# "ashmem-check: begin ABI/NAME" and "ashmem-check: end ABI/NAME status N";
# prints "status pass fail skip note". A program that printed no Totals
# line, stopped before its plan or exited with an unexpected status fails.
tap_counts() {
	local log=$1 name=$2

	awk -v begin="ashmem-check: begin $name" \
	    -v end="ashmem-check: end $name status " '
		$0 == begin { on = 1; seen = 1; next }
		!on { next }
		index($0, end) == 1 { status = substr($0, length(end) + 1) }
		/^ashmem-(check|debug|vm): / { on = 0; next }	# not its output
		/^\[ *[0-9]+\.[0-9]+\]/ { next }		# kernel lines
		/^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0 }
		/^ok [0-9]+/ {
			n++
			if ($0 ~ /# *SKIP/) skip++
			else pass++
		}
		/^not ok [0-9]+/ { n++; fail++ }
		/^# Totals: / {
			totals = 1
			for (i = 3; i <= NF; i++) {
				split($i, kv, ":")
				t[kv[1]] = kv[2] + 0
			}
		}
		END {
			if (!seen) { print "none 0 1 0 not-run"; exit }
			if (status == "") status = "none"
			if (totals) {
				pass = t["pass"] + t["xfail"]
				fail = t["fail"] + t["xpass"] + t["error"]
				skip = t["skip"]
				n = pass + fail + skip
			}
			# The most telling note wins.
			note = fail ? "FAILED" : "ok"
			if (status == "none")
				note = "did-not-end"
			else if (status != "0" && status != "4" &&
				 !(status == "1" && fail))
				note = "exit-status-" status
			if (plan > n) {
				fail += plan - n
				note = "unfinished"
			}
			if (!totals)
				note = "no-Totals-line"
			if (note != "ok" && !fail)
				fail = 1
			print status, pass + 0, fail + 0, skip + 0, note
		}
	' "$log"
}

# Read what vm.sh --status wrote into FILE as the VM_* variables (declare
# them local to keep them), with the values of a VM that wrote nothing;
# VM_COMPLAINT_LINES names the file of its complaint lines.
read_vm_status() {	# file
	VM_FINISHED=0 VM_SCRIPT_STATUS=none VM_SETUP=none VM_SWAP=none
	VM_COMPLAINTS=0 VM_OOM_KILLS=0 VM_SECONDS=0 VM_BOOTS=0
	VM_COMPLAINT_LINES=$1.complaints
	# shellcheck source=/dev/null
	[[ ! -e $1 ]] || . "$1"
}

# What went wrong in the VM read_vm_status read, a line each, for a run
# that asked for SWAP_MIB of swap (0: none) and TIMEOUT seconds.
vm_status_problems() {	# swap_mib timeout
	local swap_mib=$1 timeout=$2

	[[ $VM_FINISHED == 1 ]] || echo "the VM did not finish"
	[[ $VM_SETUP == ok || $VM_FINISHED != 1 ]] ||
		echo "loading, checking or unloading the module failed"
	[[ $swap_mib -eq 0 || $VM_SWAP == on || $VM_FINISHED != 1 ]] ||
		echo "the guest could not swap on $swap_mib MiB of zram"
	if [[ $VM_COMPLAINTS -gt 0 ]]; then
		# CI shows only the summary's end: quote the first lines there.
		echo "$VM_COMPLAINTS kernel complaint line(s) after the module loaded:"
		head -n 12 "$VM_COMPLAINT_LINES" | sed 's/^/    console.log:/'
	fi
	[[ $VM_SCRIPT_STATUS != timeout ]] ||
		echo "the tests did not end within ${timeout}s"
}
