#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check judge_console() (judge.sh), which decides whether a VM run's kernel
# log holds a complaint, on the sample logs in judge-samples/. Each sample
# says on its first line what the judge must find:
#   # judge: complaints=N ooms=N [kcsan=N]
# (kcsan=N: run with a KCSAN file, which must get N "BUG: KCSAN" lines),
# or, for boot_reached_init(), whether the init ran:
#   # boot: init=0|1
# Prints TAP; exits 1 if any sample is judged otherwise. Host only.
{
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=judge.sh
. "$VM_DIR/judge.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ashmem-judge.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

samples=("$VM_DIR"/judge-samples/*.log)
echo "TAP version 13"
echo "1..${#samples[@]}"
n=0 failed=0
for sample in "${samples[@]}"; do
	n=$((n + 1))
	name=$(basename "$sample" .log)
	expect=$(head -n 1 "$sample")
	# Whether vm.sh may boot this console's kernel again.
	if [[ $expect =~ ^\#\ boot:\ init=([01])$ ]]; then
		want=${BASH_REMATCH[1]} got=0
		! boot_reached_init "$sample" || got=1
		if [[ $got == "$want" ]]; then
			echo "ok $n $name"
		else
			echo "not ok $n $name # want init=$want, got init=$got"
			failed=$((failed + 1))
		fi
		continue
	fi
	if [[ ! $expect =~ ^\#\ judge:\ complaints=([0-9]+)\ ooms=([0-9]+)(\ kcsan=([0-9]+))?$ ]]; then
		echo "not ok $n $name # no '# judge:' line"
		failed=$((failed + 1))
		continue
	fi
	want="complaints=${BASH_REMATCH[1]} ooms=${BASH_REMATCH[2]}"
	kcsan=''
	if [[ -n ${BASH_REMATCH[4]} ]]; then
		want+=" kcsan=${BASH_REMATCH[4]}"
		kcsan=$tmp/kcsan
	fi
	judge_console "$sample" ashmem-vm-result-judge-test \
		"$tmp/complaints" "$tmp/ooms" "$kcsan"
	got="complaints=$(wc -l < "$tmp/complaints") ooms=$(wc -l < "$tmp/ooms")"
	[[ -z $kcsan ]] || got+=" kcsan=$(grep -c 'BUG: KCSAN' "$kcsan" || true)"
	if [[ $got == "$want" ]]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name # want $want, got $got"
		sed 's/^/#   /' "$tmp/complaints"
		failed=$((failed + 1))
	fi
done
echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
[[ $failed -eq 0 ]]
exit
}
