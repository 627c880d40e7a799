#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug and make check-kcsan: ashmem on a kernel built to catch
# it misbehaving.
#
# Usage: check-debug.sh [debug|kcsan]
#
# Builds, once, a 6.12 kernel (build-kernel.sh): for check-debug, the
# default, with KASAN, lockdep, kmemleak, UBSAN, DEBUG_VM, DEBUG_LIST and
# failslab; for check-kcsan with KCSAN and lockdep. Builds ashmem.ko
# against it with W=1, the kselftests 64- and 32-bit and the fuzzer; boots
# it in QEMU with slab_nomerge and runs, each program once, in this order:
#   1. the kselftests (every program of print-progs but those below)
#   2. ashmem_stress
#   3. the fuzzer (tools/testing/fuzz), 64-bit, then a shorter 32-bit run
#   4. ashmem_fault_test: allocations failed with failslab
#   5. ashmem_unload_test, which unloads and reloads the module
# both ABIs each; then vm.sh unloads the module and scans kmemleak. The
# KCSAN kernel runs the first three phases.
#
# Fails on any failed test, compiler warning, VM that did not finish, or
# kernel report (KASAN, lockdep, UBSAN, kmemleak, warning, BUG, stall)
# after the module was loaded. KCSAN reports fail the run if they name
# the module; races purely in the rest of the kernel are printed and
# counted, not judged. Reports from early boot, before the module, are
# printed but not judged. Ends with a summary and, on the last line, "N
# passed, N failed", counting kselftest cases and one case per fuzzer
# run. Logs stay in build/check-debug/ (build/check-kcsan/).
#
# Environment: ASHMEM_VM_MEM (MiB, default 2048: KASAN needs it),
# ASHMEM_DEBUG_TIMEOUT (VM seconds, default 3600), ASHMEM_DEBUG_PHASES
# (which of "kselftests stress fuzzer fault-injection unload" to run,
# default all; for KCSAN the first three), ASHMEM_FUZZ_SECONDS (64-bit
# run, default 120; the 32-bit run gets a third), ASHMEM_FUZZ_PROCS
# (default 4), ASHMEM_FUZZ_SEED (replay a seed the fuzzer printed: both
# runs use it, for the full time), ASHMEM_FUZZ_ARGS (more fuzzer options,
# say "--ops 1601 --verbose"), ASHMEM_VM_SWAP (MiB of zram swap; default
# 256 for debug, so that the swap tests run under KASAN too, and none for
# KCSAN, whose slowness the swap and NUMA tests' time limits do not
# allow), ASHMEM_KERNEL_JOBS (kernel build, default 3). The debug guest
# has two NUMA nodes (numa=fake=2). See doc/debug.md.
set -euo pipefail

DEBUG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$DEBUG_DIR/../vm/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../vm/judge.sh
. "$VM_DIR/judge.sh"

variant=${1:-debug}
case $variant in
debug)	default_phases="kselftests stress fuzzer fault-injection unload"
	default_swap=256 ;;
kcsan)	default_phases="kselftests stress fuzzer"
	default_swap=0 ;;
*)	die "unknown kernel variant '$variant': debug or kcsan" ;;
esac
top=$OUT/check-$variant
timeout=${ASHMEM_DEBUG_TIMEOUT:-3600}
fuzz_seconds=${ASHMEM_FUZZ_SECONDS:-120}
fuzz_procs=${ASHMEM_FUZZ_PROCS:-4}
swap_mib=${ASHMEM_VM_SWAP:-$default_swap}
fuzz_seed=${ASHMEM_FUZZ_SEED:-}
read -r -a fuzz_args <<<"${ASHMEM_FUZZ_ARGS:-}"
phases=${ASHMEM_DEBUG_PHASES:-$default_phases}
ksft_dir=$REPO/tools/testing/selftests/ashmem

# Programs run in their own phase, after the rest of the kselftests.
STRESS=ashmem_stress
FAULT=ashmem_fault_test
UNLOAD=ashmem_unload_test

# What a kernel report looks like, for the early-boot lines vm.sh does not
# judge (extended regex).
REPORTS='WARNING:|BUG:|Oops|KASAN|KCSAN|UBSAN|kmemleak:|unreferenced object'
REPORTS+='|possible circular locking|possible recursive locking'
REPORTS+='|inconsistent lock state|list_add corruption|list_del corruption'
REPORTS+='|stall|hung_task|blocked for more than|Call Trace'

problems=()	# what failed, besides test cases
rows=()		# the summary table
runs=()		# ABI/NAME of every program run, in order
vm_files=()	# --file arguments of vm.sh
total_pass=0 total_fail=0 total_skip=0
kernel_s=0 boot_s='' races_core=0

section() { printf '\n==== %s ====\n' "$*"; }
problem() { problems+=("$*"); log "FAIL: $*"; }
want_phase() { [[ " $phases " == *" $1 "* ]]; }

check_settings() {
	local p

	[[ $fuzz_seconds =~ ^[0-9]+$ && $fuzz_procs =~ ^[0-9]+$ ]] ||
		die "ASHMEM_FUZZ_SECONDS and ASHMEM_FUZZ_PROCS must be numbers"
	[[ -z $fuzz_seed || $fuzz_seed =~ ^[0-9]+$ ]] ||
		die "ASHMEM_FUZZ_SEED must be a number"
	for p in $phases; do
		case $p in
		kselftests|stress|fuzzer|fault-injection|unload) ;;
		*) die "unknown phase '$p' in ASHMEM_DEBUG_PHASES" ;;
		esac
	done
}

# --- building ---------------------------------------------------------------

# Sets KVER, KDIR, VMLINUZ, KCONFIG.
get_kernel() {
	local t0=$SECONDS kvars

	section "$variant kernel"
	kvars=$("$DEBUG_DIR/build-kernel.sh" "$variant") ||
		die "cannot build the $variant kernel"
	kernel_s=$((SECONDS - t0))
	eval "$kvars"
	log "$KVER in $KDIR (${kernel_s}s)"
}

build_module() {
	local t0=$SECONDS n

	copy_sources "$top/src"
	if ! make -C "$KDIR" M="$top/src" W=1 modules > "$top/build.log" 2>&1; then
		cat "$top/build.log" >&2
		die "the module does not build against the $variant kernel (log: $top/build.log)"
	fi
	n=$(grep -cE '(warning|error):' "$top/build.log" || true)
	if [[ $n -gt 0 ]]; then
		grep -E '(warning|error):' "$top/build.log" | sed 's/^/    /' >&2
		problem "$n compiler warning(s) with W=1"
	fi
	log "ashmem.ko built in $((SECONDS - t0))s"

	# The stand-in for another driver's /dev/ashmem (ashmem_unload_test).
	local other=$top/src/tools/testing/selftests/ashmem/other_ashmem
	if make -C "$KDIR" M="$other" modules > "$top/other-build.log" 2>&1; then
		vm_files+=(--file "$other/ashmem_other.ko:/lib/modules/ashmem_other.ko")
	else
		cat "$top/other-build.log" >&2
		problem "ashmem_other.ko does not build"
	fi
}

# The kselftests and the fuzzer of one ABI into $top/bin/ABI.
build_programs() {
	local abi=$1 lsrc=$2 msg

	while IFS= read -r msg; do
		problem "$msg"
	done < <(build_test_programs "$abi" "$top/bin/$abi" "$top" "$lsrc" ||
		true)
}

# --- the guest script -------------------------------------------------------

# One program run, remembered for read_results.
emit_run() {	# abi name command...
	runs+=("$1/$2")
	guest_run "$@"
}

# shellcheck disable=SC2016 # expanded in the guest
emit_phase_begin() { echo "echo 'ashmem-debug: phase $1'; t=\$(date +%s)"; }
# shellcheck disable=SC2016
emit_phase_end() {
	echo "echo \"ashmem-debug: phase $1 took \$((\$(date +%s) - t))s\""
}

emit_phase() {	# name programs...
	local phase=$1 abi p

	shift
	want_phase "$phase" || return 0
	emit_phase_begin "$phase"
	for abi in $ABIS; do
		for p in "$@"; do
			[[ -x $top/bin/$abi/$p ]] || continue
			emit_run "$abi" "$p" "/opt/ksft/$abi/$p"
		done
	done
	emit_phase_end "$phase"
}

emit_fuzzer() {
	local abi secs seed=()

	want_phase fuzzer || return 0
	[[ -n $fuzz_seed ]] && seed=(--seed "$fuzz_seed")
	emit_phase_begin fuzzer
	for abi in $ABIS; do
		[[ -x $top/bin/$abi/ashmem_fuzz ]] || continue
		secs=$fuzz_seconds
		[[ $abi == 32 && -z $fuzz_seed ]] && secs=$(((fuzz_seconds + 2) / 3))
		emit_run "$abi" ashmem_fuzz /opt/ksft/"$abi"/ashmem_fuzz \
			--seconds "$secs" --procs "$fuzz_procs" "${seed[@]}" \
			"${fuzz_args[@]}"
	done
	emit_phase_end fuzzer
}

write_guest() {
	local guest=$1 progs=() suite=() abi p

	read -r -a progs <<<"$(make -s -C "$ksft_dir" print-progs)"
	for p in "${progs[@]}"; do
		case $p in
		"$STRESS"|"$FAULT"|"$UNLOAD") ;;
		*) suite+=("$p") ;;
		esac
	done
	for abi in $ABIS; do
		for p in "${progs[@]}" ashmem_fuzz; do
			[[ -x $top/bin/$abi/$p ]] || continue
			vm_files+=(--file "$top/bin/$abi/$p:/opt/ksft/$abi/$p")
		done
	done
	{
		echo "# Guest script of make check-$variant, written by check-debug.sh."
		echo 'rc=0'
		# A report turns lockdep off for good: say whether it is on.
		cat <<-'EOF'
		debug_state() {
			locks=$(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats)
			echo "ashmem-debug: $1: debug_locks ${locks:-none}," \
				"tainted $(cat /proc/sys/kernel/tainted)"
		}
		debug_state before
		EOF
		emit_phase kselftests "${suite[@]}"
		emit_phase stress "$STRESS"
		emit_fuzzer
		emit_phase fault-injection "$FAULT"
		emit_phase unload "$UNLOAD"
		echo 'debug_state after'
		# Proof that KCSAN watched: how many watchpoints it set up.
		[[ $variant != kcsan ]] || cat <<-'EOF'
		echo "ashmem-debug: kcsan: $(grep -E 'setup_watchpoints|data_races' \
			/sys/kernel/debug/kcsan | tr -s '\n:' ' ')"
		EOF
		echo "exit \$rc"
	} > "$guest"
}

# --- the VM -----------------------------------------------------------------

run_vm() {
	local guest=$1 append=slab_nomerge msg kcsan=()

	section "$variant kernel in QEMU"
	# slab_nomerge: failslab can only single out caches that are not
	# merged with others. no5lvl: with QEMU's 5-level paging, an early
	# interrupt now and then trips KASAN in the kernel itself, which
	# taints it and so turns lockdep off for the whole run.
	# kasan_multi_shot: an early report must not silence later ones.
	case $variant in
	debug)	append+=" no5lvl kasan_multi_shot numa=fake=2" ;;
	kcsan)	kcsan=(--kcsan "$top/kcsan.log") ;;
	esac
	ASHMEM_VM_MEM=${ASHMEM_VM_MEM:-2048} \
	ASHMEM_VM_APPEND="$append${ASHMEM_VM_APPEND:+ $ASHMEM_VM_APPEND}" \
		"$VM_DIR/vm.sh" --kernel "$VMLINUZ" --config "$KCONFIG" \
		--module "$top/src/ashmem.ko" "${vm_files[@]}" "${kcsan[@]}" \
		--swap "$swap_mib" --log "$top/console.log" \
		--status "$top/vm.status" --timeout "$timeout" "$guest" || true
	read_vm_status "$top/vm.status"
	while IFS= read -r msg; do
		problem "$msg"
	done < <(vm_status_problems "$swap_mib" "$timeout")
}

# Sort the KCSAN reports vm.sh set aside (each is in the console twice,
# once as printed and once in the kernel log dump) into those that name
# the module, a function of it or one of its locks, which fail the run,
# and races purely in the rest of the kernel, which are counted.
judge_races() {
	local races=$1 module=$top/kcsan-module.txt core=$top/kcsan-core.txt
	local counts nmodule

	[[ -e $races ]] || return 0
	counts=$(awk -v module="$module" -v core="$core" '
		{ sub(/^[0-9]+: /, "") }
		/ BUG: KCSAN: / {
			keep = !($0 in seen)
			seen[$0] = 1
			if (keep)
				text[++n] = ""
		}
		!keep { next }
		{ text[n] = text[n] $0 "\n" }
		/\[ashmem\]/ || / ashmem_[a-z0-9_]+\+0x/ ||
		/ BUG: KCSAN: .*[ \/]ashmem_/ { named[n] = 1 }
		END {
			printf "" > module
			printf "" > core
			for (i = 1; i <= n; i++) {
				printf "%s", text[i] > (named[i] ? module : core)
				nmod += named[i]
			}
			print nmod + 0, n - nmod
		}
	' "$races")
	read -r nmodule races_core <<<"$counts"
	if [[ $races_core -gt 0 ]]; then
		log "$races_core KCSAN report(s) in the kernel alone (not judged; $core):"
		grep -a ' BUG: KCSAN: ' "$core" | sed 's/^/    /' >&2
	fi
	if [[ $nmodule -gt 0 ]]; then
		sed 's/^/    /' "$module" >&2
		problem "$nmodule KCSAN report(s) naming the module ($module)"
	fi
}

# The programs' results, the early-boot reports and lockdep's state, from
# the console; vm.sh judged the kernel log after the module loaded.
read_results() {
	local console=$1 early line r status pass fail skip note when

	# Early boot, before the module: shown, not judged.
	early=$(awk -v mark="$MARK_LOAD" 'index($0, mark) { exit } { print }' \
		"$console" | grep -aE "$REPORTS" || true)
	if [[ -n $early ]]; then
		log "kernel reports during early boot, before the module (not judged):"
		while IFS= read -r line; do
			printf '    %s\n' "$line"
		done <<<"$early" >&2
	fi
	boot_s=$(sed -n "s/^\[ *\([0-9]*\)\.[0-9]*\] $MARK_LOAD\$/\1/p" \
		"$console" | head -n 1)
	# Without lockdep the run cannot see lock problems: not a pass.
	for when in before after; do
		grep -aq "^ashmem-debug: $when: debug_locks 1," "$console" ||
			problem "lockdep was not on $when the tests ($(grep -a \
				"^ashmem-debug: $when: " "$console" || echo no state))"
	done

	for r in "${runs[@]}"; do
		read -r status pass fail skip note <<<"$(tap_counts "$console" "$r")"
		rows+=("$(printf '%-3s %-20s %5s %5s %5s  %s' "${r%%/*}" \
			"${r#*/}" "$pass" "$fail" "$skip" "$note")")
		total_pass=$((total_pass + pass))
		total_fail=$((total_fail + fail))
		total_skip=$((total_skip + skip))
		[[ $note == ok ]] || problem "$r: $note (exit status $status)"
	done
}

summary() {
	local console=$1

	section "summary"
	printf '%-3s %-20s %5s %5s %5s  %s\n' abi program pass fail skip result
	[[ ${#rows[@]} -eq 0 ]] || printf '%s\n' "${rows[@]}"
	echo
	grep -a -e '^ashmem-debug: phase .* took ' -e '^ashmem-debug: kcsan: ' \
		"$console" | sed 's/^ashmem-debug: //' || true
	# The seeds, to replay a run with ASHMEM_FUZZ_SEED (doc/debug.md).
	grep -a '^# ashmem_fuzz: seed ' "$console" |
		sed 's/^# ashmem_fuzz: /fuzzer: /' || true
	printf 'kernel %s: build or cache %ss, boot to module %ss, VM %ss, boots %s, OOM kills %s\n' \
		"$KVER" "$kernel_s" "${boot_s:-?}" "$VM_SECONDS" "$VM_BOOTS" \
		"$VM_OOM_KILLS"
	[[ $variant != kcsan ]] ||
		echo "KCSAN reports in the kernel alone (not judged): $races_core"
	if [[ ${#problems[@]} -gt 0 ]]; then
		echo "problems:"
		printf '  - %s\n' "${problems[@]}"
	fi
	echo "make check-$variant took ${SECONDS}s; logs in $top"
	echo "$total_skip skipped"
	echo "$total_pass passed, $total_fail failed"
	[[ ${#problems[@]} -eq 0 && $total_fail -eq 0 ]]
}

main() {
	local lsrc abi

	check_settings
	section "host packages"
	"$VM_DIR/deps.sh"
	lsrc=$(linux_source)
	rm -rf "$top"
	mkdir -p "$top"

	get_kernel
	section "module, kselftests, fuzzer"
	build_module
	for abi in $ABIS; do
		build_programs "$abi" "$lsrc"
	done
	write_guest "$top/guest.sh"
	run_vm "$top/guest.sh"
	judge_races "$top/kcsan.log"
	read_results "$top/console.log"
	summary "$top/console.log"
}

# All of the script is read before any of it runs: editing it meanwhile
# cannot change what a running check does.
main "$@"; exit
