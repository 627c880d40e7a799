#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# test-userspace.sh: the userspace tests, run as root inside the test VM
# (busybox sh) with the module loaded and the programs of `make -C
# tools/testing/userspace` in PATH. In order:
#
#   1. libashmem on /dev/ashmem, forced onto memfd, and through Android
#      15's /dev/ashmem<boot_id> alone (/dev/ashmem hidden);
#   2. the ashmem tool: --version, help; list shows a region a helper
#      process holds, with its page counts, in text and JSON; it shows
#      no region for a process whose fdinfo only looks like one; names
#      are escaped; purge purges; stats and --json; the tool takes
#      /dev/ashmem<boot_id> before /dev/ashmem;
#   3. rmmod: libashmem falls back to memfd without the device, and the
#      tool says that the module is not loaded;
#   4. modprobe ashmem from /lib/modules/$(uname -r), installed there by
#      make install and depmod on the host, gives back a 0666 node.
#
# Prints TAP in the kselftest way (the output of each program as "# "
# lines, a "# Totals:" line at the end) and exits 1 if anything failed.
# Leaves the module loaded, as it found it.

n=0 pass=0 fail=0 skip=0
out=/tmp/test-userspace.out

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $* # SKIP"; }

# check DESCRIPTION COMMAND...: one test, COMMAND's output as comments.
check() {
	desc=$1
	shift
	"$@" > "$out" 2>&1
	rc=$?
	sed 's/^/# /' "$out"
	if [ $rc -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc (exit status $rc)"
	fi
}

# expect_fail DESCRIPTION COMMAND...: COMMAND must fail, and say why.
expect_fail() {
	desc=$1
	shift
	"$@" > "$out" 2>&1
	rc=$?
	sed 's/^/# /' "$out"
	if [ $rc -ne 0 ] && [ -s "$out" ]; then
		ok "$desc"
	else
		not_ok "$desc (exit status $rc)"
	fi
}

echo "TAP version 13"
read -r boot_id < /proc/sys/kernel/random/boot_id
alias_node=/dev/ashmem$boot_id

# --- 1. libashmem with the module loaded ---------------------------------

if [ ! -c /dev/ashmem ]; then
	not_ok "/dev/ashmem exists before the tests"
fi
check "libashmem on /dev/ashmem" \
	env LIBASHMEM_TEST_EXPECT=device libashmem_test
check "libashmem with LIBASHMEM_BACKEND=memfd" \
	env LIBASHMEM_BACKEND=memfd LIBASHMEM_TEST_EXPECT=memfd libashmem_test

# Current AOSP: only /dev/ashmem<boot_id>, a node of its own.
devnum=$(cat /sys/class/misc/ashmem/dev)
rm -f "$alias_node"
if mknod -m 666 "$alias_node" c "${devnum%:*}" "${devnum#*:}" &&
   mv /dev/ashmem /dev/.ashmem-hidden; then
	check "libashmem through /dev/ashmem<boot_id> alone" \
		env LIBASHMEM_TEST_EXPECT=device libashmem_test
	mv /dev/.ashmem-hidden /dev/ashmem
else
	not_ok "cannot make $alias_node alone"
fi
rm -f "$alias_node"
ln -s ashmem "$alias_node"

# --- 2. the ashmem tool --------------------------------------------------

# hold NAME SIZE UNPIN: starts a helper holding a region; sets hold_pid.
# ASHMEM_HOLD_COMM and ASHMEM_HOLD_PROT pass through to it.
hold() {
	rm -f /tmp/hold.pid
	ashmem_hold "$1" "$2" "$3" /tmp/hold.pid &
	hold_pid=$!
	wait_for /tmp/hold.pid
}

# wait_for FILE: up to 10 s for FILE to be written.
wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ]
}

# json_is FILE PATH VALUE: the JSON in FILE has VALUE (as written) at PATH.
json_is() {
	v=$(json_check "$2" < "$1") || return 1
	[ "$v" = "$3" ] && return 0
	echo "# $2 is $v, not $3"
	return 1
}

# result DESCRIPTION COMMAND...: ok if COMMAND succeeds, else not ok.
result() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}

# Bytes of FILE outside printable ASCII and newline.
unprintable() {
	LC_ALL=C tr -d '\n -~' < "$1" | wc -c
}

version=$(cat /usr/local/share/ashmem/VERSION)
said=$(ashmem --version 2>/tmp/err.txt)
rc=$?
echo "# $said"
if [ $rc -eq 0 ] && [ "$said" = "ashmem $version" ] && [ ! -s /tmp/err.txt ]
then
	ok "ashmem --version prints the version of VERSION"
else
	not_ok "ashmem --version prints the version of VERSION (exit status $rc)"
fi
# help_ok ARGS...: usage on stdout, nothing on stderr, exit status 0.
help_ok() {
	ashmem "$@" > /tmp/help.txt 2> /tmp/err.txt
	rc=$?
	[ $rc -eq 0 ] && grep -q '^usage: ashmem' /tmp/help.txt &&
		[ ! -s /tmp/err.txt ]
}
for args in "help" "--help" "-h" "help list" "list --help" "purge --help" \
	    "stats --help" "list -h"; do
	# shellcheck disable=SC2086 # one word each
	result "ashmem $args: usage on stdout, status 0" help_ok $args
done
ashmem > /tmp/help.txt 2> /tmp/err.txt
rc=$?
result "ashmem alone: usage on stderr, status 2" \
	test $rc -eq 2 -a -s /tmp/err.txt -a ! -s /tmp/help.txt

page=$(getconf PAGESIZE 2>/dev/null || echo 4096)
name=cli-test-region
if hold "$name" $((10 * page)) $((2 * page)); then
	pid=$hold_pid
	ashmem list > /tmp/list.txt 2>&1
	sed 's/^/# /' /tmp/list.txt
	# PID COMM FD SIZE PROT PINNED UNPINNED PURGED NAME
	if awk -v pid="$pid" -v size=$((10 * page)) -v name="$name" '
		$1 == pid && $2 == "ashmem_hold" && $4 == size &&
		$5 == "rwx" && $6 == 8 && $7 == 2 && $8 == 0 && $9 == name {
			found = 1
		}
		END { exit !found }' /tmp/list.txt; then
		ok "ashmem list shows the helper's region and its pages"
	else
		not_ok "ashmem list shows the helper's region and its pages"
	fi
	if grep -q '^total: [1-9][0-9]* regions in [1-9][0-9]* descriptors' \
		/tmp/list.txt; then
		ok "ashmem list prints totals"
	else
		not_ok "ashmem list prints totals"
	fi

	ashmem list --json > /tmp/list.json 2>/tmp/list.err
	sed 's/^/# /' /tmp/list.json
	check "ashmem list --json parses" json_check < /tmp/list.json
	json_check page_size regions.0.pid regions.0.comm regions.0.name \
		regions.0.size regions.0.prot_mask regions.0.prot \
		regions.0.pinned_pages regions.0.unpinned_pages \
		regions.0.purged_pages totals.regions totals.size \
		< /tmp/list.json > /tmp/values.txt 2>&1
	printf '%s\n' "$page" "$pid" '"ashmem_hold"' "\"$name\"" \
		$((10 * page)) 7 '"rwx"' 8 2 0 1 $((10 * page)) > /tmp/expect.txt
	if cmp -s /tmp/values.txt /tmp/expect.txt; then
		ok "ashmem list --json has the page size and the helper's region"
	else
		sed 's/^/# got: /' /tmp/values.txt
		not_ok "ashmem list --json has the page size and the helper's region"
	fi

	ashmem purge > /tmp/purge.txt 2>&1
	rc=$?
	sed 's/^/# /' /tmp/purge.txt
	purged=$(sed -n 's/^purged \([0-9]*\) pages.*/\1/p' /tmp/purge.txt)
	if [ $rc -eq 0 ] && [ "${purged:-0}" -ge 2 ]; then
		ok "ashmem purge purges the unpinned pages"
	else
		not_ok "ashmem purge purges the unpinned pages (exit status $rc)"
	fi
	ashmem list > /tmp/list.txt 2>&1
	if awk -v pid="$pid" '$1 == pid && $8 == 2 { found = 1 }
		END { exit !found }' /tmp/list.txt; then
		ok "ashmem list shows the purged pages"
	else
		sed 's/^/# /' /tmp/list.txt
		not_ok "ashmem list shows the purged pages"
	fi

	# The boot_id name first (Android 10 on): with /dev/ashmem some
	# other device, the tool must still find the module through
	# /dev/ashmem<boot_id>.
	rm -f "$alias_node"
	if mknod -m 666 "$alias_node" c "${devnum%:*}" "${devnum#*:}" &&
	   mv /dev/ashmem /dev/.ashmem-hidden &&
	   mknod -m 666 /dev/ashmem c 1 3; then
		ashmem list > /tmp/list.txt 2>&1
		sed 's/^/# /' /tmp/list.txt
		# shellcheck disable=SC2016 # awk's $1
		result "ashmem list takes /dev/ashmem<boot_id> first" \
			awk -v pid="$pid" '$1 == pid { found = 1 }
				END { exit !found }' /tmp/list.txt
		check "ashmem purge takes /dev/ashmem<boot_id> first" \
			ashmem purge
		rm -f /dev/ashmem
		mv /dev/.ashmem-hidden /dev/ashmem
	else
		not_ok "cannot put another device at /dev/ashmem"
	fi
	rm -f "$alias_node"
	ln -s ashmem "$alias_node"
	kill "$pid"
	wait "$pid" 2>/dev/null
else
	not_ok "the helper holds a region"
fi

# An unprivileged process with no ashmem descriptor whose io_uring fdinfo
# carries ashmem_* lines of a 1 TiB region: not a region.
rm -f /tmp/forger.pid
fdinfo_forger /tmp/forger.pid > /tmp/forger.out 2>&1 &
forger=$!
if wait_for /tmp/forger.pid; then
	# What the kernel prints, shortened.
	grep -a -v '^ *[0-9]*: /' /tmp/forger.out | cut -c1-100 | sed 's/^/# /'
	ashmem list > /tmp/list.txt 2>&1
	ashmem list --json > /tmp/list.json 2>&1
	sed 's/^/# /' /tmp/list.txt
	if awk -v pid="$forger" '$1 == pid { found = 1 }
		END { exit found }' /tmp/list.txt &&
	   ! grep -q 1099511627776 /tmp/list.txt; then
		ok "ashmem list shows no region for forged fdinfo lines"
	else
		not_ok "ashmem list shows no region for forged fdinfo lines"
	fi
	if json_check < /tmp/list.json &&
	   ! grep -q "\"pid\": $forger," /tmp/list.json; then
		ok "ashmem list --json shows no region for forged fdinfo lines"
	else
		not_ok "ashmem list --json shows no region for forged fdinfo lines"
	fi
	kill "$forger"
	wait "$forger" 2>/dev/null
else
	sed 's/^/# /' /tmp/forger.out
	not_ok "the forger sets up its io_uring"
fi

# An unprivileged process can keep its regions out of /proc/PID/fd: its
# main thread exits while another thread lives on (/proc/PID/fd of the
# zombie leader lists nothing), or a thread unshares its descriptor table
# (only /proc/PID/task/TID/fd has it). The regions are open all the same:
# list must show them, and count them in the totals.
for how in leader-exit thread-files; do
	export ASHMEM_HOLD_HIDE=$how
	if hold "hidden-$how" $((3 * page)) 0; then
		unset ASHMEM_HOLD_HIDE
		ashmem list > /tmp/list.txt 2>&1
		sed 's/^/# /' /tmp/list.txt
		# shellcheck disable=SC2016 # awk's $1
		result "ashmem list shows a region only a thread holds ($how)" \
			awk -v pid="$hold_pid" -v name="hidden-$how" \
				'$1 == pid && $NF == name { found = 1 }
				END { exit !found }' /tmp/list.txt
		ashmem list --json > /tmp/list.json 2>&1
		result "ashmem list --json shows a region only a thread holds ($how)" \
			grep -q "\"name\": \"hidden-$how\"" /tmp/list.json
		kill "$hold_pid"
		wait "$hold_pid" 2>/dev/null
	else
		unset ASHMEM_HOLD_HIDE
		not_ok "the helper holds a region ($how)"
	fi
done

# Names may hold anything; the text must not, and the JSON must stay
# valid. The process renames itself too: comm has no rules either.
comm=$(printf 'ev\n    1 i\033\r\t')
odd=$(printf 'evil\n      1 init\033[31m\r\tx\\y\377')
export ASHMEM_HOLD_COMM="$comm" ASHMEM_HOLD_PROT=5
if hold "$odd" "$page" 0; then
	unset ASHMEM_HOLD_COMM ASHMEM_HOLD_PROT
	ashmem list > /tmp/list.txt 2>&1
	sed 's/^/# /' /tmp/list.txt
	lines=$(($(wc -l < /tmp/list.txt)))
	bad=$(($(unprintable /tmp/list.txt)))
	if [ "$lines" -eq 3 ] && [ "$bad" -eq 0 ]; then
		ok "ashmem list: one line per region whatever the names"
	else
		not_ok "ashmem list: one line per region whatever the names ($lines lines, $bad unprintable bytes)"
	fi
	result "ashmem list escapes the process name" \
		grep -q -F 'ev\n    1 i\x1b\r\t' /tmp/list.txt
	result "ashmem list escapes the region name" \
		grep -q -F 'evil\n      1 init\x1b[31m\r\tx\\y\xff' /tmp/list.txt
	result "ashmem list shows the protection r-x" \
		grep -q -F ' r-x ' /tmp/list.txt

	ashmem list --json > /tmp/list.json 2>&1
	sed 's/^/# /' /tmp/list.json
	check "ashmem list --json escapes odd names" json_check < /tmp/list.json
	result "ashmem list --json: the process name, JSON-escaped" \
		json_is /tmp/list.json regions.0.comm '"ev\n    1 i\u001b\r\t"'
	result "ashmem list --json: the region name, JSON-escaped" \
		json_is /tmp/list.json regions.0.name \
		'"evil\n      1 init\u001b[31m\r\tx\\y\u00ff"'
	result "ashmem list --json: protection 5 as bits and as r-x" \
		sh -c 'json_check regions.0.prot_mask regions.0.prot \
			< /tmp/list.json | tr "\n" " " | grep -q "^5 \"r-x\" $"'
	kill "$hold_pid"
	wait "$hold_pid" 2>/dev/null
else
	unset ASHMEM_HOLD_COMM ASHMEM_HOLD_PROT
	not_ok "the helper holds a region with an odd name"
fi

if [ -e /sys/kernel/debug/ashmem/stats ]; then
	check "ashmem stats" ashmem stats
	regions=$(awk '$1 == "regions" { print $2 }' \
		/sys/kernel/debug/ashmem/stats)
	ashmem stats > /tmp/stats.txt 2>&1
	# shellcheck disable=SC2016 # awk's $1
	result "ashmem stats: the counters, one a line" \
		awk -v n="$regions" '$1 == "regions" && $2 == n { found = 1 }
			END { exit !found }' /tmp/stats.txt
	ashmem stats --json > /tmp/stats.json 2>&1
	sed 's/^/# /' /tmp/stats.json
	check "ashmem stats --json parses" json_check < /tmp/stats.json
	result "ashmem stats --json: the page size" \
		json_is /tmp/stats.json page_size "$page"
	# Every key of the file, a number; the region count as it is (no
	# region is open now, so it stays put).
	all=1
	while read -r key _; do
		v=$(json_check "stats.$key" < /tmp/stats.json) || all=0
		case $v in
		''|*[!0-9-]*) echo "# stats.$key is '$v'"; all=0 ;;
		esac
	done < /sys/kernel/debug/ashmem/stats
	result "ashmem stats --json: every counter of the stats file" \
		test $all -eq 1
	result "ashmem stats --json: the region count" \
		json_is /tmp/stats.json stats.regions "$regions"
else
	skip "ashmem stats: no /sys/kernel/debug/ashmem/stats"
fi

# --- 3. without the module -----------------------------------------------

rm -f "$alias_node"
if rmmod ashmem; then
	ok "rmmod ashmem"
	check "libashmem falls back to memfd without the device" \
		env LIBASHMEM_TEST_EXPECT=memfd libashmem_test
	expect_fail "ashmem purge fails without the device" ashmem purge
	# no_module COMMAND...: fails, says so on stderr with the hint.
	no_module() {
		"$@" > /tmp/out.txt 2> /tmp/err.txt
		rc=$?
		sed 's/^/# /' /tmp/err.txt
		[ $rc -ne 0 ] && [ ! -s /tmp/out.txt ] &&
			grep -q 'not loaded' /tmp/err.txt &&
			grep -q 'modprobe ashmem' /tmp/err.txt
	}
	result "ashmem list without the module: fails, says why" 		no_module ashmem list
	result "ashmem list --json without the module: fails, says why" 		no_module ashmem list --json
	result "ashmem stats without the module: the same hint" 		no_module ashmem stats
else
	not_ok "rmmod ashmem"
fi

# --- 4. modprobe from the installed tree ---------------------------------

moddir=/lib/modules/$(uname -r)
if [ ! -e "$moddir/modules.dep" ]; then
	skip "modprobe ashmem: nothing installed in $moddir"
else
	if grep -q '^extra/ashmem\.ko[^:]*:' "$moddir/modules.dep"; then
		ok "depmod listed extra/ashmem.ko in modules.dep"
	else
		not_ok "depmod listed extra/ashmem.ko in modules.dep"
	fi
	check "modprobe ashmem" modprobe ashmem
	mode=$(stat -c %a /dev/ashmem 2>/dev/null)
	if [ -c /dev/ashmem ] && [ "$mode" = 666 ]; then
		ok "modprobe gives a 0666 /dev/ashmem"
	else
		not_ok "modprobe gives a 0666 /dev/ashmem (mode ${mode:-none})"
	fi
	check "libashmem on the modprobed /dev/ashmem" \
		env LIBASHMEM_TEST_EXPECT=device libashmem_test
fi

# As vm.sh left it: loaded, with the boot_id name.
[ -e /sys/module/ashmem ] || insmod /lib/modules/ashmem.ko
[ -e "$alias_node" ] || ln -s ashmem "$alias_node"

echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ $fail -eq 0 ]
