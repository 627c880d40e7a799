#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel in QEMU with a busybox initramfs, load ashmem.ko, run a
# guest script, unload the module and judge the kernel log.
#
# Usage: vm.sh --kernel VMLINUZ --module ashmem.ko [options] GUEST_SCRIPT
#   --kernel FILE     kernel image to boot
#   --config FILE     its .config (default: config-<release> beside it)
#   --module FILE     the ashmem.ko to load
#   --file SRC[:DST]  copy SRC into the guest (default /usr/local/bin/NAME);
#                     may be repeated; programs must be static
#   --log FILE        console log (default build/vm/console.log)
#   --status FILE     write the outcome as shell assignments, and the
#                     complaint lines to FILE.complaints
#   --timeout SEC     kill the VM after SEC seconds (default 600)
#   --swap MIB        swap on in the guest before its script runs: a zram
#                     device of MIB MiB (0: none, the default); the guest
#                     prints "ashmem-vm: swap on: ..." with its size, and
#                     if it cannot, runs no script and the run fails.
#                     Guest programs can read /proc/swaps
#   --moddir DIR      zram and the modules it needs, with their load-order,
#                     as kernel.sh and debian13-root.sh print in MODDIR
#                     (default: modules/ beside the kernel's directory)
#   --kcsan FILE      KCSAN reports after the module loaded are not judged
#                     here but written to FILE, for the caller to judge
# Environment: ASHMEM_VM_MEM (MiB, default 512), ASHMEM_VM_SMP (2),
# ASHMEM_VM_KVM=1 (use KVM instead of TCG), ASHMEM_VM_APPEND (extra
# kernel command line), ASHMEM_VM_SWAP (MiB, the default of --swap),
# ASHMEM_VM_BOOT_TRIES (3) and ASHMEM_VM_BOOT_DEADLINE (300 s): a kernel
# that crashes, or has not started the init by the deadline, is booted
# again, at most that many times in all; the module is not loaded before.
#
# The console streams to stdout and to the log. The exit status is the
# guest script's if that is not 0 (124 if it timed out); otherwise it is 0
# only if the module loaded with a 0666 /dev/ashmem, swap came on if asked
# for, the module unloaded, the guest finished, and the kernel log after
# the module was loaded holds no warning, oops, leak, lockdep report,
# stall or hang (else 1).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=judge.sh
. "$VM_DIR/judge.sh"

# Print the comment at the top of this file, without the SPDX line.
usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0" >&2
	exit 2
}

kernel='' config='' module='' script='' statusfile='' moddir='' kcsan=''
swap=${ASHMEM_VM_SWAP:-0}
log=$OUT/vm/console.log
timeout=600
files=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernel)	kernel=$2; shift 2 ;;
	--config)	config=$2; shift 2 ;;
	--module)	module=$2; shift 2 ;;
	--file)		files+=("$2"); shift 2 ;;
	--log)		log=$2; shift 2 ;;
	--status)	statusfile=$2; shift 2 ;;
	--timeout)	timeout=$2; shift 2 ;;
	--swap)		swap=$2; shift 2 ;;
	--moddir)	moddir=$2; shift 2 ;;
	--kcsan)	kcsan=$2; shift 2 ;;
	-h|--help)	usage ;;
	-*)		log "unknown option $1"; usage ;;
	*)		[[ -z $script ]] || usage; script=$1; shift ;;
	esac
done
[[ -n $kernel && -n $module && -n $script ]] || usage
[[ -r $kernel ]] || die "$kernel: no such kernel image"
[[ -r $module ]] || die "$module: no such module"
[[ -r $script ]] || die "$script: no such guest script"
[[ $timeout =~ ^[0-9]+$ && $timeout -ge 30 ]] ||
	die "--timeout must be a number of seconds, at least 30"
if [[ -z $config ]]; then
	config=$(dirname "$kernel")/config-$(basename "$kernel" | sed 's/^vmlinuz-//')
fi
[[ $swap =~ ^[0-9]+$ ]] || die "--swap must be a size in MiB (0: no swap)"
swap=$((10#$swap))
boot_tries=${ASHMEM_VM_BOOT_TRIES:-3}
[[ $boot_tries =~ ^[1-9][0-9]*$ ]] ||
	die "ASHMEM_VM_BOOT_TRIES must be a number, at least 1"
boot_deadline=${ASHMEM_VM_BOOT_DEADLINE:-300}
# Not under 10 s: QEMU must have started and written its pid file.
[[ $boot_deadline =~ ^[0-9]+$ && $boot_deadline -ge 10 ]] ||
	die "ASHMEM_VM_BOOT_DEADLINE must be a number of seconds, at least 10"
# With zram built in, the guest needs no modules for --swap.
zram=''
[[ -r $config ]] && zram=$(sed -n 's/^CONFIG_ZRAM=//p' "$config")
if [[ $swap -gt 0 && $zram != y ]]; then
	[[ $zram == m || ! -r $config ]] ||
		die "--swap: $config has no zram (CONFIG_ZRAM is off)"
	moddir=${moddir:-$(dirname "$(dirname "$kernel")")/modules}
	if [[ -r $moddir/unsupported ]]; then
		die "--swap: $(cat "$moddir/unsupported")"
	fi
	[[ -r $moddir/load-order ]] ||
		die "--swap: no zram modules in $moddir (kernel.sh or debian13-root.sh fetches them)"
fi

mem=${ASHMEM_VM_MEM:-512}
smp=${ASHMEM_VM_SMP:-2}
# The guest gives up on its script a while before the host kills the VM,
# so that a hang still ends with the kernel log printed.
guest_timeout=$((timeout - 25))
token=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
result_mark="ashmem-vm-result-$token"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ashmem-vm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Ctrl-C stops QEMU too, which then exits 0 as if its kernel had stopped
# early: stop here, neither booting again nor judging the run.
trap 'exit 130' INT

# --- initramfs ------------------------------------------------------------

root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib/modules}
mkdir -p "$root"/{dev,proc,sys,tmp,run,root,etc}
# The guest has no libc: everything in it must be linked statically.
is_static() {
	local out

	out=$(LC_ALL=C ldd "$1" 2>&1 || true)
	[[ $out == *'not a dynamic executable'* || $out == *'statically linked'* ]]
}
is_static /bin/busybox || die "/bin/busybox is not static: install busybox-static"
cp /bin/busybox "$root/bin/busybox"
# The init links the other applets at boot: faster than 300 ln here.
ln -s busybox "$root/bin/sh"
cp "$module" "$root/lib/modules/ashmem.ko"
mkdir "$root/lib/modules/swap"
touch "$root/lib/modules/swap/load-order"
if [[ $swap -gt 0 && $zram != y ]]; then
	while IFS= read -r m; do
		[[ -n $m ]] || continue
		[[ -r $moddir/$m ]] || die "--swap: $moddir/$m is missing"
		cp "$moddir/$m" "$root/lib/modules/swap/"
	done < "$moddir/load-order"
	cp "$moddir/load-order" "$root/lib/modules/swap/"
fi
cp "$script" "$root/guest-script"
for f in "${files[@]}"; do
	src=${f%%:*}
	dst=/usr/local/bin/$(basename "$src")
	[[ $f == *:* ]] && dst=${f#*:}
	[[ -r $src ]] || die "$src: no such file"
	if [[ -x $src ]] && ! is_static "$src"; then
		die "$src is not linked statically: the guest has no libc"
	fi
	mkdir -p "$root$(dirname "$dst")"
	cp "$src" "$root$dst"
done
# Without this node the kernel starts /init with no console; the init also
# reopens the console after mounting devtmpfs in case mknod is not allowed.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

{
	printf '#!/bin/sh\n'
	printf '# The init of the ashmem test VM, written by vm.sh.\n'
	printf 'GUEST_TIMEOUT=%d\n' "$guest_timeout"
	printf 'SWAP_MIB=%d\n' "$swap"
	printf "RESULT_MARK='%s'\n" "$result_mark"
	printf "MARK_INIT='%s'\n" "$MARK_INIT"
	printf "MARK_LOAD='%s'\n" "$MARK_LOAD"
	printf "MARK_SCRIPT_BEGIN='%s'\n" "$MARK_SCRIPT_BEGIN"
	printf "MARK_SCRIPT_END='%s'\n" "$MARK_SCRIPT_END"
	cat <<'EOF'
/bin/busybox --install -s
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo 60 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

setup=ok
fail() {
	echo "ashmem-vm: FAIL: $*"
	setup=fail
}

# Scan kmemleak twice, a few seconds apart (it only reports objects a few
# seconds old), and print what it found.
leak_report() {
	[ -e /sys/kernel/debug/kmemleak ] || return 0
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	echo "ashmem-vm: leak report begin"
	cat /sys/kernel/debug/kmemleak
	echo "ashmem-vm: leak report end"
}

# vm.sh --swap: load zram and what it needs, in load-order, and swap on
# a zram device of SWAP_MIB MiB. Sets swap to on, or to fail and says why.
swap=off
swap_fail() {
	echo "ashmem-vm: FAIL: swap: $*"
	swap=fail
}
setup_swap() {
	read -r t0 _ < /proc/uptime
	for m in $(cat /lib/modules/swap/load-order); do
		insmod "/lib/modules/swap/$m" || { swap_fail "insmod $m"; return; }
	done
	[ -e /sys/block/zram0 ] ||
		{ swap_fail "no zram0 after loading zram"; return; }
	echo "${SWAP_MIB}M" > /sys/block/zram0/disksize ||
		{ swap_fail "cannot make zram0 ${SWAP_MIB} MiB"; return; }
	mkswap /dev/zram0 > /dev/null || { swap_fail "mkswap /dev/zram0"; return; }
	swapon /dev/zram0 || { swap_fail "swapon /dev/zram0"; return; }
	kib=$(awk '$1 == "/dev/zram0" { print $3 }' /proc/swaps)
	[ -n "$kib" ] || { swap_fail "/dev/zram0 is not in /proc/swaps"; return; }
	comp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/block/zram0/comp_algorithm)
	read -r t1 _ < /proc/uptime
	echo "ashmem-vm: swap on: /dev/zram0, $kib KiB (zram of $SWAP_MIB MiB," \
		"$comp), set up in $(awk "BEGIN { print $t1 - $t0 }") s"
	swap=on
}

# Print the kernel log since the module was loaded, the result line the
# host looks for, and power off.
finish() {
	leak_report
	echo "ashmem-vm: kernel log begin"
	if dmesg | grep -q "$MARK_LOAD"; then
		dmesg | sed -n "/$MARK_LOAD/,\$p"
	else
		echo "ashmem-vm: the kernel log wrapped; all that is left of it:"
		dmesg
	fi
	echo "ashmem-vm: kernel log end"
	echo "$RESULT_MARK script=$1 setup=$setup swap=$swap"
	sync
	poweroff -f
}

# Runs beside the guest script: on timeout, show the blocked tasks, kill
# the script's process group, and if it cannot die (stuck in the kernel)
# finish without it.
watchdog() {
	sleep "$GUEST_TIMEOUT"
	: > /run/timed-out
	echo "ashmem-vm: FAIL: guest script still running after ${GUEST_TIMEOUT}s"
	echo w > /proc/sysrq-trigger
	kill -KILL "-$1"
	sleep 10
	if kill -0 "$1" 2>/dev/null; then
		echo "ashmem-vm: FAIL: guest script cannot be killed"
		finish timeout
	fi
}

echo "$MARK_INIT: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs," \
	"$(sed -n 's/^MemTotal: *//p' /proc/meminfo) RAM"
# Again through the kernel log, at a level the quiet console prints: a
# panic flushes that, but may lose what the tty still buffers, and a boot
# without the mark is booted again.
echo "<3>$MARK_INIT" > /dev/kmsg

[ "$SWAP_MIB" -gt 0 ] && setup_swap

# Forget what kmemleak found during boot: only our leaks matter.
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
fi

echo "$MARK_LOAD" > /dev/kmsg
echo "$MARK_LOAD"
if ! insmod /lib/modules/ashmem.ko; then
	fail "insmod ashmem.ko"
elif [ ! -c /dev/ashmem ]; then
	fail "/dev/ashmem is missing or not a character device"
else
	mode=$(stat -c %a /dev/ashmem)
	[ "$mode" = 666 ] || fail "/dev/ashmem has mode $mode, not 666"
	# Android 10+ opens /dev/ashmem<boot_id> first; the udev rule makes it.
	read -r boot_id < /proc/sys/kernel/random/boot_id
	ln -s /dev/ashmem "/dev/ashmem$boot_id" ||
		fail "cannot create /dev/ashmem$boot_id"
fi

status=skipped
if [ "$setup" = ok ] && [ "$swap" != fail ]; then
	echo "$MARK_SCRIPT_BEGIN"
	cd /tmp
	setsid /bin/sh /guest-script </dev/null &
	spid=$!
	watchdog "$spid" &
	wpid=$!
	wait "$spid"
	status=$?
	kill "$wpid" 2>/dev/null
	[ -e /run/timed-out ] && status=timeout
	cd /
	echo "$MARK_SCRIPT_END, status $status"

fi
if [ -e /sys/module/ashmem ]; then
	rm -f /dev/ashmem?*
	if ! rmmod ashmem; then
		fail "rmmod ashmem"
	elif [ -e /dev/ashmem ]; then
		fail "/dev/ashmem is still there after rmmod"
	fi
fi
finish "$status"
EOF
} > "$root/init"
chmod 755 "$root/init" "$root/guest-script"

initrd=$tmp/initrd.gz
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 > "$initrd"

# --- boot -----------------------------------------------------------------

# quiet: only errors reach the console while tests print TAP; the init
# dumps the whole kernel log at the end, into a buffer big enough to hold it.
append="console=ttyS0 panic=-1 quiet printk.time=1 printk.devkmsg=on"
append+=" log_buf_len=4M"
# Debian 6.12 may build IA32 emulation off by default; the 32-bit tests
# need it.
if [[ -r $config ]] &&
   grep -q '^CONFIG_IA32_EMULATION_DEFAULT_DISABLED=y' "$config"; then
	append+=" ia32_emulation=on"
fi
append+=${ASHMEM_VM_APPEND:+ $ASHMEM_VM_APPEND}

if [[ ${ASHMEM_VM_KVM:-0} == 1 ]]; then
	accel=(-accel kvm -cpu host)
else
	accel=(-accel tcg -cpu max)
fi

qemu=(qemu-system-x86_64 -nodefaults -no-user-config "${accel[@]}"
	-m "$mem" -smp "$smp" -kernel "$kernel" -initrd "$initrd"
	-append "$append" -display none -monitor none -serial stdio
	-no-reboot)

mkdir -p "$(dirname "$log")"
swap_note=''
[[ $swap -gt 0 ]] && swap_note=", $swap MiB of zram swap"

# Boot once, the console streaming to stdout and into $log. A kernel that
# has not started the init after $boot_deadline seconds is stopped: it
# hung before any code of ours ran. Sets qemu_rc and init_ran.
boot_once() {
	local rcs watcher

	printf '# %q' "${qemu[@]}" > "$log"
	printf '\n' >> "$log"
	rm -f "$tmp/qemu.pid" "$tmp/boot-hung"
	(
		waited=0
		while [[ $waited -lt $boot_deadline ]]; do
			sleep 2
			waited=$((waited + 2))
			boot_reached_init "$log" && exit 0
		done
		: > "$tmp/boot-hung"
		kill "$(cat "$tmp/qemu.pid")" || true
	) >/dev/null 2>&1 &
	watcher=$!
	set +e
	# --foreground: QEMU stays in our process group, so that Ctrl-C or
	# a kill of the group stops it too, not only this script.
	timeout --foreground -k 10 "$timeout" "${qemu[@]}" \
		-pidfile "$tmp/qemu.pid" \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee -a "$log"
	rcs=("${PIPESTATUS[@]}")
	set -e
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
	qemu_rc=${rcs[0]}
	init_ran=0
	boot_reached_init "$log" && init_ran=1
	return 0
}

# The Debian kernels under TCG crash or hang in early boot now and then,
# before the init or the module is loaded (seen on 7.3, about once in 70
# boots: an "Oops: int3" in an interrupt at 1.7 s, as the kernel patches
# its own code while the other vCPU runs it, and a silent hang).
# Such a boot tests nothing: boot again, at most $boot_tries times in all,
# and keep each failed boot's console beside the log.
start=$SECONDS
boots=0
# Failed boots of an earlier run with this log are not this run's.
rm -f "$log".boot[0-9]*
while :; do
	boots=$((boots + 1))
	log "booting $(basename "$kernel") in QEMU (${accel[1]}, $mem MiB," \
		"$smp CPUs$swap_note, at most ${timeout}s), boot $boots of" \
		"at most $boot_tries"
	boot_once
	[[ $init_ran -eq 0 && $boots -lt $boot_tries ]] || break
	mv "$log" "$log.boot$boots"
	how="stopped (qemu status $qemu_rc) before it started the init"
	[[ -e $tmp/boot-hung ]] &&
		how="had not started the init after ${boot_deadline}s"
	log "note: the kernel $how; its console is in $log.boot$boots;" \
		"booting again"
done
elapsed=$((SECONDS - start))

# --- judge ----------------------------------------------------------------

problems=()
result=$(grep -a -m1 "^$result_mark " "$log" || true)
script_status=none setup=none swap_state=none
if [[ -n $result ]]; then
	script_status=$(sed -n 's/.* script=\([^ ]*\).*/\1/p' <<<"$result")
	setup=$(sed -n 's/.* setup=\([^ ]*\).*/\1/p' <<<"$result")
	swap_state=$(sed -n 's/.* swap=\([^ ]*\).*/\1/p' <<<"$result")
elif [[ $qemu_rc -eq 124 || $qemu_rc -eq 137 ]]; then
	problems+=("the VM timed out after ${timeout}s")
elif [[ -e $tmp/boot-hung ]]; then
	problems+=("the kernel had not started the init after ${boot_deadline}s, $boots boot(s)")
else
	problems+=("the VM stopped before the guest finished (qemu status $qemu_rc)")
fi
[[ $init_ran -eq 1 || $boots -lt 2 ]] ||
	problems+=("the kernel did not reach the init in $boots boots")
[[ $setup == fail ]] && problems+=("loading or unloading the module failed")
if [[ -n $result && $swap -gt 0 && $swap_state != on ]]; then
	problems+=("the guest could not swap on $swap MiB of zram (swap=$swap_state)")
fi
if [[ -n $result && $script_status != 0 ]]; then
	problems+=("the guest script's status is $script_status")
fi

complaints=$tmp/complaints
ooms=$tmp/ooms
judge_console "$log" "$result_mark" "$complaints" "$ooms" "$kcsan"
nooms=$(wc -l < "$ooms")
if [[ $nooms -gt 0 ]]; then
	log "note: the OOM killer ran $nooms time(s) after the module was loaded:"
	sed 's/^/    /' "$ooms" >&2
fi
ncomplaints=$(wc -l < "$complaints")
if [[ $ncomplaints -gt 0 ]]; then
	problems+=("$ncomplaints kernel log lines with complaints")
fi

if [[ -n $statusfile ]]; then
	{
		printf 'VM_FINISHED=%d\n' "$([[ -n $result ]] && echo 1 || echo 0)"
		printf 'VM_SCRIPT_STATUS=%q\n' "$script_status"
		printf 'VM_SETUP=%q\n' "$setup"
		printf 'VM_SWAP=%q\n' "$swap_state"
		printf 'VM_COMPLAINTS=%d\n' "$ncomplaints"
		printf 'VM_OOM_KILLS=%d\n' "$nooms"
		printf 'VM_SECONDS=%d\n' "$elapsed"
		printf 'VM_BOOTS=%d\n' "$boots"
	} > "$statusfile"
	cp "$complaints" "$statusfile.complaints"
fi

echo
if [[ ${#problems[@]} -eq 0 ]]; then
	log "PASS in ${elapsed}s (log: $log)"
	exit 0
fi
if [[ $ncomplaints -gt 0 ]]; then
	log "kernel complaints after the module was loaded (log line: text):"
	sed 's/^/    /' "$complaints" >&2
fi
for p in "${problems[@]}"; do
	log "FAIL: $p"
done
log "FAIL in ${elapsed}s (log: $log)"
case $script_status in
timeout)		exit 124 ;;
0|none|skipped)		exit 1 ;;
*)			exit $((script_status > 255 ? 1 : script_status)) ;;
esac
