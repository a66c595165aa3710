#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# shmnic as a user installs it (make package-check, part of make check;
# root, as the rest of make check).
#  1. The version agrees in dkms.conf, drivers/net/shmnic/shmnic.h,
#     debian/changelog and CMakeLists.txt.
#  2. make install into a staging DESTDIR puts the module, the tools, their
#     man pages, the modprobe.d example and the ivshmem-server unit where
#     they belong (PREFIX=/usr, and the unit's path with the default
#     /usr/local); make uninstall leaves no file behind.
#  3. make deb builds shmnic-dkms and shmnic-tools; lintian reports no
#     error; each package holds what it should, and shmnic-tools depends on
#     the libnl libraries the shared-library scan found.
#  4. apt-get install of both packages builds the module through DKMS for
#     the harness' kernel (the newest) and the running one if it has
#     headers; modinfo -k finds it in updates/dkms, and
#     modprobe finds it by name and by the ivshmem device's modalias; the
#     ivshmem-server unit passes systemd-analyze verify and is not enabled.
#  5. DKMS builds the installed source for Debian's 6.12 kernel too: its
#     headers are unpacked into a scratch directory (not installed: they
#     would pull in a second kernel image), and dkms runs with a private
#     tree against them.
#  6. A cluster test (test_shmnicctl) boots its VMs with the module DKMS
#     built and the shmnicctl of the package, and the host side runs the
#     package's ivshmem-server.
#  7. dpkg -r removes the module from every kernel, the DKMS tree, the
#     sources and the tools; dpkg -P then the configuration.
# KTAP on stdout; logs in $BUILD/packages/.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export BUILD
LOGS=$BUILD/packages
KVER=${KVER:-$("$ROOT/scripts/kver")}
PKGS="shmnic-dkms shmnic-tools"

n=0
failed=0
ok() { # NAME COND-STATUS [WHY]
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1${3:+ # $3}"
		failed=$((failed + 1))
	fi
}
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
info() { echo "# $*"; }
bail() { echo "Bail out! $*"; exit 1; }

echo "TAP version 13"
echo "1..15"
[ "$(id -u)" = 0 ] || bail "needs root: it installs and removes packages"
# Anything of shmnic's already here would be removed by this test's dpkg -r
# and -P, or would make its checks ambiguous: refuse to start.
for p in $PKGS; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case $s in "" | *" not-installed") ;;
	*) bail "$p is on this machine ($s): the test installs and purges its own build (dpkg -P $PKGS first)" ;;
	esac
done
[ -z "$(dkms status shmnic 2>/dev/null)" ] ||
	bail "DKMS has shmnic already ($(dkms status shmnic | head -n 1)): dkms remove shmnic/VERSION --all first"
ls -d /usr/src/shmnic-* >/dev/null 2>&1 && bail "$(ls -d /usr/src/shmnic-* | head -n 1) exists: remove it first"
modinfo -k "$KVER" shmnic >/dev/null 2>&1 &&
	bail "a shmnic module is installed for $KVER ($(modinfo -k "$KVER" -F filename shmnic)): make uninstall first"
rm -rf "$LOGS"
mkdir -p "$LOGS"

we_installed=0
cleanup() {
	[ $we_installed = 1 ] || return 0
	dpkg -P $PKGS >>"$LOGS/cleanup.log" 2>&1 || true
}
trap cleanup EXIT

# --- 1. versions ------------------------------------------------------------
ver=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
v_dkms=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$ROOT/dkms.conf")
v_mod=$(sed -n 's/^#define SHMNIC_VERSION[[:space:]]*"\(.*\)"$/\1/p' "$ROOT/drivers/net/shmnic/shmnic.h")
v_cmake=$(sed -n 's/^project(shmnic VERSION \([^ ]*\) .*/\1/p' "$ROOT/CMakeLists.txt")
info "versions: debian/changelog $ver, dkms.conf $v_dkms, shmnic.h $v_mod, CMakeLists.txt $v_cmake"
[ -n "$ver" ] && [ "$v_dkms" = "$ver" ] && [ "$v_mod" = "$ver" ] && [ "$v_cmake" = "$ver" ]
ok versions_agree $?

# --- 2. make install / uninstall into a staging tree ------------------------
stage=$LOGS/stage
want_install="lib/modules/$KVER/updates/drivers/net/shmnic/shmnic.ko
usr/bin/flowbench
usr/lib/systemd/system/ivshmem-server.service
usr/sbin/ivshmem-server
usr/sbin/shmnicctl
usr/share/doc/shmnic/examples/ivshmem-server.default
usr/share/doc/shmnic/examples/shmnic.modprobe.conf
usr/share/man/man1/flowbench.1
usr/share/man/man8/ivshmem-server.8
usr/share/man/man8/shmnicctl.8"
st=0
make -C "$ROOT" install DESTDIR="$stage" PREFIX=/usr >"$LOGS/install.log" 2>&1 || st=1
got=$(cd "$stage" 2>/dev/null && find . ! -type d | sed 's|^\./||' | sort)
if [ "$got" != "$want_install" ]; then
	st=1
	info "make install put:"; echo "$got" | sed 's/^/#   /'
fi
grep -q "^ExecStart=/usr/sbin/ivshmem-server " "$stage/usr/lib/systemd/system/ivshmem-server.service" || st=1
# the default PREFIX, /usr/local: the unit runs the server installed there
make -C "$ROOT" install DESTDIR="$stage.local" >>"$LOGS/install.log" 2>&1 || st=1
grep -q "^ExecStart=/usr/local/sbin/ivshmem-server " \
	"$stage.local/usr/local/lib/systemd/system/ivshmem-server.service" 2>/dev/null || st=1
[ -x "$stage.local/usr/local/sbin/ivshmem-server" ] || st=1
rm -rf "$stage.local"
ok make_install_destdir $st
st=0
make -C "$ROOT" uninstall DESTDIR="$stage" PREFIX=/usr >"$LOGS/uninstall.log" 2>&1 || st=1
left=$(find "$stage" ! -type d 2>/dev/null)
[ -z "$left" ] || { st=1; info "left after make uninstall: $left"; }
ok make_uninstall_leaves_nothing $st

# --- 3. make deb, lintian, contents -----------------------------------------
DEB=$BUILD/deb
t0=$SECONDS
make -C "$ROOT" deb >"$LOGS/deb.log" 2>&1
st=$?
dkms_deb=$DEB/shmnic-dkms_${ver}_all.deb
tools_deb=$DEB/shmnic-tools_${ver}_amd64.deb
[ -f "$dkms_deb" ] && [ -f "$tools_deb" ] || st=1
info "make deb: $((SECONDS - t0)) s: $(cd "$DEB" 2>/dev/null && ls ./*.deb | tr '\n' ' ')"
ok make_deb $st
[ $st = 0 ] || bail "no packages (see $LOGS/deb.log)"

lintian --fail-on error "$DEB/shmnic_${ver}_amd64.changes" >"$LOGS/lintian.log" 2>&1
st=$?
info "lintian: $(grep -c '^E:' "$LOGS/lintian.log") errors, $(grep -c '^W:' "$LOGS/lintian.log") warnings, $(grep -c '^I:' "$LOGS/lintian.log") info tags"
sed 's/^/#   /' "$LOGS/lintian.log" | grep -E '^#   [EWI]:'
ok lintian_no_error $st

contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./||'; }
st=0
src=usr/src/shmnic-$ver
for f in dkms.conf Kbuild drivers/net/shmnic/Makefile \
	$(git -C "$ROOT" ls-files 'drivers/net/shmnic/*.[ch]' 'include/*.h'); do
	contents "$dkms_deb" | grep -qx "$src/$f" || { st=1; info "shmnic-dkms lacks /$src/$f"; }
done
contents "$dkms_deb" | grep -qx usr/share/doc/shmnic-dkms/examples/shmnic.modprobe.conf ||
	{ st=1; info "shmnic-dkms lacks the modprobe.d example"; }
dpkg-deb -f "$dkms_deb" Depends | grep -q dkms || { st=1; info "shmnic-dkms does not depend on dkms"; }
for f in usr/sbin/shmnicctl usr/sbin/ivshmem-server usr/bin/flowbench \
	usr/share/man/man8/shmnicctl.8.gz usr/share/man/man8/ivshmem-server.8.gz \
	usr/share/man/man1/flowbench.1.gz lib/systemd/system/ivshmem-server.service \
	etc/default/ivshmem-server; do
	contents "$tools_deb" | grep -qx "$f" || { st=1; info "shmnic-tools lacks /$f"; }
done
deps=$(dpkg-deb -f "$tools_deb" Depends)
info "shmnic-tools Depends: $deps"
for lib in libnl-3-200 libnl-genl-3-200 libnl-route-3-200 libstdc++6; do
	echo "$deps" | grep -q "$lib" || { st=1; info "shmnic-tools does not depend on $lib"; }
done
ok package_contents $st

# --- 4. install: DKMS builds the module -------------------------------------
t0=$SECONDS
we_installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"$dkms_deb" "$tools_deb" >"$LOGS/apt-install.log" 2>&1
st=$?
info "apt-get install of both packages: $((SECONDS - t0)) s (the DKMS build included)"
grep -E '^(Building for|Building initial module|Installing to|Error)' "$LOGS/apt-install.log" | sed 's/^/#   /'
ok apt_install $st

# Debian's DKMS builds at installation for the running kernel and the
# newest one (/boot/config-*), when they have headers; for every kernel
# installed later through its kernel hook; for another one with
# "dkms autoinstall -k KVER". Here: the harness kernel, and the running
# one if its headers are installed.
st=0
with_headers=""
for d in /lib/modules/*/; do
	k=$(basename "$d")
	[ -e "$d/build/include" ] && with_headers="$with_headers $k"
done
want=$KVER
running=$(uname -r)
[ "$running" != "$KVER" ] && [ -e "/lib/modules/$running/build/include" ] && want="$want $running"
info "kernels with headers:$with_headers; expected built: $want; dkms status: $(dkms status shmnic 2>&1 | tr '\n' ';')"
for k in $want; do
	dkms status -m shmnic -v "$ver" -k "$k" 2>/dev/null | grep -q ': installed' ||
		{ st=1; info "DKMS did not install shmnic for $k"; }
done
ok dkms_built_for_running_and_newest_kernel $st

st=0
modfile=$(modinfo -k "$KVER" -F filename shmnic 2>/dev/null)
info "modinfo -k $KVER shmnic: $modfile, version $(modinfo -k "$KVER" -F version shmnic 2>/dev/null), vermagic $(modinfo -k "$KVER" -F vermagic shmnic 2>/dev/null)"
case $modfile in /lib/modules/$KVER/updates/dkms/shmnic.ko*) ;; *) st=1 ;; esac
[ "$(modinfo -k "$KVER" -F version shmnic 2>/dev/null)" = "$ver" ] || st=1
modinfo -k "$KVER" -F vermagic shmnic 2>/dev/null | grep -q "^$KVER " || st=1
modinfo -k "$KVER" -F parm shmnic 2>/dev/null | grep -q '^force_format:' || st=1
ok modinfo_finds_dkms_module $st

# What "modprobe shmnic" and udev's "kmod load $MODALIAS" resolve to for
# QEMU's ivshmem device (1af4:1110, subsystem 1af4:1100, class 0500).
# virtio_pci claims every 1af4 device by its alias too; its probe
# declines the ones it does not drive.
st=0
alias=pci:v00001AF4d00001110sv00001AF4sd00001100bc05sc00i00
by_alias=$(modprobe -S "$KVER" -R "$alias" 2>&1 | tr '\n' ' ')
show=$(modprobe -S "$KVER" --show-depends shmnic 2>&1)
info "modprobe -R $alias: $by_alias; modprobe --show-depends shmnic: $show"
case " $by_alias " in *" shmnic "*) ;; *) st=1 ;; esac
echo "$show" | grep -q "^insmod /lib/modules/$KVER/updates/dkms/shmnic.ko" || st=1
ok modprobe_and_udev_alias_find_shmnic $st

st=0
if [ -e /etc/systemd/system/multi-user.target.wants/ivshmem-server.service ]; then
	st=1
	info "ivshmem-server.service was enabled by the package"
fi
[ -f /etc/default/ivshmem-server ] || { st=1; info "no /etc/default/ivshmem-server"; }
# the unit's syntax, its binary and its man page (systemd need not run here)
systemd-analyze verify /lib/systemd/system/ivshmem-server.service >"$LOGS/unit.log" 2>&1 ||
	{ st=1; sed 's/^/#   /' "$LOGS/unit.log"; }
ok ivshmem_server_unit_installed_not_enabled $st

# --- 5. DKMS for Debian's 6.12 kernel ---------------------------------------
k612=$LOGS/headers-6.12
meta=linux-headers-6.12-amd64
hdr=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-headers-6\.12\..*-amd64\)$/\1/p' | head -n 1)
if [ -z "$hdr" ]; then
	skip dkms_builds_for_6_12 "apt knows no $meta here (apt-cache depends $meta found no headers package)"
else
	k612ver=${hdr#linux-headers-}
	kbase=${k612ver%-amd64}
	mkdir -p "$k612/debs"
	if ! (cd "$k612/debs" && apt-get download "$hdr" "linux-headers-$kbase-common" \
		"linux-kbuild-$kbase") >"$LOGS/headers-6.12.log" 2>&1; then
		skip dkms_builds_for_6_12 "apt-get download of $hdr failed (see $LOGS/headers-6.12.log)"
	else
		for f in "$k612"/debs/*.deb; do dpkg-deb -x "$f" "$k612/root"; done
		kdir=$k612/root/usr/src/linux-headers-$k612ver
		# its Makefile includes the common headers by their absolute path
		sed -i "s|^include /usr/src/|include $k612/root/usr/src/|" "$kdir/Makefile"
		t0=$SECONDS
		mkdir -p "$k612/dkms" "$k612/install"
		dk=(dkms --dkmstree "$k612/dkms" --sourcetree /usr/src --installtree "$k612/install")
		st=0
		{ "${dk[@]}" add -m shmnic -v "$ver" &&
		  "${dk[@]}" build -m shmnic -v "$ver" -k "$k612ver" --kernelsourcedir "$kdir"; } \
			>>"$LOGS/headers-6.12.log" 2>&1 || st=1
		ko=$k612/dkms/shmnic/$ver/$k612ver/x86_64/module/shmnic.ko
		[ -f "$ko" ] || ko=$(ls "$k612"/dkms/shmnic/"$ver"/"$k612ver"/*/module/shmnic.ko* 2>/dev/null | head -n 1)
		vm=$( [ -n "$ko" ] && modinfo -F vermagic "$ko" 2>/dev/null)
		info "dkms build for $k612ver (headers unpacked, not installed): $((SECONDS - t0)) s, vermagic $vm"
		case $vm in "$k612ver "*) ;; *) st=1; tail -n 20 "$LOGS/headers-6.12.log" | sed 's/^/#   /' ;; esac
		ok dkms_builds_for_6_12 $st
	fi
fi

# --- 6. a cluster test with the installed module and tools ------------------
t0=$SECONDS
st=0
out=$BUILD/selftests-packages
sources=$BUILD/qemu/extra-module-installed.sources
rm -f "$sources"
SHMNIC_MODULE=$modfile SHMNIC_TOOLS_DIRS="/usr/sbin /usr/bin" \
	IVSHMEM_SERVER=/usr/sbin/ivshmem-server SHMNIC_SELFTEST_OUT=$out \
	"$ROOT/selftests/cluster/run_all" test_shmnicctl >"$LOGS/cluster.log" 2>&1 || st=1
sed 's/^/#   /' "$LOGS/cluster.log" | grep -E '^#   (ok|not ok)'
for f in "$modfile" /usr/sbin/shmnicctl; do
	want=$(sha256sum "$f" | cut -d' ' -f1)
	grep -qx "$want  $f" "$sources" 2>/dev/null || { st=1; info "the VMs' image was not built from $f"; }
done
grep -q "^[0-9a-f]*  $ROOT/drivers/net/shmnic/shmnic.ko\$" "$sources" 2>/dev/null &&
	{ st=1; info "the VMs' image has the build tree's module"; }
info "test_shmnicctl with the packages' module, shmnicctl and ivshmem-server: $((SECONDS - t0)) s; the image's sources:"
sed 's/^/#   /' "$sources" 2>/dev/null
ok cluster_test_with_installed_packages $st

# --- 7. remove ----------------------------------------------------------------
st=0
dpkg -r $PKGS >"$LOGS/remove.log" 2>&1 || st=1
for k in $with_headers; do
	ls /lib/modules/"$k"/updates/dkms/shmnic.ko* >/dev/null 2>&1 &&
		{ st=1; info "shmnic.ko left in /lib/modules/$k/updates/dkms"; }
done
modinfo -k "$KVER" shmnic >/dev/null 2>&1 && { st=1; info "modinfo still finds shmnic"; }
[ -e "/usr/src/shmnic-$ver" ] && { st=1; info "/usr/src/shmnic-$ver left"; }
[ -e /var/lib/dkms/shmnic ] && { st=1; info "/var/lib/dkms/shmnic left"; }
for f in /usr/sbin/shmnicctl /usr/sbin/ivshmem-server /usr/bin/flowbench \
	/lib/systemd/system/ivshmem-server.service; do
	[ -e "$f" ] && { st=1; info "$f left"; }
done
ok dpkg_remove_removes_everything $st
st=0
dpkg -P $PKGS >>"$LOGS/remove.log" 2>&1 || st=1
[ -e /etc/default/ivshmem-server ] && { st=1; info "/etc/default/ivshmem-server left after purge"; }
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed$\|config-files$' &&
		{ st=1; info "$p: $(dpkg-query -W -f='${Status}' "$p")"; }
done
we_installed=0
ok dpkg_purge $st

echo "# test_packages: $n tests, $failed failed"
[ $failed = 0 ]
