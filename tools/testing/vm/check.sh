#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: the project's whole test run.
#
# Usage: check.sh [SERIES...]    (default: 6.1 6.12 7, or $KERNELS)
#
# Runs checkpatch --strict on the sources, the range code's exhaustive
# test on the host (tools/testing/range) and the test of the kernel log
# judge (judge-test.sh), builds the kselftests and the
# fuzzer 64- and 32-bit, then for each Debian kernel series builds
# ashmem.ko in a fresh copy of the tree with W=1 and sparse (C=1), boots
# the kernel in QEMU and runs every test binary of both ABIs, the fuzzer
# for ASHMEM_CHECK_FUZZ_SECONDS (default 20) each, and the demo; then
# checks on the newest kernel that vm.sh boots again only a kernel that
# never reached the init (boot-test.sh). A failed
# fuzzer run prints its seed: replay it as doc/debug.md says. Ends with a
# summary table and, on the last line, "N passed, N failed" counting
# the host tests' cases, kselftest cases over all kernels and ABIs, and
# one case per fuzzer run (a test program that crashed counts its
# unreported cases as failed; one that could not run at all counts as one
# failed case). Exits non-zero on
# any failed test, crash, checkpatch, compiler or sparse warning, VM that
# did not finish, or kernel complaint.
# ASHMEM_CHECK_SWAP=MIB runs the guests with MIB MiB of zram swap on
# (vm.sh --swap; default 256, as machines run with swap; 0 turns it off).
# The guests of NUMA_SERIES boot with two NUMA nodes (numa=fake=2), so
# that ashmem_numa_test runs there; 6.1's keeps one node, so that every
# other test also runs on a machine of one node, as most users' are.
# Logs stay in build/check/.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The braces around the rest make bash read all of it before running any:
# editing this file during a check cannot change what that check does.
{
# Debian 12's kernels, and 7: Debian's newest (trixie-backports), which
# builds only in a Debian 13 root (debian13-root.sh, in-root.sh).
select_series "$@"

top=$OUT/check
timeout=${ASHMEM_CHECK_TIMEOUT:-1500}
fuzz_seconds=${ASHMEM_CHECK_FUZZ_SECONDS:-20}
swap_mib=${ASHMEM_CHECK_SWAP:-256}
[[ $swap_mib =~ ^[0-9]+$ ]] || die "ASHMEM_CHECK_SWAP must be a size in MiB"
ksft_dir=$REPO/tools/testing/selftests/ashmem
NUMA_SERIES="6.12 7"

problems=()	# what failed, besides test cases
rows=()		# the summary table
boot_test=()	# the newest kernel, its config and module, for boot-test.sh
total_pass=0 total_fail=0 total_skip=0
start_all=$SECONDS

section() { printf '\n==== %s ====\n' "$*"; }
problem() { problems+=("$*"); log "FAIL: $*"; }

add_row() {	# kernel abi program pass fail skip result
	rows+=("$(printf '%-24s %-3s %-20s %5s %5s %5s  %s' "$@")")
}

# Show a log's lines matching a regex, indented, and count them.
show_matches() {
	local regex=$1 file=$2 n

	n=$(grep -cE "$regex" "$file" || true)
	grep -E "$regex" "$file" | sed 's/^/    /' >&2 || true
	echo "$n"
}

# --- host tools, sources --------------------------------------------------

section "host packages"
"$VM_DIR/deps.sh"
lsrc=$(linux_source)
rm -rf "$top"
mkdir -p "$top"

# --- checkpatch -----------------------------------------------------------

# The globs expand against the tree, wherever check.sh was started from.
cd "$REPO"
CHECKPATCH_FILES=(
	ashmem.c ashmem_range.c ashmem.h ashmem_compat.h ashmem_trace.h
	uapi/linux/ashmem.h
	tools/probes/*.c
	tools/testing/selftests/ashmem/*.c tools/testing/selftests/ashmem/*.h
	tools/testing/bench/*.c tools/testing/fuzz/*.c tools/testing/shared/*.h
	tools/testing/range/*.c tools/testing/range/include/linux/*.h
	tools/demo/ashmem_demo.c
	lib/*.c lib/include/cutils/ashmem.h tools/ashmem/*.c
)

run_checkpatch() {
	local f out total files=() bad=0

	for f in "${CHECKPATCH_FILES[@]}"; do
		if [[ -e $REPO/$f ]]; then
			files+=("$f")
		else
			log "checkpatch: $f does not exist yet: skipped"
		fi
	done
	# Run on a copy: in a git tree checkpatch drops a cache file in the
	# current directory.
	mkdir -p "$top/checkpatch"
	(cd "$REPO" && tar -cf - "${files[@]}") | tar -xf - -C "$top/checkpatch"
	for f in "${files[@]}"; do
		out=$(cd "$top/checkpatch" && perl "$lsrc/scripts/checkpatch.pl" \
			--strict --no-tree --show-types --color=never -f "$f" 2>&1) ||
			true
		total=$(grep -m1 '^total: ' <<<"$out" || true)
		if [[ $total =~ ^total:\ 0\ errors,\ 0\ warnings,\ 0\ checks ]]; then
			printf 'checkpatch: %-52s ok\n' "$f"
		else
			printf '%s\n' "$out"
			printf 'checkpatch: %-52s %s\n' "$f" "${total:-no result}"
			bad=$((bad + 1))
		fi
	done
	[[ $bad -eq 0 ]] || problem "checkpatch: $bad file(s) with errors, warnings or checks"
}

section "checkpatch --strict"
run_checkpatch

# --- host tests ---------------------------------------------------------------

# Run a host test that prints TAP, as the summary's row host/NAME: its
# cases count in the totals.
run_host_test() {	# name log command...
	local name=host/$1 log=$2 s=0
	local counts status pass fail skip note

	shift 2
	{
		echo "ashmem-check: begin $name"
		"$@" || s=$?
		echo "ashmem-check: end $name status $s"
	} > "$log" 2>&1
	grep -v '^ashmem-check: ' "$log" || true
	counts=$(tap_counts "$log" "$name")
	read -r status pass fail skip note <<<"$counts"
	add_row host 64 "${name#host/}" "$pass" "$fail" "$skip" "$note"
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
	[[ $note == ok ]] ||
		problem "$name: $note (exit status $status; log: $log)"
}

# ashmem_range.c built into a host program and checked exhaustively
# against the model (tools/testing/range): seconds, no VM.
run_range_test() {
	local dir=$top/range

	mkdir -p "$dir"
	if ! make -C "$REPO/tools/testing/range" OUTPUT="$dir" KSRC="$lsrc" \
		> "$dir/build.log" 2>&1; then
		cat "$dir/build.log" >&2
		problem "the range test does not build (log: $dir/build.log)"
		add_row host 64 ashmem_range_test 0 1 0 "not built"
		total_fail=$((total_fail + 1))
		return
	fi
	run_host_test ashmem_range_test "$dir/run.log" "$dir/ashmem_range_test"
}

section "range code (host)"
run_range_test

# Whether the judge of the VMs' kernel logs (judge.sh) finds what it must
# in sample logs: a judge that misses a complaint would pass anything.
section "kernel log judge (host)"
run_host_test judge-test "$top/judge-test.log" "$VM_DIR/judge-test.sh"

# --- user programs ----------------------------------------------------------

# The kselftests in the order print-progs gives, and a short fuzzer run
# (tools/testing/fuzz) before the last of them, which unloads the module.
progs=()
section "kselftests, fuzzer and demo"
if [[ -e $ksft_dir/Makefile ]]; then
	read -r -a progs <<<"$(make -s -C "$ksft_dir" print-progs)"
	progs=("${progs[@]:0:${#progs[@]}-1}" ashmem_fuzz "${progs[@]: -1}")
	for abi in $ABIS; do
		while IFS= read -r msg; do
			problem "$msg"
		done < <(build_test_programs "$abi" "$top/selftests/$abi" \
			"$top" "$lsrc" || true)
		log "$abi-bit programs built: ${progs[*]}"
	done
else
	problem "no kselftests in $ksft_dir"
fi
if ! build_demo "$top/ashmem_demo" 2> "$top/demo-build.log"; then
	cat "$top/demo-build.log" >&2
	problem "the demo does not build"
fi

# The guest script: each test binary between markers the host splits on.
guest=$top/guest.sh
vm_files=()
{
	echo '# Guest script of make check, written by check.sh.'
	echo 'rc=0'
	for abi in $ABIS; do
		for p in "${progs[@]}"; do
			[[ -x $top/selftests/$abi/$p ]] || continue
			vm_files+=("$top/selftests/$abi/$p:/opt/ksft/$abi/$p")
			args=()
			[[ $p == ashmem_fuzz ]] &&
				args=(--seconds "$fuzz_seconds" --procs 4)
			guest_run "$abi" "$p" "/opt/ksft/$abi/$p" "${args[@]}"
		done
	done
	if [[ -x $top/ashmem_demo ]]; then
		vm_files+=("$top/ashmem_demo")
		cat <<-'EOF'
		if ashmem_demo > /tmp/demo.out 2>&1; then
			echo "ashmem-check: demo ok"
		else
			cat /tmp/demo.out
			echo "ashmem-check: demo FAILED"
			rc=1
		fi
		EOF
	fi
	echo "exit \$rc"
} > "$guest"

# --- per kernel -----------------------------------------------------------

# Record every test program of a kernel as not run (build or boot failed).
rows_not_run() {
	local kver=$1 why=$2 abi p

	for abi in $ABIS; do
		for p in "${progs[@]}"; do
			add_row "$kver" "$abi" "$p" 0 1 0 "$why"
			total_fail=$((total_fail + 1))
		done
	done
}

check_kernel() {
	local series=$1 kvars dir t0 n ncc build_s
	local VM_FINISHED VM_COMPLAINTS VM_SECONDS VM_SETUP VM_OOM_KILLS VM_SWAP
	local VM_COMPLAINT_LINES VM_BOOTS
	local VM_SCRIPT_STATUS KVER KDIR VMLINUZ KCONFIG ROOT='' in_root
	local MODDIR=''
	local abi p counts status pass fail skip note

	section "Debian $series kernel"
	in_root=()
	kvars=$(kernel_vars "$series") || kvars=''
	if [[ -z $kvars ]]; then
		problem "$series: cannot get the Debian kernel"
		rows_not_run "$series" "no kernel"
		return
	fi
	eval "$kvars"
	dir=$top/$KVER
	[[ -n $ROOT ]] && in_root=("$VM_DIR/in-root.sh" -b "$top" "$ROOT")
	copy_sources "$dir/src"

	# One build, gcc with W=1 and sparse (C=1) on each file: every
	# build runs the tree's API probes, so two builds cost twice that.
	log "$KVER: building ashmem.ko (W=1, sparse)"
	t0=$SECONDS
	if ! "${in_root[@]}" make -C "$KDIR" M="$dir/src" W=1 C=1 modules \
		> "$dir/build.log" 2>&1; then
		cat "$dir/build.log" >&2
		problem "$KVER: the module does not build (log: $dir/build.log)"
		rows_not_run "$KVER" "build failed"
		return
	fi
	build_s=$((SECONDS - t0))
	n=$(show_matches '(warning|WARNING|error):' "$dir/build.log")
	ncc=$(grep -cE '(warning|error):.*\[-W[^]]*\]$' "$dir/build.log" || true)
	[[ $ncc -eq 0 ]] || problem "$KVER: $ncc compiler warning(s) with W=1"
	[[ $((n - ncc)) -eq 0 ]] ||
		problem "$KVER: $((n - ncc)) sparse or modpost warning(s)"
	grep -q '^ *CHECK ' "$dir/build.log" ||
		problem "$KVER: sparse did not run (log: $dir/build.log)"
	if ! modinfo -F vermagic "$dir/src/ashmem.ko" | grep -q "^$KVER "; then
		problem "$KVER: ashmem.ko was not built for $KVER"
	fi
	log "$KVER: built in ${build_s}s"
	boot_test=("$VMLINUZ" "$KCONFIG" "$dir/src/ashmem.ko")

	# The stand-in for another driver's /dev/ashmem (ashmem_unload_test).
	local other=$dir/src/tools/testing/selftests/ashmem/other_ashmem
	local args=()
	if "${in_root[@]}" make -C "$KDIR" M="$other" modules \
		> "$dir/other-build.log" 2>&1; then
		args+=(--file "$other/ashmem_other.ko:/lib/modules/ashmem_other.ko")
	else
		cat "$dir/other-build.log" >&2
		problem "$KVER: ashmem_other.ko does not build"
	fi
	for p in "${vm_files[@]}"; do
		args+=(--file "$p")
	done
	[[ -n $MODDIR ]] && args+=(--moddir "$MODDIR")
	local append=${ASHMEM_VM_APPEND:-}
	[[ " $NUMA_SERIES " == *" $series "* ]] && append+=" numa=fake=2"
	ASHMEM_VM_APPEND=$append "$VM_DIR/vm.sh" --kernel "$VMLINUZ" --config "$KCONFIG" \
		--module "$dir/src/ashmem.ko" "${args[@]}" --swap "$swap_mib" \
		--log "$dir/console.log" --status "$dir/vm.status" \
		--timeout "$timeout" "$guest" || true
	read_vm_status "$dir/vm.status"
	while IFS= read -r p; do
		problem "$KVER: $p"
	done < <(vm_status_problems "$swap_mib" "$timeout")
	if grep -q '^ashmem-check: demo FAILED' "$dir/console.log"; then
		problem "$KVER: the demo failed"
	fi

	for abi in $ABIS; do
		for p in "${progs[@]}"; do
			if [[ ! -x $top/selftests/$abi/$p ]]; then
				add_row "$KVER" "$abi" "$p" 0 1 0 "not built"
				total_fail=$((total_fail + 1))
				continue
			fi
			counts=$(tap_counts "$dir/console.log" "$abi/$p")
			read -r status pass fail skip note <<<"$counts"
			add_row "$KVER" "$abi" "$p" "$pass" "$fail" "$skip" "$note"
			total_pass=$((total_pass + pass))
			total_fail=$((total_fail + fail))
			total_skip=$((total_skip + skip))
			[[ $note == ok ]] ||
				problem "$KVER: $abi-bit $p: $note (exit status $status)"
		done
	done
	rows+=("$(printf '%-24s build %ss, VM %ss, boots %s, OOM kills %s, swap %s' \
		"$KVER" "$build_s" "$VM_SECONDS" "$VM_BOOTS" "$VM_OOM_KILLS" \
		"$([[ $VM_SWAP == on ]] && echo "$swap_mib MiB" || echo "$VM_SWAP")")")
}

for s in "${series_list[@]}"; do
	check_kernel "$s"
done

if [[ ${#boot_test[@]} -gt 0 ]]; then
	section "vm.sh boots again only a kernel that never reached the init"
	run_host_test vm-boot-test "$top/vm-boot-test.log" \
		"$VM_DIR/boot-test.sh" "${boot_test[@]}" "$top/vm-boot-test"
fi

# --- summary ----------------------------------------------------------------

section "summary"
printf '%-24s %-3s %-20s %5s %5s %5s  %s\n' \
	kernel abi program pass fail skip result
for r in "${rows[@]}"; do
	printf '%s\n' "$r"
done
echo
if [[ ${#problems[@]} -gt 0 ]]; then
	echo "problems:"
	printf '  - %s\n' "${problems[@]}"
fi
echo "make check took $((SECONDS - start_all))s; logs in $top"
echo "$total_skip skipped"
echo "$total_pass passed, $total_fail failed"
[[ ${#problems[@]} -eq 0 && $total_fail -eq 0 ]]
exit
}
