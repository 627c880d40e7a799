# SPDX-License-Identifier: GPL-2.0
#
# Debian packages, included by the top-level Makefile; see debian/ and
# doc/install.md.
#
#   make deb         ashmem-dkms, libashmem1, libashmem-dev and
#                    ashmem-tools, with their source package, in DEB_OUT
#                    (default build/deb), built from a copy of the tree
#                    in DEB_OUT/ashmem-VERSION (the work tree stays clean)
#   make check-deb   build them, run lintian, install, upgrade and purge
#                    them on this machine, DKMS building the module for
#                    every target kernel, and boot what DKMS built in QEMU
#                    (tools/testing/install/check-deb.sh)
#
# Needs dpkg-dev, debhelper and dh-dkms (make check-deb installs them).

DEB_OUT ?= $(CURDIR)/build/deb
DEB_BUILD_DEPS := dpkg-dev debhelper dh-dkms
DEB_TREE = $(DEB_OUT)/ashmem-$(VERSION)

deb: check-version
	@missing=; for p in $(DEB_BUILD_DEPS); do \
		dpkg-query -W -f '$${db:Status-Status}' $$p 2>/dev/null | \
			grep -qx installed || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deb needs:$$missing (apt-get install$$missing)" >&2; \
		exit 1; \
	fi
	rm -rf $(DEB_OUT)
	mkdir -p $(DEB_TREE)
	@if git -C $(CURDIR) rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git -C $(CURDIR) ls-files -z -co --exclude-standard | \
			(cd $(CURDIR) && tar --null -T - -cf -); \
	else \
		tar -C $(CURDIR) --exclude=./.git --exclude=./build -cf - .; \
	fi | tar -xf - -C $(DEB_TREE)
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc
	@ls -1 $(DEB_OUT)/*.deb

check-deb:
	tools/testing/install/check-deb.sh $(KERNELS)

.PHONY: deb check-deb
