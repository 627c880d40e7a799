#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: build ashmem.ko for a Debian kernel (KERNEL=6.12 by default,
# or 6.1), boot it in QEMU with the module loaded and run ashmem_bench,
# which prints a table of ratios measured in that one run. A report, not
# a test: it fails only if the benchmark cannot run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$here/../vm/lib.sh"

series=${1:-${KERNEL:-6.12}}

build_module_for "$series" bench
dir=$WORK_DIR
log "building ashmem_bench"
gcc -static -O2 -pthread -Wall -Wextra -Werror -I"$REPO/uapi" \
	-I"$REPO/tools/testing/shared" \
	-o "$dir/ashmem_bench" "$here/ashmem_bench.c"

cat > "$dir/guest.sh" <<'GUEST'
# Guest script of make bench.
echo "ashmem_bench on $(uname -r), $(nproc) CPUs"
ashmem_bench
GUEST

# 64k touched pages at once need more than the default 512 MiB.
ASHMEM_VM_MEM=${ASHMEM_VM_MEM:-1024} exec "$VM_DIR/vm.sh" \
	--kernel "$VMLINUZ" --config "$KCONFIG" \
	--module "$dir/src/ashmem.ko" --file "$dir/ashmem_bench" \
	--log "$dir/console.log" --timeout "${ASHMEM_BENCH_TIMEOUT:-1200}" \
	"$dir/guest.sh"
