# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced (POSIX sh, after kernel.sh): the initramfs a VM test boots. Two parts
# the kernel unpacks one after the other:
#   - a gzip'd base, cached in $KC_VM_DIR under a key of its inputs: static
#     busybox and its applets, guest/init, guest/kc-guest.sh, the modules of
#     KC_VM_BASE_MODULES with their dependencies (from the tree's modules.dep)
#     and a modules.dep for them, so the guest's modprobe loads them;
#   - an uncompressed cpio per test: /test.sh, host binaries with their shared
#     libraries, any other file, more modules.
# The base is padded to a multiple of 4 bytes: the kernel looks for the next
# archive's magic at a 4-byte boundary ("invalid magic" otherwise).

KC_VM_GUEST_DIR=${KC_VM_GUEST_DIR:-$KC_TOP/tests/vm/guest}
# what guest_net_up (virtio_net), guest_disk_mount (virtio_blk, ext4 and the
# crc32c its checksums ask the crypto API for) and tests (binfmt_misc) load
KC_VM_BASE_MODULES=${KC_VM_BASE_MODULES:-"virtio_pci virtio_net virtio_blk ext4 crc32c_generic binfmt_misc"}

# vm_mod_closure NAME...: relative paths (as in modules.dep) of the named
# modules and everything they depend on, dependencies first; names the
# kernel has built in are dropped; an unknown name fails
vm_mod_closure() {
	awk -v want="$*" -v builtin="$KC_VM_MODDIR/modules.builtin" '
	function norm(p, n) {
		n = p; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); gsub(/-/, "_", n); return n
	}
	function visit(n, k, a, i) {
		if (n in done) return
		done[n] = 1
		if (n in inkernel) return
		if (!(n in path)) { missing = missing " " n; return }
		k = split(deps[n], a, " ")
		for (i = 1; i <= k; i++) visit(a[i])
		print path[n]
	}
	BEGIN { while ((getline l < builtin) > 0) inkernel[norm(l)] = 1 }
	{
		f = $1; sub(/:$/, "", f); n = norm(f); path[n] = f; deps[n] = ""
		for (i = 2; i <= NF; i++) deps[n] = deps[n] " " norm($i)
	}
	END {
		k = split(want, w, " ")
		for (i = 1; i <= k; i++) { x = w[i]; gsub(/-/, "_", x); visit(x) }
		if (missing != "") { print "no such module in the kernel tree:" missing > "/dev/stderr"; exit 1 }
	}' "$KC_VM_MODDIR/modules.dep"
}

# vm_mod_stage STAGE "NAME..." ["BASE-NAME..."]: the modules NAME... and their
# dependencies into STAGE/lib/modules/<abi>/ with a modules.dep for all of
# them; those BASE-NAME... already brings (the base image's) are not copied
vm_mod_stage() {
	_vm_mods=$(vm_mod_closure $2) || vm_die "cannot resolve the modules $2"
	_vm_have=" "
	[ -n "${3:-}" ] && _vm_have=" $(vm_mod_closure $3 | tr '\n' ' ')"
	_vm_md=$1/lib/modules/$KC_VM_ABI
	mkdir -p "$_vm_md"
	for _vm_m in $_vm_mods; do
		case "$_vm_have" in *" $_vm_m "*) continue ;; esac
		mkdir -p "$_vm_md/$(dirname "$_vm_m")"
		cp "$KC_VM_MODDIR/$_vm_m" "$_vm_md/$_vm_m" || vm_die "cannot copy module $_vm_m"
	done
	cp "$KC_VM_MODDIR/modules.builtin" "$KC_VM_MODDIR/modules.order" "$_vm_md/"
	echo "$_vm_mods" | awk 'NR == FNR { have[$1] = 1; next } { f = $1; sub(/:$/, "", f) } f in have' \
		- "$KC_VM_MODDIR/modules.dep" >"$_vm_md/modules.dep"
}

# vm_cpio DIR OUT: DIR as an uncompressed newc archive, every file owned by root
vm_cpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2" ||
		vm_die "cannot write the cpio archive $2"
}

# vm_base_initramfs: sets KC_VM_BASE to the cached base image, building it
# when its inputs changed
vm_base_initramfs() {
	_vm_key=$( (
		echo "$KC_VM_ABI $KC_VM_BASE_MODULES"
		cat /bin/busybox "$KC_VM_GUEST_DIR/init" "$KC_VM_GUEST_DIR/kc-guest.sh" "$KC_VM_GUEST_DIR/../initramfs.sh"
	) | sha256sum | cut -c1-16)
	KC_VM_BASE=$KC_VM_DIR/base-$_vm_key.cpio.gz
	export KC_VM_BASE
	[ -f "$KC_VM_BASE" ] && return 0
	(
		flock -w 300 9 || vm_die "timed out waiting for the lock on $KC_VM_DIR/base.lock"
		[ -f "$KC_VM_BASE" ] && exit 0
		# bases of older inputs, unused for a while
		find "$KC_VM_DIR" -maxdepth 1 -name 'base-*.cpio.gz' -mmin +60 -delete
		_vm_s=$(mktemp -d "$KC_VM_DIR/base.XXXXXX") || vm_die "cannot create a staging dir in $KC_VM_DIR"
		for _vm_d in bin sbin usr/bin usr/sbin proc sys dev tmp run var etc root mnt lib; do
			mkdir -p "$_vm_s/$_vm_d"
		done
		cp /bin/busybox "$_vm_s/bin/busybox"
		for _vm_a in $(/bin/busybox --list-full); do
			[ -e "$_vm_s/$_vm_a" ] || ln -s /bin/busybox "$_vm_s/$_vm_a"
		done
		# without a console node the kernel starts init with no stdio
		mknod -m 600 "$_vm_s/dev/console" c 5 1 2>/dev/null
		mknod -m 666 "$_vm_s/dev/null" c 1 3 2>/dev/null
		install -m 755 "$KC_VM_GUEST_DIR/init" "$_vm_s/init"
		install -m 644 "$KC_VM_GUEST_DIR/kc-guest.sh" "$_vm_s/lib/kc-guest.sh"
		printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
			>"$_vm_s/etc/passwd"
		printf 'root:x:0:\nnogroup:x:65534:\n' >"$_vm_s/etc/group"
		echo kc-guest >"$_vm_s/etc/hostname"
		: >"$_vm_s/etc/kc-modules.boot"
		vm_mod_stage "$_vm_s" "$KC_VM_BASE_MODULES"
		vm_cpio "$_vm_s" "$_vm_s.cpio"
		gzip -6 -n <"$_vm_s.cpio" >"$_vm_s.gz" || vm_die "cannot compress the base initramfs"
		_vm_sz=$(stat -c %s "$_vm_s.gz")
		head -c $(((4 - _vm_sz % 4) % 4)) /dev/zero >>"$_vm_s.gz"
		mv -f "$_vm_s.gz" "$KC_VM_BASE"
		rm -rf "$_vm_s" "$_vm_s.cpio"
		vm_log "base initramfs $KC_VM_BASE ($(stat -c %s "$KC_VM_BASE") bytes)"
	) 9>>"$KC_VM_DIR/base.lock" || exit $?
}

# vm_stage_bin STAGE BIN DEST: BIN at STAGE/DEST, and every shared library
# ldd finds for it (the dynamic loader too) at its own absolute path, so
# RUNPATHs into a build tree keep working in the guest
vm_stage_bin() {
	[ -f "$2" ] && [ -x "$2" ] || vm_die "vm_initramfs: $2 is not an executable file"
	mkdir -p "$1/$(dirname "$3")"
	cp -L "$2" "$1/$3" || vm_die "cannot copy $2"
	_vm_ldd=$(ldd "$2" 2>&1)
	case "$_vm_ldd" in
	*"not a dynamic executable"* | *"statically linked"*) return 0 ;;
	*"not found"*) vm_die "vm_initramfs: a library of $2 is missing: $(echo "$_vm_ldd" | grep 'not found' | head -1)" ;;
	esac
	for _vm_l in $(echo "$_vm_ldd" | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		[ -e "$1/$_vm_l" ] && continue
		mkdir -p "$1/$(dirname "$_vm_l")"
		cp -L "$_vm_l" "$1/$_vm_l" || vm_die "cannot copy $_vm_l (a library of $2)"
	done
}

# vm_initramfs OUT [OPTION]...: the base image followed by this test's files
#   --test FILE          the test script, /test.sh in the guest
#   --bin PATH[:DEST]    a host program with its libraries (DEST: /usr/bin/NAME)
#   --file SRC:DEST      a file (DEST a full path in the guest; mode kept)
#   --dir SRC:DEST       a directory tree
#   --module NAME        a module of the kernel tree and its dependencies,
#                        loaded by init before the test starts
# Calls vm_kernel_prepare if the caller has not.
vm_initramfs() {
	[ -n "${KC_VM_DIR:-}" ] || vm_kernel_prepare
	vm_base_initramfs
	_vm_out=$1
	shift
	[ -n "$_vm_out" ] || vm_die "vm_initramfs: no output file"
	# in the test's own temp dir when there is one: its exit trap cleans up
	_vm_s=$(mktemp -d "${T:-${TMPDIR:-/tmp}}/kc-vm-stage.XXXXXX") || vm_die "cannot create a staging dir"
	_vm_boot=""
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || vm_die "vm_initramfs: $1 needs an argument"
		case "$1" in
		--test) mkdir -p "$_vm_s" && cp "$2" "$_vm_s/test.sh" || vm_die "cannot copy $2" ;;
		--bin)
			case "$2" in
			*:*) vm_stage_bin "$_vm_s" "${2%%:*}" "${2#*:}" ;;
			*) vm_stage_bin "$_vm_s" "$2" "/usr/bin/$(basename "$2")" ;;
			esac
			;;
		--file)
			case "$2" in *:/*) ;; *) vm_die "vm_initramfs: --file $2: expected SRC:/DEST" ;; esac
			mkdir -p "$_vm_s/$(dirname "${2#*:}")"
			cp -L -p "${2%%:*}" "$_vm_s/${2#*:}" || vm_die "cannot copy ${2%%:*}"
			;;
		--dir)
			case "$2" in *:/*) ;; *) vm_die "vm_initramfs: --dir $2: expected SRC:/DEST" ;; esac
			mkdir -p "$_vm_s/${2#*:}"
			cp -a "${2%%:*}/." "$_vm_s/${2#*:}/" || vm_die "cannot copy ${2%%:*}"
			;;
		--module) _vm_boot="$_vm_boot $2" ;;
		*) vm_die "vm_initramfs: unknown option $1" ;;
		esac
		shift 2
	done
	if [ -n "$_vm_boot" ]; then
		vm_mod_stage "$_vm_s" "$KC_VM_BASE_MODULES $_vm_boot" "$KC_VM_BASE_MODULES"
		mkdir -p "$_vm_s/etc"
		for _vm_m in $_vm_boot; do echo "$_vm_m"; done >"$_vm_s/etc/kc-modules.boot"
	fi
	vm_cpio "$_vm_s" "$_vm_s.cpio"
	cat "$KC_VM_BASE" "$_vm_s.cpio" >"$_vm_out.tmp" && mv -f "$_vm_out.tmp" "$_vm_out" ||
		vm_die "cannot write $_vm_out"
	rm -rf "$_vm_s" "$_vm_s.cpio"
}

# vm_disk_new FILE SIZE [DIR]: an ext4 image of SIZE (truncate's syntax, e.g.
# 64M) holding a copy of DIR, for guest_disk_mount; an existing FILE is replaced
vm_disk_new() {
	rm -f "$1"
	truncate -s "$2" "$1" || vm_die "cannot create the disk image $1"
	if [ -n "${3:-}" ]; then
		mke2fs -q -F -t ext4 -L kc-disk -d "$3" "$1" || vm_die "mke2fs failed on $1"
	else
		mke2fs -q -F -t ext4 -L kc-disk "$1" || vm_die "mke2fs failed on $1"
	fi
}

# vm_disk_cat FILE PATH: the file PATH inside the ext4 image FILE, on stdout
# (the state a guest left on its disk, read on the host without mounting)
vm_disk_cat() {
	debugfs -R "cat $2" "$1" 2>/dev/null
}
