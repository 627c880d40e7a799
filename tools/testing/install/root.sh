# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The Debian 13 build root of debian13-root.sh, with what the install
# checks need on top of it: dkms, kmod (depmod, modinfo), xz-utils (the
# kernel's modules_install compresses) and openssl (DKMS's signing key).
# Sourced by check-install.sh, check-dkms.sh and check-deb.sh after
# lib.sh.
#
# The extra packages are a layer of their own, made once per root in the
# cache (an overlayfs upper directory) and never written afterwards; each
# run puts a scratch layer on top, so that what a check installs, builds
# or removes is gone with the scratch directory, and the cached root and
# layer stay as they were.
#
#   root_setup ROOT SCRATCH   make or reuse the layer for ROOT; SCRATCH is
#                             an empty directory for this run's layer
#   root_run CMD...           run CMD in the root (in-root.sh), with the
#                             directories of ROOT_BINDS bound at their
#                             own paths besides the repository
#   root_upper                the scratch layer: what the runs changed

ROOT_EXTRA_PACKAGES=(dkms kmod xz-utils openssl)
ROOT_BINDS=()

# root_mount LOWER UPPER WORK MNT CMD...: CMD with the overlay mounted at
# MNT, in a mount namespace of its own: the mount dies with CMD.
root_mount() {
	local lower=$1 upper=$2 wdir=$3 mnt=$4

	shift 4
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private -- sh -c '
		mount -t overlay overlay \
			-o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" || exit 1
		shift 4
		exec "$@"
	' sh "$lower" "$upper" "$wdir" "$mnt" "$@"
}

root_setup() {
	local root=$1 scratch=$2 want layer new

	ROOT_BASE=$root
	ROOT_EXTRA=$CACHE/debian13-extra/$(basename "$root")
	ROOT_SCRATCH=$scratch
	want="$(cat "$root/.ashmem-root") extra=${ROOT_EXTRA_PACKAGES[*]}"
	layer=$ROOT_EXTRA/layer
	mkdir -p "$ROOT_EXTRA"
	exec {extra_lock}>"$ROOT_EXTRA/lock"
	flock "$extra_lock"
	if [[ ! -e $ROOT_EXTRA/marker || $(cat "$ROOT_EXTRA/marker") != "$want" ]]; then
		log "adding ${ROOT_EXTRA_PACKAGES[*]} to the Debian 13 root, in a layer of its own"
		rm -rf "$layer" "$ROOT_EXTRA/marker"
		new=$(mktemp -d "$ROOT_EXTRA/new.XXXXXX")
		mkdir -p "$new/upper" "$new/work" "$new/mnt"
		# shellcheck disable=SC2016 # expanded by the inner shell
		if ! root_mount "$root" "$new/upper" "$new/work" "$new/mnt" \
			chroot "$new/mnt" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive sh -c '
				apt-get -q update &&
				apt-get -q install -y --no-install-recommends "$@" &&
				apt-get clean' sh "${ROOT_EXTRA_PACKAGES[@]}" >&2; then
			rm -rf "$new"
			flock -u "$extra_lock"
			die "cannot install ${ROOT_EXTRA_PACKAGES[*]} in the Debian 13 root"
		fi
		mv "$new/upper" "$layer"
		rm -rf "$new"
		echo "$want" >"$ROOT_EXTRA/marker"
	fi
	flock -u "$extra_lock"
	mkdir -p "$scratch/upper" "$scratch/work" "$scratch/mnt"
}

root_run() {
	local binds=() d

	for d in "${ROOT_BINDS[@]}"; do
		binds+=(-b "$d")
	done
	root_mount "$ROOT_EXTRA/layer:$ROOT_BASE" "$ROOT_SCRATCH/upper" \
		"$ROOT_SCRATCH/work" "$ROOT_SCRATCH/mnt" \
		"$VM_DIR/in-root.sh" "${binds[@]}" "$ROOT_SCRATCH/mnt" "$@"
}

root_upper() {
	echo "$ROOT_SCRATCH/upper"
}
