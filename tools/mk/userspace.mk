# SPDX-License-Identifier: GPL-2.0
#
# Userspace: libashmem and the ashmem tool, included by the top-level
# Makefile; see doc/userspace.md.
#
#   make userspace         lib + tool
#   make lib               libashmem.a, libashmem.so and ashmem.pc in
#                          build/lib (lib/Makefile)
#   make tool              the ashmem tool in build/tools; STATIC=1 for a
#                          static one (tools/ashmem/Makefile)
#   make install-lib       headers, libraries and ashmem.pc into
#                          $(DESTDIR)$(PREFIX) (default /usr/local)
#   make install-tool      the tool into $(DESTDIR)$(PREFIX)/bin
#   make install-userspace both
#   make check-userspace   the library and tool tests in QEMU, on every
#                          target kernel (tools/testing/userspace/run.sh)

userspace: lib tool

lib:
	$(MAKE) -C lib

tool:
	$(MAKE) -C tools/ashmem

install-lib:
	$(MAKE) -C lib install

install-tool:
	$(MAKE) -C tools/ashmem install

install-userspace: install-lib install-tool

check-userspace:
	tools/testing/userspace/run.sh $(KERNELS)

.PHONY: userspace lib tool install-lib install-tool install-userspace \
	check-userspace
