#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the host packages the VM tests need (QEMU, busybox, compilers,
# checkers, kernel sources for checkpatch and the kselftest harness).
# Packages already installed are skipped, so a second run does nothing.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(
	make gcc gcc-multilib libc6-dev	# module, selftests 64 and 32 bit
	kmod				# modinfo on the built module
	sparse perl			# C=1 and checkpatch.pl
	"$LINUX_SOURCE_PKG"		# checkpatch.pl, kselftest headers
	xz-utils cpio gzip		# unpack sources, pack the initramfs
	busybox-static			# the guest userspace
	qemu-system-x86			# the guest
)

apt_install "${PACKAGES[@]}"
