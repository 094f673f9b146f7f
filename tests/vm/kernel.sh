# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced (POSIX sh): the Debian kernel a VM test boots. vm_kernel_prepare finds
# the ABI of the installed headers and fills a cache directory with that
# kernel's image package, its `dpkg -x` tree (with a modules.dep, which the
# package leaves to depmod at install time) and the uncompressed vmlinux that
# QEMU boots through its PVH entry. It does not build initramfs images
# (initramfs.sh) nor run QEMU (run.sh).
#
# Several tests may prepare the same cache at once: the work runs under flock
# and every product is written under a temporary name, then renamed, so a
# reader sees a whole file or none.

# vm_skip / vm_die: the test framework's conventions (77 skips)
vm_skip() {
	echo "SKIP: $*"
	exit 77
}

vm_die() {
	echo "FAIL: $*" >&2
	exit 1
}

vm_log() {
	echo "# vm: $*"
}

# vm_pkg_installed PKG
vm_pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# vm_need_tools: qemu, busybox-static, cpio, xz; installs what is missing when
# root (apt-get install only), else skips
vm_need_tools() {
	_vm_missing=""
	command -v qemu-system-x86_64 >/dev/null 2>&1 || _vm_missing="$_vm_missing qemu-system-x86"
	[ -f /usr/share/qemu/qboot.rom ] || _vm_missing="$_vm_missing qemu-system-data"
	[ -x /bin/busybox ] && vm_pkg_installed busybox-static || _vm_missing="$_vm_missing busybox-static"
	command -v cpio >/dev/null 2>&1 || _vm_missing="$_vm_missing cpio"
	command -v xz >/dev/null 2>&1 || _vm_missing="$_vm_missing xz-utils"
	command -v flock >/dev/null 2>&1 || _vm_missing="$_vm_missing util-linux"
	command -v mke2fs >/dev/null 2>&1 || _vm_missing="$_vm_missing e2fsprogs"
	[ -z "$_vm_missing" ] && return 0
	[ "$(id -u)" = 0 ] || vm_skip "VM tests need$_vm_missing (not root, cannot install)"
	vm_log "installing$_vm_missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $_vm_missing >/dev/null 2>&1 ||
		vm_skip "VM tests need$_vm_missing, which apt-get cannot install"
}

# vm_newest_abi: the newest ABI of /usr/src/linux-headers-<N>-amd64 (not
# the -cloud- or -rt- flavours)
vm_newest_abi() {
	ls -d /usr/src/linux-headers-*[0-9]-amd64 2>/dev/null | sed 's|^/usr/src/linux-headers-||' | sort -V | tail -1
}

# vm_find_abi: vm_newest_abi (KC_VM_ABI overrides) into KC_VM_ABI and
# KC_VM_HEADERS; installs linux-headers-amd64 when there is none
vm_find_abi() {
	if [ -z "${KC_VM_ABI:-}" ]; then
		KC_VM_ABI=$(vm_newest_abi)
		if [ -z "$KC_VM_ABI" ] && [ "$(id -u)" = 0 ]; then
			vm_log "installing linux-headers-amd64"
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends linux-headers-amd64 \
				>/dev/null 2>&1 || vm_skip "no kernel headers in /usr/src and linux-headers-amd64 cannot be installed"
			KC_VM_ABI=$(vm_newest_abi)
		fi
		[ -n "$KC_VM_ABI" ] || vm_skip "no kernel headers in /usr/src (linux-headers-amd64 is not installed)"
	fi
	case "$KC_VM_ABI" in
	*[!A-Za-z0-9._+-]* | "") vm_die "KC_VM_ABI '$KC_VM_ABI' is not a kernel release name" ;;
	esac
	KC_VM_HEADERS=/usr/src/linux-headers-$KC_VM_ABI
	if [ ! -f "$KC_VM_HEADERS/Makefile" ]; then
		[ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			"linux-headers-$KC_VM_ABI" >/dev/null 2>&1
		[ -f "$KC_VM_HEADERS/Makefile" ] || vm_skip "no headers for kernel $KC_VM_ABI in $KC_VM_HEADERS"
	fi
	export KC_VM_ABI KC_VM_HEADERS
}

# vm_fetch_deb DIR: the image package of KC_VM_ABI into DIR (signed name first:
# the kernel inside is the same, only the EFI image carries a signature)
vm_fetch_deb() {
	for _vm_pkg in "linux-image-$KC_VM_ABI" "linux-image-$KC_VM_ABI-unsigned"; do
		apt-cache show "$_vm_pkg" >/dev/null 2>&1 || continue
		(cd "$1" && apt-get download "$_vm_pkg" >download.log 2>&1) && ls "$1/$_vm_pkg"_*.deb >/dev/null 2>&1 &&
			return 0
	done
	vm_die "cannot download linux-image-$KC_VM_ABI: $(tail -1 "$1/download.log" 2>/dev/null || echo 'no such package in apt')"
}

# vm_extract_vmlinux BZIMAGE OUT: the kernel proper is an xz stream that starts
# payload_offset (boot protocol header, 0x248) bytes after the real-mode setup
# sectors; --single-stream stops at its end, before the size trailer
vm_extract_vmlinux() {
	_vm_ss=$(od -An -tu1 -j497 -N1 "$1" | tr -d ' ')
	[ "$_vm_ss" = 0 ] && _vm_ss=4
	_vm_po=$(od -An -tu4 -j584 -N4 "$1" | tr -d ' ')
	[ -n "$_vm_ss" ] && [ -n "$_vm_po" ] || vm_die "$1 is not a bzImage"
	_vm_off=$(((_vm_ss + 1) * 512 + _vm_po))
	[ "$(tail -c +$((_vm_off + 1)) "$1" | head -c 6 | od -An -tx1 | tr -d ' ')" = fd377a585a00 ] ||
		vm_die "the payload of $1 is not xz (only xz-compressed kernels are supported)"
	tail -c +$((_vm_off + 1)) "$1" | xz -dc --single-stream >"$2.tmp" || vm_die "cannot decompress the kernel in $1"
	mv -f "$2.tmp" "$2"
}

# vm_kernel_prepare: sets and exports KC_VM_ABI, KC_VM_HEADERS, KC_VM_CACHE,
# KC_VM_DIR (cache for this ABI), KC_VM_DEB, KC_VM_TREE (the dpkg -x root:
# boot/System.map-<abi>, boot/vmlinuz-<abi>, lib/modules/<abi>/),
# KC_VM_MODDIR (its lib/modules/<abi>), KC_VM_VMLINUX, KC_VM_SYSTEM_MAP (a
# real one: see vm_kernel_identify), KC_VM_BUILD_ID, KC_VM_KERNEL_ID.
# Idempotent; the first call per ABI takes about 20 s, later ones nothing.
vm_kernel_prepare() {
	vm_need_tools
	vm_find_abi
	: "${KC_VM_CACHE:=${KC_BUILD:?KC_BUILD is not set}/vm-cache}"
	KC_VM_DIR=$KC_VM_CACHE/$KC_VM_ABI
	KC_VM_TREE=$KC_VM_DIR/tree
	KC_VM_MODDIR=$KC_VM_TREE/lib/modules/$KC_VM_ABI
	KC_VM_VMLINUX=$KC_VM_DIR/vmlinux
	KC_VM_SYSTEM_MAP=$KC_VM_TREE/boot/System.map-$KC_VM_ABI
	export KC_VM_CACHE KC_VM_DIR KC_VM_TREE KC_VM_MODDIR KC_VM_VMLINUX KC_VM_SYSTEM_MAP
	if [ ! -f "$KC_VM_DIR/ready" ]; then
		mkdir -p "$KC_VM_DIR" || vm_die "cannot create $KC_VM_DIR"
		(
			flock -w 600 9 || vm_die "timed out waiting for the lock on $KC_VM_DIR"
			[ -f "$KC_VM_DIR/ready" ] && exit 0
			_vm_t0=$(date +%s)
			ls "$KC_VM_DIR"/linux-image-*.deb >/dev/null 2>&1 || vm_fetch_deb "$KC_VM_DIR"
			_vm_deb=$(ls "$KC_VM_DIR"/linux-image-*.deb | head -1)
			if [ ! -f "$KC_VM_MODDIR/modules.dep" ]; then
				rm -rf "$KC_VM_DIR/tree.tmp" "$KC_VM_TREE"
				dpkg -x "$_vm_deb" "$KC_VM_DIR/tree.tmp" || vm_die "cannot unpack $_vm_deb"
				busybox depmod -b "$KC_VM_DIR/tree.tmp" "$KC_VM_ABI" ||
					vm_die "depmod failed on the modules of $KC_VM_ABI"
				mv "$KC_VM_DIR/tree.tmp" "$KC_VM_TREE"
			fi
			[ -f "$KC_VM_VMLINUX" ] || vm_extract_vmlinux "$KC_VM_TREE/boot/vmlinuz-$KC_VM_ABI" "$KC_VM_VMLINUX"
			touch "$KC_VM_DIR/ready"
			vm_log "kernel $KC_VM_ABI prepared in $KC_VM_DIR in $(($(date +%s) - _vm_t0)) s"
		) 9>>"$KC_VM_DIR/lock" || exit $?
	fi
	KC_VM_DEB=$(ls "$KC_VM_DIR"/linux-image-*.deb 2>/dev/null | head -1)
	export KC_VM_DEB
	[ -f "$KC_VM_DIR/identity" ] || vm_kernel_identify
	KC_VM_BUILD_ID=$(sed -n 's/^build_id //p' "$KC_VM_DIR/identity")
	KC_VM_KERNEL_ID=$(sed -n 's/^kernel_id //p' "$KC_VM_DIR/identity")
	export KC_VM_BUILD_ID KC_VM_KERNEL_ID
}

# vm_kernel_identify: boots the kernel once (about 5 s) to learn what only
# the running kernel tells: Debian's package carries a one-line stub for
# System.map (the real one is in the -dbg package, about 1 GB), so the map is
# rebuilt from /proc/kallsyms of a guest booted with nokaslr, where addresses
# are the link addresses and the order is the one livepatch's sympos counts
# in; the stub is kept beside it as .debian. Also records in
# $KC_VM_DIR/identity the GNU build-id of /sys/kernel/notes and the sha1 of
# /proc/version (kcare's kernel id), and /proc/version itself in
# $KC_VM_DIR/proc-version. Needs initramfs.sh and run.sh (vm.sh loads them).
vm_kernel_identify() {
	(
		flock -w 300 9 || vm_die "timed out waiting for the lock on $KC_VM_DIR/identity"
		[ -f "$KC_VM_DIR/identity" ] && exit 0
		_vm_w=$(mktemp -d "$KC_VM_DIR/identify.XXXXXX") || vm_die "cannot create a temp dir in $KC_VM_DIR"
		cat >"$_vm_w/test.sh" <<'GUEST'
echo 0 >/proc/sys/kernel/kptr_restrict
modprobe virtio_pci && modprobe virtio_blk && guest_wait 10 test -b /dev/vda || exit 1
# the map first: loading modules later would add their symbols
{ cat /proc/version; echo KC-END; grep -v '\[' /proc/kallsyms; echo KC-END; } >/dev/vda || exit 1
sync
result build_id "$(od -An -tx1 -v /sys/kernel/notes | tr -d ' \n' | sed -n 's/.*040000001400000003000000474e5500\([0-9a-f]\{40\}\).*/\1/p')"
GUEST
		truncate -s 64M "$_vm_w/disk" || vm_die "cannot create $_vm_w/disk"
		vm_initramfs "$_vm_w/initrd" --test "$_vm_w/test.sh"
		vm_run --initrd "$_vm_w/initrd" --out "$_vm_w/boot" --disk "$_vm_w/disk" --append nokaslr \
			--timeout 120 || vm_die "the kernel identification boot failed (kept in $_vm_w)"
		_vm_map=$KC_VM_TREE/boot/System.map-$KC_VM_ABI
		tr -d '\000' <"$_vm_w/disk" >"$_vm_w/out"
		awk '/^KC-END$/ { exit } { print }' "$_vm_w/out" >"$_vm_w/proc-version"
		awk 'n == 1 && /^KC-END$/ { exit } n == 1 { print } /^KC-END$/ { n++ }' "$_vm_w/out" >"$_vm_w/map"
		[ "$(wc -l <"$_vm_w/map")" -gt 10000 ] || vm_die "the kallsyms of the guest are incomplete (kept in $_vm_w)"
		_vm_bid=$(vm_result "$_vm_w/boot" build_id)
		[ ${#_vm_bid} = 40 ] || vm_die "no build-id in the guest's /sys/kernel/notes (kept in $_vm_w)"
		# the note read in the guest is the one of the vmlinux booted
		readelf -n "$KC_VM_VMLINUX" 2>/dev/null | grep -q "Build ID: $_vm_bid" ||
			vm_die "the guest's build-id $_vm_bid is not the one of $KC_VM_VMLINUX"
		[ -f "$_vm_map.debian" ] || cp -p "$_vm_map" "$_vm_map.debian"
		mv -f "$_vm_w/map" "$_vm_map"
		mv -f "$_vm_w/proc-version" "$KC_VM_DIR/proc-version"
		printf 'build_id %s\nkernel_id %s\n' "$_vm_bid" "$(sha1sum <"$KC_VM_DIR/proc-version" | cut -c1-40)" \
			>"$KC_VM_DIR/identity.tmp"
		mv -f "$KC_VM_DIR/identity.tmp" "$KC_VM_DIR/identity"
		rm -rf "$_vm_w"
		vm_log "kernel $KC_VM_ABI: build-id $_vm_bid, $(wc -l <"$_vm_map") symbols in $_vm_map"
	) 9>>"$KC_VM_DIR/identity.lock" || exit $?
}
