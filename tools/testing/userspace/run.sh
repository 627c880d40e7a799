#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: run.sh [SERIES...]    (default: 6.1 6.12 7, or $KERNELS)
#
# make check-userspace: the userspace tests in QEMU, for the newest Debian
# kernel of each series: Debian 12's 6.1 and 6.12, and 7, Debian's newest
# (trixie-backports), whose module builds in the Debian 13 root of
# debian13-root.sh. On the host first: the manual pages render without
# a warning and install with make install-tool and install-lib. Then
# builds libashmem, its tests, the helper programs and the ashmem tool
# statically (make -C tools/testing/userspace), builds ashmem.ko in a copy
# of the tree and installs it with `make install DESTDIR=...`
# (modules_install + depmod) into a staging root whose /lib/modules/KVER
# goes into the initramfs. In the guest: test-userspace.sh (libashmem on
# the device, on memfd and through /dev/ashmem<boot_id>; the tool; rmmod
# and the memfd fallback; modprobe). Ends with "N passed, N failed" over
# the host checks and all kernels; exits 1 on any failure, VM problem or
# kernel complaint. Logs in build/userspace/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$here/../vm/lib.sh"

# Every target kernel, as make check has them (lib.sh's list).
select_series "$@"
top=$OUT/userspace
total_pass=0 total_fail=0 total_skip=0
problems=()
problem() { problems+=("$*"); log "FAIL: $*"; }
host_ok() { total_pass=$((total_pass + 1)); log "ok: $*"; }
host_fail() { total_fail=$((total_fail + 1)); problem "$*"; }

"$VM_DIR/deps.sh"
# man(1) and groff render the manual pages for their check.
apt_install man-db groff-base
lsrc=$(linux_source)
mkdir -p "$top"
depmod=$(command -v depmod || echo /sbin/depmod)

# --- on the host: the manual pages ----------------------------------------

MAN_PAGES=("$REPO/tools/ashmem/ashmem.1" "$REPO/lib/libashmem.3")
for page in "${MAN_PAGES[@]}"; do
	name=${page#"$REPO/"}
	if [[ ! -e $page ]]; then
		host_fail "$name: no such manual page"
		continue
	fi
	# man --warnings passes groff's warnings on to stderr.
	if warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" \
		2>&1 >/dev/null) && [[ -z $warnings ]]; then
		host_ok "$name renders without warnings"
	else
		printf '%s\n' "$warnings" >&2
		host_fail "$name: man --warnings complains"
	fi
done

stage=$top/install-stage
rm -rf "$stage"
if make -C "$REPO" -s install-tool install-lib DESTDIR="$stage" \
	PREFIX=/usr O="$top/install-build" >"$top/install.log" 2>&1; then
	for f in usr/share/man/man1/ashmem.1 usr/share/man/man3/libashmem.3 \
		 usr/share/man/man3/ashmem_create_region.3 usr/bin/ashmem; do
		if [[ -s $stage/$f ]]; then
			host_ok "make install-tool install-lib installs /$f"
		else
			host_fail "make install-tool install-lib installs no /$f"
		fi
	done
else
	cat "$top/install.log" >&2
	host_fail "make install-tool install-lib fails (log: $top/install.log)"
fi

log "building libashmem, its tests and the ashmem tool"
if ! make -C "$here" O="$top/bin" \
	KSFT_INC="$lsrc/tools/testing/selftests" >"$top/build.log" 2>&1; then
	cat "$top/build.log" >&2
	die "the userspace programs do not build (log: $top/build.log)"
fi
mapfile -t prog_files < <(make -s -C "$here" O="$top/bin" print-files)

for s in "${series_list[@]}"; do
	ROOT=''
	kvars=$(kernel_vars "$s") || kvars=''
	if [[ -z $kvars ]]; then
		problem "$s: cannot get the Debian kernel"
		total_fail=$((total_fail + 1))
		continue
	fi
	eval "$kvars"
	# shellcheck disable=SC2153 # from kernel.sh
	kver=$KVER kdir=$KDIR vmlinuz=$VMLINUZ kconfig=$KCONFIG
	dir=$top/$kver
	copy_sources "$dir/src"
	rm -rf "$dir/root"
	log "$kver: building and installing ashmem.ko into $dir/root"
	# 7.x builds in its Debian 13 root, which has neither depmod nor xz:
	# the module goes in uncompressed and the host's depmod indexes it.
	install=(make -C "$dir/src" KVER="$kver" KDIR="$kdir"
		DESTDIR="$dir/root" install)
	if [[ -n $ROOT ]]; then
		install=("$VM_DIR/in-root.sh" -b "$top" "$ROOT" "${install[@]}"
			DEPMOD=true CONFIG_MODULE_COMPRESS_XZ=
			CONFIG_MODULE_COMPRESS_ALL=)
	fi
	if ! "${install[@]}" >"$dir/install.log" 2>&1 ||
	   { [[ -n $ROOT ]] && ! "$depmod" -a -b "$dir/root" "$kver" \
		>>"$dir/install.log" 2>&1; }; then
		cat "$dir/install.log" >&2
		problem "$kver: make install fails (log: $dir/install.log)"
		total_fail=$((total_fail + 1))
		continue
	fi

	args=()
	for f in "${prog_files[@]}"; do
		args+=(--file "$f")
	done
	while IFS= read -r -d '' f; do
		args+=(--file "$f:${f#"$dir/root"}")
	done < <(find "$dir/root/lib/modules" -type f -print0)

	"$VM_DIR/vm.sh" --kernel "$vmlinuz" --config "$kconfig" \
		--module "$dir/src/ashmem.ko" "${args[@]}" \
		--log "$dir/console.log" --status "$dir/vm.status" \
		"$here/test-userspace.sh" || true

	VM_FINISHED=0 VM_SCRIPT_STATUS=none VM_SETUP=none VM_COMPLAINTS=0
	# shellcheck source=/dev/null
	[[ -e $dir/vm.status ]] && . "$dir/vm.status"
	totals=$(grep -a '^# Totals: ' "$dir/console.log" | tail -n 1 || true)
	if [[ -z $totals ]]; then
		problem "$kver: the guest script printed no totals"
		total_fail=$((total_fail + 1))
	else
		p=$(sed -n 's/.* pass:\([0-9]*\).*/\1/p' <<<"$totals")
		f=$(sed -n 's/.* fail:\([0-9]*\).*/\1/p' <<<"$totals")
		k=$(sed -n 's/.* skip:\([0-9]*\).*/\1/p' <<<"$totals")
		total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
		total_skip=$((total_skip + k))
		log "$kver: $p passed, $f failed, $k skipped"
	fi
	[[ $VM_FINISHED == 1 ]] || problem "$kver: the VM did not finish"
	[[ $VM_SETUP == ok ]] || problem "$kver: loading or unloading failed"
	[[ $VM_SCRIPT_STATUS == 0 ]] ||
		problem "$kver: test-userspace.sh exit status $VM_SCRIPT_STATUS"
	[[ $VM_COMPLAINTS -eq 0 ]] ||
		problem "$kver: $VM_COMPLAINTS kernel complaint line(s)"
done

if [[ ${#problems[@]} -gt 0 ]]; then
	echo "problems:"
	printf '  - %s\n' "${problems[@]}"
fi
echo "$total_skip skipped"
echo "$total_pass passed, $total_fail failed"
[[ ${#problems[@]} -eq 0 && $total_fail -eq 0 ]]
