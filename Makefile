# SPDX-License-Identifier: GPL-2.0
#
# make            build the module (against KDIR) and the userspace tools (CMake)
# make check      run every test (lint, unit tests, then the cluster selftests in QEMU)
# make demo       boot a 3-node virtual cluster and show shmnic working
# make check-debug  the cluster selftests on a 6.12 debug kernel (KASAN, lockdep,
#                  kmemleak...), built once from linux-source-6.12 and cached
# make bench      benchmarks: shml0 against virtio-net, the userspace ring, the global gateway
# make profile    where two VMs' CPUs go during iperf3 over shml0 and virtio-net (perf)
# make deps       install the Debian packages the above need (run as root)

# The kernel the module is built for and the harness boots: the newest
# Debian kernel whose headers and image are both installed.
KVER  ?= $(shell scripts/kver)
KDIR  ?= /lib/modules/$(KVER)/build
BUILD ?= build
JOBS  ?= $(shell nproc)

export KVER BUILD

.PHONY: all module tools deps lint check check-debug unit-check cluster-check demo bench profile clean

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

tools:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
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

check: deps
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) unit-check
	$(MAKE) cluster-check

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

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf $(BUILD)
