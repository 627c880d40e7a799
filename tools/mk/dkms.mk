# SPDX-License-Identifier: GPL-2.0
#
# DKMS packaging, included by the top-level Makefile after install.mk;
# see dkms.conf and doc/install.md.
#
#   make dkms-install      copy the sources to /usr/src/ashmem-VERSION,
#                          dkms add, build and install for KVER only;
#                          then the udev rule and modules-load.d file
#   make dkms-add          the copy and dkms add alone; if the sources
#                          changed since the last dkms-add of the same
#                          version, its old builds are removed first, so
#                          that the next build is of the new sources
#   make dkms-remove       dkms remove every build, delete the sources
#   make check-dkms        test all of it with Debian's dkms on the host
#                          for every target kernel (never the running one)

DKMS ?= dkms
DKMS_SRC := /usr/src/ashmem-$(VERSION)

# The sources DKMS builds from, refreshed on every call. dkms build
# refuses a version already built for a kernel, and dkms install would
# install that old build again: when the copy differs from what DKMS has,
# the old builds go first.
dkms-add: check-version
	@rm -rf $(DKMS_SRC).new
	@$(MAKE) --no-print-directory copy-sources DEST=$(DKMS_SRC).new
	@if [ -d $(DKMS_SRC) ] && ! diff -r -q $(DKMS_SRC) $(DKMS_SRC).new \
		>/dev/null 2>&1 && \
	    $(DKMS) status -m ashmem -v $(VERSION) | grep -q .; then \
		echo "the sources of ashmem/$(VERSION) changed:" \
		     "removing its old DKMS builds"; \
		$(DKMS) remove -m ashmem -v $(VERSION) --all; \
	fi
	rm -rf $(DKMS_SRC)
	mv $(DKMS_SRC).new $(DKMS_SRC)
	@if $(DKMS) status -m ashmem -v $(VERSION) | grep -q .; then \
		echo "ashmem/$(VERSION) is already added to DKMS"; \
	else \
		echo "$(DKMS) add -m ashmem -v $(VERSION)"; \
		$(DKMS) add -m ashmem -v $(VERSION); \
	fi

# Only for KVER: dkms install without -k would pick the running kernel.
# A build of the same sources for KVER is kept.
dkms-install: check-kdir dkms-add
	@if $(DKMS) status -m ashmem -v $(VERSION) -k $(KVER) | \
		grep -Eq ': (built|installed)'; then \
		echo "ashmem/$(VERSION) is already built for $(KVER)"; \
	else \
		echo "$(DKMS) build -m ashmem -v $(VERSION) -k $(KVER)"; \
		$(DKMS) build -m ashmem -v $(VERSION) -k $(KVER) \
			--kernelsourcedir $(KDIR); \
	fi
	$(DKMS) install -m ashmem -v $(VERSION) -k $(KVER) --force
	$(MAKE) --no-print-directory install-rules

dkms-remove: uninstall-rules
	-$(DKMS) remove -m ashmem -v $(VERSION) --all
	rm -rf $(DKMS_SRC) $(DKMS_SRC).new

check-dkms:
	tools/testing/install/check-dkms.sh $(KERNELS)

.PHONY: dkms-add dkms-install dkms-remove check-dkms
