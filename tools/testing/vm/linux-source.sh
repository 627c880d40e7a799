#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: linux-source.sh
#
# Print the directory into which lib.sh's linux_source unpacked what the
# checks take from Debian's linux-source-6.12 (LINUX_SOURCE_FILES),
# unpacking it first if need be: for the Makefiles, which cannot source
# lib.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 0 ]] || die "usage: ${0##*/}"
linux_source
