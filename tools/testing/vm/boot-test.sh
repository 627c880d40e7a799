#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check that vm.sh boots again only a kernel that never started the init
# (a crash or hang of the kernel alone, before the module is loaded), and
# never a run in which the guest, the module or the tests failed.
#
# Usage: boot-test.sh VMLINUZ KCONFIG MODULE OUTDIR
# Boots the kernel about ten times (some 60 s under TCG), each case's
# logs in OUTDIR/CASE. Prints TAP; exits 1 if vm.sh did otherwise. Run
# by check.sh.
{
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=judge.sh
. "$VM_DIR/judge.sh"

[[ $# -eq 4 ]] || die "usage: boot-test.sh VMLINUZ KCONFIG MODULE OUTDIR"
kernel=$1 kconfig=$2 module=$3 top=$4
rm -rf "$top"

n=0 failed=0
# Run vm.sh for case NAME with a guest script of SCRIPT_TEXT; the
# environment before it holds the case's ASHMEM_VM_* settings. Sets rc,
# out (its output) and the VM_* variables of its status file.
run_case() {	# name script_text
	local dir=$top/$1

	mkdir -p "$dir"
	printf '#!/bin/sh\n%s\n' "$2" > "$dir/guest.sh"
	rc=0
	"$VM_DIR/vm.sh" --kernel "$kernel" --config "$kconfig" \
		--module "$module" --log "$dir/console.log" \
		--status "$dir/vm.status" --timeout 120 "$dir/guest.sh" \
		> "$dir/out" 2>&1 < /dev/null || rc=$?
	out=$(cat "$dir/out")
	read_vm_status "$dir/vm.status"
}

# Whether case NAME's boots before its last are kept as NAME/console.log.bootN
# and never reached the init, and its last one did: vm.sh booted again
# only a kernel that crashed early on its own, which happens now and then
# under TCG in any case, and must not fail it.
only_early_boots_retried() {	# name
	local dir=$top/$1 i

	for ((i = 1; i < VM_BOOTS; i++)); do
		[[ -e $dir/console.log.boot$i ]] || return 1
		! boot_reached_init "$dir/console.log.boot$i" || return 1
	done
	[[ ! -e $dir/console.log.boot$VM_BOOTS ]] &&
		boot_reached_init "$dir/console.log"
}

# Report case NAME: ok if HOLDS is 1.
report() {	# name holds
	n=$((n + 1))
	if [[ $2 -eq 1 ]]; then
		echo "ok $n $1"
		return
	fi
	echo "not ok $n $1 # vm.sh exit $rc, boots $VM_BOOTS, finished $VM_FINISHED, ${VM_SECONDS}s"
	printf '%s\n' "$out" | grep '^vm.sh: ' | sed 's/^/#   /'
	failed=$((failed + 1))
}

echo "TAP version 13"
echo "1..7"

# A failed boot's console from an earlier run with the same log.
mkdir -p "$top/healthy"
echo stale > "$top/healthy/console.log.boot1"
ASHMEM_VM_APPEND='' ASHMEM_VM_BOOT_TRIES=3 run_case healthy 'true'
holds=1
[[ $rc -eq 0 && $VM_FINISHED -eq 1 ]] && only_early_boots_retried healthy &&
	! grep -q -x stale "$top/healthy/console.log.boot1" 2>/dev/null ||
	holds=0
report "a healthy run passes, with no earlier run's failed boot" "$holds"

# No init at all: the kernel panics at the end of its boot.
ASHMEM_VM_APPEND='rdinit=/nonexistent' ASHMEM_VM_BOOT_TRIES=2 \
	run_case no_init 'true'
holds=1
[[ $rc -ne 0 && $VM_BOOTS -eq 2 && $VM_FINISHED -eq 0 &&
   -e $top/no_init/console.log.boot1 &&
   $out == *"did not reach the init in 2 boots"* ]] || holds=0
report "a kernel that stops before the init is booted again" "$holds"

# An init that never prints the mark: busybox sleep in its place. Two
# boots, the first of which may also crash early.
ASHMEM_VM_APPEND='rdinit=/bin/busybox -- sleep 1000' \
	ASHMEM_VM_BOOT_TRIES=2 ASHMEM_VM_BOOT_DEADLINE=10 \
	run_case hung_boot 'true'
holds=1
[[ $rc -ne 0 && $VM_BOOTS -eq 2 && $VM_SECONDS -lt 90 &&
   $out == *"had not started the init after 10s"* ]] || holds=0
report "a kernel that has not started the init by the deadline is stopped" "$holds"

ASHMEM_VM_APPEND='' ASHMEM_VM_BOOT_TRIES=3 \
	run_case crash_in_guest 'echo c > /proc/sysrq-trigger'
holds=1
[[ $rc -ne 0 && $VM_FINISHED -eq 0 ]] &&
	only_early_boots_retried crash_in_guest || holds=0
report "a crash after the init is a failure, not booted again" "$holds"

# The module taints the kernel (out of tree), and the kernel panics on it
# as the module loads: the init's mark is printed an instant before, and
# must not be lost in the tty's buffer.
ASHMEM_VM_APPEND='panic_on_taint=0x1000' ASHMEM_VM_BOOT_TRIES=3 \
	run_case panic_on_load 'true'
holds=1
[[ $rc -ne 0 && $VM_FINISHED -eq 0 ]] &&
	only_early_boots_retried panic_on_load &&
	grep -q -a "^\[ *[0-9.]*\] $MARK_INIT" "$top/panic_on_load/console.log" ||
	holds=0
report "a panic as the module loads is a failure, not booted again" "$holds"

# Stop vm.sh's process group with SIGNAL once a QEMU runs in it, after
# WHEN (boot: 1 s; script: the guest script began). vm.sh runs in a session
# of its own, where nothing may be left once it has exited; it must not
# boot again. Sets rc, out, left and boots_at_signal.
stop_case() {	# name signal when
	local dir=$top/$1 session

	mkdir -p "$dir"
	printf '#!/bin/sh\nsleep 300\n' > "$dir/guest.sh"
	# A background job ignores SIGINT unless told otherwise.
	ASHMEM_VM_APPEND='' setsid env --default-signal=INT "$VM_DIR/vm.sh" \
		--kernel "$kernel" --config "$kconfig" --module "$module" \
		--log "$dir/console.log" --timeout 400 "$dir/guest.sh" \
		> "$dir/out" 2>&1 < /dev/null &
	session=$!
	for _ in $(seq 120); do
		if [[ $3 == boot ]]; then
			pgrep -s "$session" -x qemu-system-x86 > /dev/null &&
				sleep 1 && break
		else
			grep -q -a "^$MARK_SCRIPT_BEGIN" "$dir/console.log" \
				2>/dev/null && break
		fi
		sleep 1
	done
	boots_at_signal=$(grep -c '^vm.sh: booting ' "$dir/out" || true)
	kill "-$2" -- "-$session" 2>/dev/null || true
	rc=0
	wait "$session" || rc=$?
	sleep 2
	left=$(pgrep -a -s "$session" || true)
	out=$(cat "$dir/out")
	VM_BOOTS=$(grep -c '^vm.sh: booting ' "$dir/out" || true)
	VM_FINISHED=0 VM_SECONDS=0
	if [[ -n $left ]]; then
		printf '%s\n' "$left" | sed 's/^/#   left: /'
		pkill -KILL -s "$session" || true
	fi
}

# A CI job's kill while the tests run.
stop_case term_in_script TERM script
holds=1
[[ $rc -ne 0 && -z $left ]] || holds=0
report "killing vm.sh's process group stops its QEMU" "$holds"

# Ctrl-C before the init: QEMU stops as a crashed kernel would.
stop_case int_in_boot INT boot
holds=1
[[ $rc -ne 0 && -z $left && $VM_BOOTS -eq $boots_at_signal ]] || holds=0
report "Ctrl-C during the boot stops vm.sh, not booting again" "$holds"

echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
[[ $failed -eq 0 ]]
exit
}
