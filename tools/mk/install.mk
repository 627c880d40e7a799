# SPDX-License-Identifier: GPL-2.0
#
# Installing the module, included by the top-level Makefile; see
# doc/install.md.
#
#   make install           modules_install + depmod, the udev rule and
#                          the modules-load.d file
#   make uninstall         undo it
#   make sign              sign ashmem.ko with MOK_KEY and MOK_CERT
#   make module-clean      clean the module build alone
#   make copy-sources DEST=<dir>   copy what the module's build needs,
#                          with the version filled in in dkms.conf
#   make check-version     VERSION and debian/changelog name one version
#   make check-install     test install, sign, uninstall and the udev rule
#                          on the host, in a staging directory
#
# Variables: KVER (the kernel to install for; default the running one),
# KDIR (its build tree; default /lib/modules/KVER/build), DESTDIR (a
# staging root for everything), INSTALL_MOD_PATH (for the module alone;
# default DESTDIR), INSTALL_MOD_DIR (default extra), UDEV_RULES_DIR,
# MODULES_LOAD_DIR, MOK_KEY and MOK_CERT (sign the module with this key
# before installing it, for Secure Boot).
#
# Nothing here loads the module. The kernel is always named: each target
# works on KVER alone, and fails if KVER has no build tree rather than
# falling back to another kernel.

DESTDIR ?=
# The version: the top-level file VERSION, read by the module's Kbuild,
# lib/Makefile, tools/ashmem/Makefile and the packaging alike.
VERSION := $(shell cat $(CURDIR)/VERSION 2>/dev/null)
# The first entry of debian/changelog, less any Debian revision.
DEB_VERSION := $(shell sed -n '1s/^[^ ]* (\([^)-]*\).*/\1/p' \
		 $(CURDIR)/debian/changelog 2>/dev/null)
INSTALL_MOD_PATH ?= $(DESTDIR)
INSTALL_MOD_DIR ?= extra
UDEV_RULES_DIR ?= /etc/udev/rules.d
MODULES_LOAD_DIR ?= /etc/modules-load.d
DEPMOD ?= $(firstword $(wildcard /sbin/depmod /usr/sbin/depmod) depmod)

# The release the tree was built for (the module's vermagic), which may
# differ from KVER when KDIR is given alone. Not kernel.release: Debian's
# 6.1 headers have the upstream version there, 6.1.NNN.
KRELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	   $(KDIR)/include/generated/utsrelease.h 2>/dev/null)

# What building and installing the module needs: the driver, its build
# files and probes, the udev rule and modules-load.d file. DKMS builds
# from these.
SRC_FILES := $(wildcard VERSION dkms.conf Kbuild Makefile LICENSE tools/mk udev \
		       modules-load.d tools/probe-kernel.sh tools/probes uapi) \
	     $(filter-out %.mod.c,$(wildcard *.c)) \
	     $(filter-out ashmem_features.h,$(wildcard *.h))

check-version:
	@if [ -z "$(VERSION)" ]; then \
		echo "no version: the file VERSION is missing or empty" >&2; \
		exit 1; \
	fi
	@if [ -e debian/changelog ] && [ "$(DEB_VERSION)" != "$(VERSION)" ]; then \
		echo "debian/changelog's version ($(DEB_VERSION)) differs from" \
		     "VERSION ($(VERSION)): add a changelog entry for it" >&2; \
		exit 1; \
	fi

check-kdir:
	@if [ ! -e "$(KDIR)/Makefile" ]; then \
		echo "no kernel build tree at $(KDIR) for kernel $(KVER):" \
		     "install its headers (Debian: apt-get install" \
		     "linux-headers-$(KVER)), or name another kernel with" \
		     "KVER=<release> or KDIR=<tree>" >&2; \
		exit 1; \
	fi

# Signs the built module once (sign-file appends a signature; a second
# one would be stacked on the first). Compression, if the kernel's
# configuration asks for it, happens afterwards in modules_install.
sign: check-kdir modules
	@test -n "$(MOK_KEY)" && test -n "$(MOK_CERT)" || \
		{ echo "sign needs MOK_KEY=<key> and MOK_CERT=<cert>" >&2; exit 1; }
	@if tail -c 28 ashmem.ko | grep -q 'Module signature appended'; then \
		echo "ashmem.ko is already signed"; \
	else \
		echo "  SIGN    ashmem.ko with $(MOK_CERT)"; \
		$(KDIR)/scripts/sign-file sha256 $(MOK_KEY) $(MOK_CERT) ashmem.ko; \
	fi

# The kernel's own signing step needs the distribution's private key,
# which no headers package ships: it is turned off (CONFIG_MODULE_SIG_ALL=)
# and `sign` does the job with the user's key instead. Debian's headers
# have no System.map, so kbuild skips depmod: it is run here.
install: check-kdir modules $(if $(MOK_KEY),sign)
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) CONFIG_MODULE_SIG_ALL= \
		modules_install
	$(DEPMOD) -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)
	$(MAKE) --no-print-directory install-rules

uninstall: check-kdir uninstall-rules
	rm -f $(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)/$(INSTALL_MOD_DIR)/ashmem.ko*
	$(DEPMOD) -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)

# The udev rule and the modules-load.d file, for install and dkms-install.
install-rules:
	install -D -m 0644 udev/60-ashmem.rules \
		$(DESTDIR)$(UDEV_RULES_DIR)/60-ashmem.rules
	install -D -m 0644 modules-load.d/ashmem.conf \
		$(DESTDIR)$(MODULES_LOAD_DIR)/ashmem.conf

uninstall-rules:
	rm -f $(DESTDIR)$(UDEV_RULES_DIR)/60-ashmem.rules \
		$(DESTDIR)$(MODULES_LOAD_DIR)/ashmem.conf

module-clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Used by dkms-add, and by the tests to build outside the work tree.
copy-sources: check-version
	@test -n "$(DEST)" || { echo "copy-sources needs DEST=<dir>" >&2; exit 1; }
	rm -rf $(DEST)
	mkdir -p $(DEST)
	cp -R --parents $(SRC_FILES) $(DEST)/
	sed -i 's/#MODULE_VERSION#/$(VERSION)/' $(DEST)/dkms.conf

check-install:
	tools/testing/install/check-install.sh $(KERNELS)

.PHONY: check-version check-kdir sign install uninstall install-rules uninstall-rules \
	module-clean copy-sources check-install
