# SPDX-License-Identifier: GPL-2.0
#
# make            build the module (against KDIR) and the userspace tools (CMake)
# make check      run every test (lint, unit tests, the cluster selftests in QEMU, then
#                 the packages: built, installed on this machine, used, removed)
# make demo       boot a 3-node virtual cluster and show shmnic working
# make check-debug  the cluster selftests on a 6.12 debug kernel (KASAN, lockdep,
#                  kmemleak...), built once from linux-source-6.12 and cached
# make bench      benchmarks: shml0 against virtio-net, the userspace ring, the global gateway
# make profile    where two VMs' CPUs go during iperf3 over shml0 and virtio-net (perf)
# make deps       install the Debian packages the above need (run as root)
# make install    the module (modules_install, depmod), the tools, man pages, a
#                 modprobe.d example and the ivshmem-server unit; DESTDIR, PREFIX
# make uninstall  remove what make install installed
# make deb        the Debian packages shmnic-dkms and shmnic-tools, in build/deb/

# The kernel the module is built for and the harness boots: the newest
# Debian kernel whose headers and image are both installed.
KVER  ?= $(shell scripts/kver)
KDIR  ?= /lib/modules/$(KVER)/build
BUILD ?= build
JOBS  ?= $(shell nproc)
PREFIX ?= /usr/local
# absolute: the kernel's modules_install runs in $(KDIR)
override DESTDIR := $(if $(DESTDIR),$(abspath $(DESTDIR)))
# modules_install puts drivers/net/shmnic/shmnic.ko under this directory of
# /lib/modules/$(KVER)/ (DKMS uses updates/dkms/)
MODDIR = updates
MODTOP = $(DESTDIR)/lib/modules/$(KVER)/$(MODDIR)
KMOD = $(MODTOP)/drivers/net/shmnic/shmnic.ko
DOCDIR = $(DESTDIR)$(PREFIX)/share/doc/shmnic
UNITDIR = $(DESTDIR)$(PREFIX)/lib/systemd/system
# installed as examples beside the tools' documentation
EXAMPLES = packaging/shmnic.modprobe.conf packaging/ivshmem-server.default

export KVER BUILD

.PHONY: all module tools deps lint check check-debug unit-check cluster-check package-check \
	demo bench profile clean install uninstall deb

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

tools:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMNIC_TESTS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	scripts/install-deps

lint: module
	scripts/ynl-gen --check
	scripts/lint

unit-check: tools
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

cluster-check: all
	selftests/cluster/run_all

# make deb, lintian, make install/uninstall into a staging directory, the
# packages installed on this machine (DKMS), a cluster test with them, dpkg -r
package-check: all
	selftests/packages/test_packages.sh

check: deps
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) unit-check
	$(MAKE) cluster-check
	$(MAKE) package-check

check-debug: deps
	$(MAKE) all
	scripts/check-kernel debug

demo: deps
	$(MAKE) all
	qemu/demo

bench: deps
	$(MAKE) all
	tools/bench/run

profile: deps
	$(MAKE) all
	tools/bench/profile

# depmod only for the running system: a DESTDIR is a staging tree, and the
# kernel's own modules_install skips depmod without a System.map.
install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=$(MODDIR) modules_install
	[ -n "$(DESTDIR)" ] || depmod -a $(KVER)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)
	install -d $(DOCDIR)/examples $(UNITDIR)
	install -m 644 $(EXAMPLES) $(DOCDIR)/examples/
	sed 's|/usr/sbin/|$(PREFIX)/sbin/|' packaging/ivshmem-server.service >$(UNITDIR)/ivshmem-server.service

uninstall:
	rm -f $(KMOD)
	-rmdir --ignore-fail-on-non-empty $(MODTOP)/drivers/net/shmnic $(MODTOP)/drivers/net \
		$(MODTOP)/drivers $(MODTOP)
	[ -n "$(DESTDIR)" ] || depmod -a $(KVER)
	# what cmake --install puts there, learnt by installing into a scratch tree
	t=$$(mktemp -d) && \
	{ DESTDIR=$$t cmake --install $(BUILD) --prefix $(PREFIX) >/dev/null || \
		{ rm -rf "$$t"; echo "uninstall: cannot tell what cmake installed: build $(BUILD) first" >&2; exit 1; }; } && \
	(cd $$t && find . ! -type d) | sed 's|^\.||' | \
		while read -r f; do rm -f "$(DESTDIR)$$f"; done; rm -rf "$$t"
	rm -f $(addprefix $(DOCDIR)/examples/,$(notdir $(EXAMPLES))) $(UNITDIR)/ivshmem-server.service
	-rmdir --ignore-fail-on-non-empty $(DOCDIR)/examples $(DOCDIR)

deb: deps
	scripts/mkdeb

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf $(BUILD)
