# SPDX-License-Identifier: GPL-2.0
#
# DKMS packaging, included by the top-level Makefile after install.mk;
# see dkms.conf and doc/install.md.
#
#   make dkms-install      copy the sources to /usr/src/ashmem-VERSION,
#                          dkms add, build and install for KVER only;
#                          then the udev rule and modules-load.d file
#   make dkms-add          the copy and dkms add alone
#   make dkms-remove       dkms remove every build, delete the sources
#   make check-dkms        test all of it with Debian's dkms on the host
#                          for every target kernel (never the running one)

DKMS ?= dkms
DKMS_SRC := /usr/src/ashmem-$(VERSION)

# The sources DKMS builds from, refreshed on every call.
dkms-add: check-version
	$(MAKE) --no-print-directory copy-sources DEST=$(DKMS_SRC)
	@if $(DKMS) status -m ashmem -v $(VERSION) | grep -q .; then \
		echo "ashmem/$(VERSION) is already added to DKMS"; \
	else \
		$(DKMS) add -m ashmem -v $(VERSION); \
	fi

# Only for KVER: dkms install without -k would pick the running kernel.
dkms-install: check-kdir dkms-add
	$(DKMS) build -m ashmem -v $(VERSION) -k $(KVER) \
		--kernelsourcedir $(KDIR)
	$(DKMS) install -m ashmem -v $(VERSION) -k $(KVER) --force
	$(MAKE) --no-print-directory install-rules

dkms-remove: uninstall-rules
	-$(DKMS) remove -m ashmem -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

check-dkms:
	tools/testing/install/check-dkms.sh $(KERNELS)

.PHONY: dkms-add dkms-install dkms-remove check-dkms
