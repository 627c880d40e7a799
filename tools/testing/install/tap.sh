# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154 # logf is the caller's
# TAP output for the host-side checks (check-install.sh, check-dkms.sh).
# Source it after lib.sh and set logf, the log that steps write to.

n=0 passed=0 failed=0

ok() {
	n=$((n + 1)) passed=$((passed + 1))
	echo "ok $n - $*"
}

not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $*"
}

# expect DESCRIPTION COMMAND...: passes if COMMAND succeeds; its output
# goes to $logf.
expect() {
	local desc=$1

	shift
	if "$@" >>"$logf" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc (log: $logf)"
	fi
}

# The plan, the closing "N passed, N failed", and the exit status.
tap_end() {
	echo "1..$n"
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]]
}
