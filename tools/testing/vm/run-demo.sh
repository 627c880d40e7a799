#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make run: build ashmem.ko for a Debian kernel (KERNEL=6.12 by default,
# or 6.1), boot that kernel in QEMU with the module loaded and run the
# demo (tools/demo/ashmem_demo.c), which narrates what ashmem does.
# Installs what it needs; never loads anything into the host kernel.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

series=${1:-${KERNEL:-6.12}}

build_module_for "$series" run
dir=$WORK_DIR
build_demo "$dir/ashmem_demo"

cat > "$dir/guest.sh" <<'EOF'
# Guest script of make run.
ashmem_demo
EOF

exec "$VM_DIR/vm.sh" --kernel "$VMLINUZ" --config "$KCONFIG" \
	--module "$dir/src/ashmem.ko" --file "$dir/ashmem_demo" \
	--log "$dir/console.log" --timeout "${ASHMEM_RUN_TIMEOUT:-300}" \
	"$dir/guest.sh"
