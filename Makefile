# SPDX-License-Identifier: GPL-2.0
#
# ashmem: Android anonymous shared memory as an out-of-tree module.
#
#   make                 build ashmem.ko for the running kernel
#   make KDIR=<tree>     build it against any kernel build tree
#   make run             boot a Debian kernel in QEMU, load it, run a demo
#   make check           build and run the kselftests on every target kernel
#   make check-debug     the kselftests, fuzzer and fault injection on a
#                        KASAN, lockdep, kmemleak kernel (doc/debug.md)
#   make check-kcsan     the kselftests, stress test and fuzzer on a KCSAN
#                        kernel: no data race in the module (doc/debug.md)
#   make bench           measure it in QEMU and print a table of ratios
#   make install         install it for KVER: modules_install, depmod, udev
#   make dkms-install    register it with DKMS and install it for KVER
#   make check-dkms      build it with Debian's dkms for every target kernel
#   make deb             Debian packages in build/deb (doc/install.md)
#   make check-deb       build, lintian, install, upgrade and purge them
#   make userspace       build libashmem and the ashmem tool (doc/userspace.md)
#   make check-userspace test them in QEMU on every target kernel
#
# run and check install what they need (QEMU, busybox, Debian kernels) and
# never load the module into the host kernel.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build

all: modules

modules: check-kdir
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# Without the kernel's build tree, what kbuild would remove goes by hand.
clean:
	@if [ -e "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	else \
		rm -rf *.o *.ko *.mod *.mod.c .*.cmd *.o.d Module.symvers \
			modules.order .tmp_versions ashmem_features.h \
			ashmem_features.log; \
	fi
	$(MAKE) -C tools/testing/selftests/ashmem clean
	$(MAKE) -C tools/testing/range clean
	$(MAKE) -C tools/testing/fuzz clean

# make run KERNEL=6.1 boots the demo on 6.1; make check KERNELS=6.12
# tests one kernel series (default: every one, lib.sh's ALL_SERIES).
KERNEL ?= 6.12
KERNELS ?=

run:
	tools/testing/vm/run-demo.sh $(KERNEL)

# check-version (tools/mk/install.mk): VERSION and debian/changelog agree.
check: check-version
	tools/testing/vm/check.sh $(KERNELS)

bench:
	tools/testing/bench/bench.sh

check-debug:
	tools/testing/debug/check-debug.sh debug

check-kcsan:
	tools/testing/debug/check-debug.sh kcsan

.PHONY: all modules clean run check bench check-debug check-kcsan

include $(CURDIR)/tools/mk/install.mk
include $(CURDIR)/tools/mk/dkms.mk
include $(CURDIR)/tools/mk/userspace.mk
include $(CURDIR)/tools/mk/deb.mk
