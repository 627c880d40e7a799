#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Usage: check-deb.sh [SERIES...]    (default: lib.sh's ALL_SERIES)
#
# make check-deb: the Debian packages, end to end, on this machine. Builds
# them (make deb), runs lintian on them (no error, no warning), installs
# them with dpkg so that DKMS builds the module for the newest Debian
# kernel of each series (kernel.sh installs its headers; series 7 in the
# Debian 13 root of root.sh, on a scratch layer), boots each module DKMS
# built in QEMU with the kselftests, upgrades to a package of a newer
# version built from a copy of the tree and checks that DKMS rebuilt the
# module, then purges the packages and checks that no file they or DKMS
# added is left. The module is never loaded into the host kernel.
# Prints TAP and ends with "N passed, N failed"; exits 1 on any failure.
# Logs in build/check-deb/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$here/../vm/lib.sh"

need_root
select_series "$@"

apt_install dpkg-dev debhelper dh-dkms dkms lintian kmod make gcc \
	pkg-config xz-utils
"$VM_DIR/deps.sh"
lsrc=$(linux_source)

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
# shellcheck source-path=SCRIPTDIR source=root.sh
. "$here/root.sh"

top=$OUT/check-deb
rm -rf "$top"
mkdir -p "$top"
logf=$top/check-deb.log
: >"$logf"
version=$(cat "$REPO/VERSION")
new_version=$version+1
PACKAGES=(ashmem-dkms libashmem1 libashmem-dev ashmem-tools)

# purge_left_over: the packages, if a run that stopped half-way left them.
purge_left_over() {
	local p st there=()

	for p in "${PACKAGES[@]}"; do
		st=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
		[[ -z $st || $st == not-installed ]] || there+=("$p")
	done
	[[ ${#there[@]} -eq 0 ]] && return 0
	log "purging ${there[*]}"
	dpkg --purge "${there[@]}" >&2
}
purge_left_over

work=$(mktemp -d "${TMPDIR:-/tmp}/ashmem-deb.XXXXXX")
trap 'purge_left_over || true; rm -rf --one-file-system "$work"' EXIT
start=$SECONDS
# DKMS's postinst builds for every kernel in /lib/modules only on a first
# install where the running kernel is not one of them (a build machine
# like this one); on an upgrade it builds for the newest alone, unless
# told to build for all.
export autoinstall_all_kernels=1
# Where the packages and DKMS put files, and so where what they leave
# would be.
WATCH=(/etc /usr/src /usr/lib/modules /usr/lib/udev /usr/include
       /usr/lib/x86_64-linux-gnu /usr/bin /usr/share/doc /usr/share/lintian
       /var/lib/dkms /var/lib/dpkg/info)

echo "TAP version 13"

# --- build and lintian ------------------------------------------------------

if make -C "$REPO" --no-print-directory deb DEB_OUT="$top/deb" >"$top/deb.log" 2>&1; then
	ok "make deb"
else
	not_ok "make deb (log: $top/deb.log)"
	tap_end
fi
debs() {	# debs DIR VERSION: the .deb files of PACKAGES
	local p

	for p in "${PACKAGES[@]}"; do
		echo "$1/${p}_$2_"*.deb
	done
}
read -r -a debs1 <<<"$(debs "$top/deb" "$version" | tr '\n' ' ')"

lintian --pedantic --display-info "$top/deb/ashmem_${version}_"*.changes \
	>"$top/lintian.log" 2>&1 || true
tags=$(grep -cE '^[EW]: ' "$top/lintian.log" || true)
if [[ $tags -eq 0 ]]; then
	ok "lintian: no error and no warning"
else
	grep -E '^[EW]: ' "$top/lintian.log" | sed 's/^/# /'
	not_ok "lintian: $tags error(s) or warning(s) (log: $top/lintian.log)"
fi

dkms_deb=${debs1[0]}
# Whole outputs first: grep -q leaving early would fail the pipe.
conf=$(dpkg-deb --fsys-tarfile "$dkms_deb" |
	tar -xOf - "./usr/src/ashmem-$version/dkms.conf" || true)
if grep -qx "PACKAGE_VERSION=\"$version\"" <<<"$conf"; then
	ok "ashmem-dkms: /usr/src/ashmem-$version/dkms.conf, PACKAGE_VERSION $version"
else
	not_ok "ashmem-dkms: no dkms.conf of version $version in /usr/src/ashmem-$version"
fi
conffiles=$(dpkg-deb --ctrl-tarfile "$dkms_deb" | tar -xOf - ./conffiles || true)
contents=$(dpkg-deb -c "$dkms_deb")
if grep -qx /etc/modules-load.d/ashmem.conf <<<"$conffiles" &&
   grep -q ' \./usr/lib/udev/rules.d/60-ashmem.rules$' <<<"$contents"; then
	ok "ashmem-dkms: modules-load.d conffile, udev rule in /usr/lib/udev/rules.d"
else
	not_ok "ashmem-dkms: modules-load.d conffile or udev rule missing"
fi

# A changelog that lags behind VERSION stops make deb.
copy_sources "$work/lag"
echo "$new_version" >"$work/lag/VERSION"
if make -C "$work/lag" --no-print-directory deb DEB_OUT="$work/lag-deb" \
	>>"$logf" 2>&1; then
	not_ok "make deb refuses a VERSION that debian/changelog does not name"
else
	ok "make deb refuses a VERSION that debian/changelog does not name"
fi

# The packages of version VERSION+1, for the upgrade: a copy of the tree
# with both numbers bumped.
copy_sources "$work/v2"
echo "$new_version" >"$work/v2/VERSION"
{
	printf 'ashmem (%s) unstable; urgency=medium\n\n' "$new_version"
	printf '  * Test upload of make check-deb.\n\n'
	printf ' -- %s  %s\n\n' \
		"$(sed -n 's/^Maintainer: //p' "$REPO/debian/control")" \
		"$(date -R)"
	cat "$REPO/debian/changelog"
} >"$work/v2/debian/changelog"
expect "make deb for version $new_version (a copy of the tree)" \
	make -C "$work/v2" --no-print-directory deb DEB_OUT="$top/deb2"
read -r -a debs2 <<<"$(debs "$top/deb2" "$new_version" | tr '\n' ' ')"

# --- kernels -----------------------------------------------------------------

# Each series' kernel, its headers installed before the packages, so
# that DKMS builds for it on install.
kvers=() roots=() images=() configs=() root_kver=''
for s in "${series_list[@]}"; do
	if ! vars=$(kernel_vars "$s"); then
		not_ok "$s: cannot get the Debian kernel"
		continue
	fi
	eval "$vars"
	# shellcheck disable=SC2153 # from kernel_vars
	kvers+=("$KVER") roots+=("$ROOT") images+=("$VMLINUZ") configs+=("$KCONFIG")
	if [[ -n $ROOT ]]; then
		root_kver=$KVER
		root_setup "$ROOT" "$work/root"
		ROOT_BINDS=("$top")
	fi
done

# snapshot FILE [in-root]: the paths under WATCH, on the host or in the
# root.
snapshot() {
	if [[ ${2:-} == in-root ]]; then
		root_run find "${WATCH[@]}" -xdev 2>/dev/null | sort >"$1" || true
	else
		find "${WATCH[@]}" -xdev 2>/dev/null | sort >"$1" || true
	fi
}

# dpkg_in WHERE ARGS...: dpkg on the host or in the root.
dpkg_in() {
	local where=$1

	shift
	if [[ $where == root ]]; then
		root_run env autoinstall_all_kernels=1 dpkg "$@"
	else
		dpkg "$@"
	fi
}

# The module DKMS installed for KVER, host or root: a path on the host.
installed_ko() {	# kver where
	local base=''

	[[ $2 == root ]] && base=$(root_upper)
	find "$base/usr/lib/modules/$1/updates/dkms" -name 'ashmem.ko*' \
		2>/dev/null | head -n 1
}

# check_module KVER WHERE VERSION: DKMS built and installed VERSION.
check_module() {
	local kver=$1 where=$2 want=$3 ko v magic

	ko=$(installed_ko "$kver" "$where")
	if [[ -z $ko ]]; then
		not_ok "$kver: DKMS installed no ashmem.ko"
		return 1
	fi
	v=$(modinfo -F version "$ko")
	magic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	if [[ $v == "$want" && $magic == "$kver" ]]; then
		ok "$kver: DKMS built and installed ${ko##*/} $v"
	else
		not_ok "$kver: the installed module is version '$v' for '$magic'"
		return 1
	fi
}

# --- install -----------------------------------------------------------------

snapshot "$work/before.host"
[[ -n $root_kver ]] && snapshot "$work/before.root" in-root
if dpkg -i "${debs1[@]}" >"$top/install.log" 2>&1; then
	ok "dpkg -i ${PACKAGES[*]} $version"
else
	not_ok "dpkg -i ${PACKAGES[*]} $version (log: $top/install.log)"
fi
if [[ -n $root_kver ]]; then
	expect "$root_kver: dpkg -i ashmem-dkms $version in the Debian 13 root" \
		dpkg_in root -i "$dkms_deb"
fi
for i in "${!kvers[@]}"; do
	where=host
	[[ -n ${roots[i]} ]] && where=root
	check_module "${kvers[i]}" "$where" "$version" || true
done
# What the install added: the purge must take all of it away again.
snapshot "$work/during.host"
added=$(comm -13 "$work/before.host" "$work/during.host" | grep -c . || true)
if [[ $added -gt 0 ]]; then
	ok "the packages and DKMS added $added paths on the host"
else
	not_ok "no path added on the host: the file lists see nothing"
fi

# The library and the tool, installed: pkg-config, a program built
# against libashmem (on the host, without the module: memfd), the tool.
pc=$(pkg-config --modversion ashmem 2>>"$logf" || true)
if [[ $pc == "$version" ]]; then
	ok "pkg-config --modversion ashmem: $pc"
else
	not_ok "pkg-config --modversion ashmem: '$pc', not $version"
fi
cat >"$work/use.c" <<'EOC'
#include <cutils/ashmem.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int fd = ashmem_create_region("check-deb", 8192);

	if (fd < 0 || ashmem_get_size_region(fd) != 8192)
		return 1;
	puts("libashmem works");
	return close(fd);
}
EOC
# shellcheck disable=SC2046 # pkg-config prints separate flags
if gcc -o "$work/use" "$work/use.c" $(pkg-config --cflags --libs ashmem) \
	>>"$logf" 2>&1 && "$work/use" >>"$logf" 2>&1; then
	ok "a program built with pkg-config's flags links libashmem.so.1 and runs"
else
	not_ok "a program built against libashmem-dev fails (log: $logf)"
fi
expect "ashmem --help (ashmem-tools)" ashmem --help

# --- the modules DKMS built, in QEMU ----------------------------------------

ksft_dir=$REPO/tools/testing/selftests/ashmem
read -r -a progs <<<"$(make -s -C "$ksft_dir" print-progs)"
if build_test_programs 64 "$top/selftests" "$top" "$lsrc" >>"$logf" 2>&1; then
	ok "the kselftests build"
else
	not_ok "the kselftests do not build (log: $logf)"
fi
guest=$top/guest.sh
vm_files=()
{
	echo '# Guest script of make check-deb, written by check-deb.sh.'
	echo 'rc=0'
	for p in "${progs[@]}"; do
		[[ -x $top/selftests/$p ]] || continue
		vm_files+=(--file "$top/selftests/$p:/opt/ksft/$p")
		guest_run 64 "$p" "/opt/ksft/$p"
	done
	echo "exit \$rc"
} >"$guest"

for i in "${!kvers[@]}"; do
	kver=${kvers[i]} where=host
	[[ -n ${roots[i]} ]] && where=root
	ko=$(installed_ko "$kver" "$where")
	[[ -n $ko ]] || continue
	dir=$top/$kver
	mkdir -p "$dir"
	# vm.sh loads it with insmod, which wants it uncompressed.
	case $ko in
	*.xz)	xz -dc "$ko" >"$dir/ashmem.ko" ;;
	*)	cp "$ko" "$dir/ashmem.ko" ;;
	esac
	log "$kver: booting the module DKMS built"
	"$VM_DIR/vm.sh" --kernel "${images[i]}" --config "${configs[i]}" \
		--module "$dir/ashmem.ko" "${vm_files[@]}" \
		--log "$dir/console.log" --status "$dir/vm.status" \
		--timeout 900 "$guest" >"$dir/vm.out" 2>&1 || true
	VM_FINISHED=0 VM_SETUP=none VM_COMPLAINTS=0
	# shellcheck source=/dev/null
	[[ -e $dir/vm.status ]] && . "$dir/vm.status"
	if [[ $VM_FINISHED == 1 && $VM_SETUP == ok && $VM_COMPLAINTS -eq 0 ]]; then
		ok "$kver: the DKMS module loads, unloads, no kernel complaint"
	else
		not_ok "$kver: VM finished=$VM_FINISHED setup=$VM_SETUP complaints=$VM_COMPLAINTS (log: $dir/console.log)"
	fi
	for p in "${progs[@]}"; do
		read -r status pass fail skip note <<<"$(tap_counts "$dir/console.log" "64/$p")"
		if [[ $note == ok ]]; then
			ok "$kver: $p: $pass passed, $skip skipped"
		else
			not_ok "$kver: $p: $note, $fail failed (exit status $status)"
		fi
	done
done

# --- upgrade -----------------------------------------------------------------

declare -A old_ko
for i in "${!kvers[@]}"; do
	where=host
	[[ -n ${roots[i]} ]] && where=root
	ko=$(installed_ko "${kvers[i]}" "$where")
	[[ -n $ko ]] && old_ko[$i]="version $(modinfo -F version "$ko"), built $(date -u -r "$ko" +%T)"
done

if dpkg -i "${debs2[@]}" >"$top/upgrade.log" 2>&1; then
	ok "dpkg -i ${PACKAGES[*]} $new_version (upgrade)"
else
	not_ok "dpkg -i ${PACKAGES[*]} $new_version (log: $top/upgrade.log)"
fi
if [[ -n $root_kver ]]; then
	expect "$root_kver: dpkg -i ashmem-dkms $new_version in the root" \
		dpkg_in root -i "${debs2[0]}"
fi
for i in "${!kvers[@]}"; do
	where=host base=''
	[[ -n ${roots[i]} ]] && where=root base=$(root_upper)
	if check_module "${kvers[i]}" "$where" "$new_version"; then
		ko=$(installed_ko "${kvers[i]}" "$where")
		echo "# ${kvers[i]}: ${old_ko[$i]:-none} before the upgrade;" \
			"now version $(modinfo -F version "$ko"), built $(date -u -r "$ko" +%T)"
	fi
	if [[ -e $base/var/lib/dkms/ashmem/$version ||
	      -e $base/usr/src/ashmem-$version ]]; then
		not_ok "${kvers[i]}: version $version is still in DKMS after the upgrade"
	else
		ok "${kvers[i]}: version $version left DKMS and /usr/src"
	fi
done

# --- purge -------------------------------------------------------------------

# leftovers BEFORE WHERE: what appeared since BEFORE and is still there,
# among the paths of the packages and of DKMS. DKMS's own signing key,
# made at its first build, stays for the modules it builds later.
leftovers() {
	local before=$1 where=$2

	snapshot "$work/after.$where" "$([[ $where == root ]] && echo in-root)"
	comm -13 "$before" "$work/after.$where" |
		grep -E 'ashmem|dkms|/updates(/|$)' |
		grep -vE '^/var/lib/dkms(/mok\.(key|pub))?$' || true
}

if dpkg --purge "${PACKAGES[@]}" >"$top/purge.log" 2>&1; then
	ok "dpkg --purge ${PACKAGES[*]}"
else
	not_ok "dpkg --purge ${PACKAGES[*]} (log: $top/purge.log)"
fi
left=$(leftovers "$work/before.host" host)
if [[ -z $left ]]; then
	ok "nothing the packages or DKMS added is left on the host"
else
	printf '# left: %s\n' "${left//$'\n'/$'\n# left: '}"
	not_ok "the purge left $(wc -l <<<"$left") path(s) on the host"
fi
if [[ -n $root_kver ]]; then
	expect "$root_kver: dpkg --purge ashmem-dkms in the root" \
		dpkg_in root --purge ashmem-dkms
	left=$(leftovers "$work/before.root" root)
	if [[ -z $left ]]; then
		ok "$root_kver: nothing the package or DKMS added is left in the root"
	else
		printf '# left: %s\n' "${left//$'\n'/$'\n# left: '}"
		not_ok "the purge left $(wc -l <<<"$left") path(s) in the root"
	fi
fi

echo "# make check-deb took $((SECONDS - start))s; logs in $top"
tap_end
