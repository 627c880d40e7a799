# SPDX-License-Identifier: GPL-2.0
# What counts as a kernel complaint in a guest's console log: vm.sh judges
# each run with judge_console(), judge-test.sh checks it on sample logs.
# Sourced, not run. Needs bash with set -euo pipefail in the caller.
# shellcheck shell=bash disable=SC2034

# Marks the guest prints; the host splits the console on them.
MARK_INIT='ashmem-vm: init started'
MARK_LOAD='ashmem-vm: module loading'
MARK_SCRIPT_BEGIN='ashmem-vm: guest script begin'
MARK_SCRIPT_END='ashmem-vm: guest script end'

# Whether the guest's init ran in the boot whose console is LOG (its first
# line is the QEMU command, not console). Not only the init's first mark
# counts: a kernel line printed into the middle of it can split it, and
# then any later line of the init, or the module in a kernel report, shows
# that code of ours ran; such a boot must never be booted again.
boot_reached_init() {	# log
	awk 'NR > 1 && (/ashmem-vm: / || /\[ashmem\]/ ||
			/Modules linked in:.*ashmem/) { found = 1; exit }
		END { exit !found }' "$1"
}

# What a kernel complaint looks like (extended regex, case-sensitive).
COMPLAINTS='WARNING:|BUG:|Oops|general protection|Kernel panic|KASAN|UBSAN'
COMPLAINTS+='|kmemleak|unreferenced object'
COMPLAINTS+='|possible circular locking|possible recursive locking'
COMPLAINTS+='|inconsistent lock state|lockdep|Call Trace'
COMPLAINTS+='|list_add corruption|list_del corruption'
COMPLAINTS+='|RCU stall|rcu_sched self-detected stall|detected stalls on CPU'
COMPLAINTS+='|hung_task|blocked for more than'

# Judge the kernel's lines after the module was loaded: everything outside
# the guest script's output, and inside it only timestamped kernel lines,
# so that a test's own output cannot look like a complaint.
#
# The stress tests press on memory with a hog the OOM killer is meant to
# pick, and an OOM report dumps a stack: its "Call Trace" is not judged,
# the rest of the report is (a memcg's OOM may find nothing to kill). So is the stack of a "page allocation
# failure" of a task the OOM killer already killed (its fault cannot be
# served even from the reserves): the same kill, reported again.
#
# A failure inside kmem_cache_create() prints a stack trace by design;
# for one of ashmem's caches it is an injected failure of the module's
# load (ashmem_unload_test), which the test judges: that message and its
# stack, to the stack's end, are not judged here. Nor is a leak whose
# backtrace has sysfs_slab_add(): when adding a cache's sysfs directory
# fails, 6.12's SLUB returns without kobject_put() and leaks the name
# (the same injected failures cause it). Kmemleak's summary line is not
# judged either: the objects it found are, one by one, when the guest
# lists them at the end.
#
# A stack frame is never judged by itself: the report it belongs to has a
# header line that is. Its symbol's name may look like a complaint (an
# unreliable "? lockdep_hardirqs_on_prepare" frame in an OOM report).
#
# Writes the complaint lines ("LINE: text") to COMPLAINTS and each OOM
# kill once to OOMS (the console and the kernel log dump show it twice).
# With a KCSAN file, a KCSAN report, from its BUG line to the line of "="
# that closes it, goes there instead of COMPLAINTS.
judge_console() {	# log result_mark complaints ooms [kcsan]
	local log=$1 result_mark=$2 complaints=$3 ooms=$4 kcsan=${5:-}

	[[ -z $kcsan ]] || : > "$kcsan"
	: > "$ooms"
	awk -v load="$MARK_LOAD" -v begin="$MARK_SCRIPT_BEGIN" \
	    -v end="$MARK_SCRIPT_END" -v result="$result_mark " \
	    -v ooms="$ooms" -v kcsan="$kcsan" '
		function flush_leak() {
			if (leak !~ /sysfs_slab_add/)
				printf "%s", leak
			leak = ""
			in_leak = 0
		}
		in_leak && (/unreferenced object 0x/ || /^ashmem-vm: /) {
			flush_leak()
		}
		/unreferenced object 0x/ { in_leak = 1 }
		in_leak { leak = leak NR ": " $0 "\n"; next }
		/kmemleak: [0-9]+ new suspected memory leaks/ { next }
		!on && index($0, load) { on = 1; next }
		!on { next }
		index($0, result) == 1 { next }
		$0 == begin { script = 1; next }
		index($0, end) == 1 { script = 0; next }
		script && $0 !~ /^\[ *[0-9]+\.[0-9]+\]/ { next }
		kcsan != "" && / BUG: KCSAN: / { race = 1 }
		race {
			print NR ": " $0 > kcsan
			if ($0 ~ /==========$/)
				race = 0
			next
		}
		/ invoked oom-killer: / { oom = 1 }
		/[Oo]ut of memory: Killed process [0-9]+/ {
			match($0, /Killed process [0-9]+/)
			killed[substr($0, RSTART + 15, RLENGTH - 15)] = 1
			print > ooms
		}
		/ page allocation failure: / { failure = 1 }
		failure && match($0, / PID: [0-9]+ /) {
			failure = 0
			oom = (substr($0, RSTART + 6, RLENGTH - 7) in killed)
		}
		oom && /Call Trace/ { next }
		/<\/TASK>/ { oom = 0 }
		/kmem_cache_create[a-z_]*\(ashmem_[a-z_]+\) failed with error -[0-9]+/ {
			cache_failure = 1
			next
		}
		cache_failure && /<\/TASK>/ { cache_failure = 0 }
		cache_failure { next }
		/^\[ *[0-9]+\.[0-9]+\]  +(\? )?[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?$/ {
			next
		}
		{ print NR ": " $0 }
		END { flush_leak() }
	' "$log" | grep -aE "$COMPLAINTS" > "$complaints" || true
	sort -u -o "$ooms" "$ooms"
}
