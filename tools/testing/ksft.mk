# SPDX-License-Identifier: GPL-2.0
#
# The kselftest headers (kselftest.h, kselftest_harness.h) for the Makefiles
# of the programs built with them, included with KSFT_DIR set to where a
# copy may go. KSFT_INC=<dir> takes the headers from <dir>, as the runners
# do; without it they are copied into KSFT_DIR from what lib.sh's
# linux_source unpacked from Debian's linux-source-6.12 into the cache
# (vm/linux-source.sh), so that the tarball is unpacked in one place only.
# Sets KSFT_INC, and KSFT_HDRS to the copies to depend on (none with
# KSFT_INC).

ksft_linux_source := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/vm/linux-source.sh

# The rule below must not become the including Makefile's default goal.
ksft_goal := $(.DEFAULT_GOAL)

ifeq ($(KSFT_INC),)
KSFT_INC := $(KSFT_DIR)
KSFT_HDRS := $(KSFT_INC)/kselftest_harness.h $(KSFT_INC)/kselftest.h

$(KSFT_HDRS) &:
	@mkdir -p $(KSFT_INC)
	lsrc=$$($(ksft_linux_source)) && \
		cp $${lsrc}/tools/testing/selftests/kselftest_harness.h \
		   $${lsrc}/tools/testing/selftests/kselftest.h $(KSFT_INC)/
endif

.DEFAULT_GOAL := $(ksft_goal)
