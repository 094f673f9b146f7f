# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced (POSIX sh, after kernel.sh): boots KC_VM_VMLINUX under QEMU (TCG, no
# KVM here) with a test's initramfs and judges the run from what the guest
# printed, never from QEMU's exit status (a panic with -no-reboot exits 0).
# Kernel messages go to PREFIX.console (serial 0), result lines to
# PREFIX.results (serial 1): files, because a slow pipe throttles the guest.

# kernel log lines that fail a run unless the test allows them (--allow);
# only after a printk timestamp, so that the test's own output on the same
# console (a grep for "Oops", say) does not count
KC_VM_BAD='\[ *[0-9]+\.[0-9]+\] .*(BUG:|Oops|general protection fault|WARNING:|Call Trace|Kernel panic|kernel BUG at|blocked for more than|rcu_.*stall|UBSAN:|KASAN:)'

# vm_result PREFIX KEY: the value of the last "KC-RESULT KEY ..." line
vm_result() {
	sed -n "s/^KC-RESULT $2 //p" "$1.results" 2>/dev/null | tr -d '\r' | tail -1
}

# vm_expect_ok PREFIX NAME...: the guest reported "ok NAME" for every NAME
# (a guest script that stopped early reports none); prints the missing ones
vm_expect_ok() {
	_vm_p=$1
	shift
	_vm_miss=""
	for _vm_c; do
		grep -q "^KC-RESULT ok $_vm_c\$" "$_vm_p.results" 2>/dev/null || _vm_miss="$_vm_miss $_vm_c"
	done
	[ -z "$_vm_miss" ] && return 0
	echo "$(basename "$_vm_p"): no 'ok' result for:$_vm_miss" >&2
	return 1
}

# vm_run [OPTION]...: boots the guest, waits for it (bounded) and returns 0
# only if the guest printed "KC-DONE 0", reported no not_ok and the kernel
# logged nothing matching KC_VM_BAD; else prints why on stderr and returns 1.
#   --initrd FILE     from vm_initramfs (required)
#   --out PREFIX      PREFIX.console, PREFIX.results (required)
#   --cpus N          vCPUs (default 1)
#   --mem SIZE        guest memory (default 512M)
#   --disk FILE       a raw disk image, /dev/vda in the guest (vm_disk_new)
#   --net             QEMU user networking, virtio-net; guest_net_up configures
#                     it; the host's 127.0.0.1 is 10.0.2.2 in the guest
#   --append ARGS     more kernel command line (kc.NAME=VALUE for guest_arg)
#   --timeout S       kill the guest after S seconds (default 120)
#   --allow REGEX     kernel log lines matching REGEX are expected (an oops
#                     test); also drops oops=panic from the command line
#   --qemu ARGS       more QEMU arguments (split at blanks)
#   --shell           interactive: console on this terminal, a shell after
#                     the test (kc.shell), no timeout
# Sets KC_VM_MS to the wall time of the run in milliseconds.
vm_run() {
	_vm_initrd="" _vm_out="" _vm_cpus=1 _vm_mem=512M _vm_disk="" _vm_net="" _vm_append="" _vm_tmo=120
	_vm_allow="" _vm_shell="" _vm_qemu=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--net) _vm_net=1 && shift && continue ;;
		--shell) _vm_shell=1 && shift && continue ;;
		esac
		[ $# -ge 2 ] || vm_die "vm_run: $1 needs an argument"
		case "$1" in
		--initrd) _vm_initrd=$2 ;;
		--out) _vm_out=$2 ;;
		--cpus) _vm_cpus=$2 ;;
		--mem) _vm_mem=$2 ;;
		--disk) _vm_disk=$2 ;;
		--append) _vm_append="$_vm_append $2" ;;
		--timeout) _vm_tmo=$2 ;;
		--allow) _vm_allow=$2 ;;
		--qemu) _vm_qemu="$_vm_qemu $2" ;;
		*) vm_die "vm_run: unknown option $1" ;;
		esac
		shift 2
	done
	[ -f "$_vm_initrd" ] || vm_die "vm_run: no initramfs '$_vm_initrd'"
	[ -n "$_vm_out" ] || vm_die "vm_run: no --out PREFIX"
	[ -f "${KC_VM_VMLINUX:-}" ] || vm_die "vm_run: no kernel (call vm_kernel_prepare first)"
	case "$_vm_cpus$_vm_tmo" in *[!0-9]*) vm_die "vm_run: --cpus and --timeout take numbers" ;; esac

	_vm_cmdline="console=ttyS0 panic=-1 loglevel=5 rdinit=/init i8042.noaux i8042.nokbd$_vm_append"
	[ -n "$_vm_allow" ] || _vm_cmdline="$_vm_cmdline oops=panic"
	[ -n "$_vm_shell" ] && _vm_cmdline="$_vm_cmdline kc.shell"
	# RDRAND (which TCG emulates) lets the kernel seed its random pool at boot:
	# without it the first getrandom() waits about 1 s for jitter entropy
	set -- -nodefaults -no-user-config -machine pc,accel=tcg -cpu qemu64,+rdrand -smp "$_vm_cpus" -m "$_vm_mem" \
		-bios /usr/share/qemu/qboot.rom -kernel "$KC_VM_VMLINUX" -initrd "$_vm_initrd" \
		-append "$_vm_cmdline" -display none -no-reboot
	if [ -n "$_vm_net" ]; then
		set -- "$@" -nic user,model=virtio-net-pci
	else
		set -- "$@" -nic none
	fi
	[ -n "$_vm_disk" ] && set -- "$@" -drive "file=$_vm_disk,format=raw,if=virtio"
	# shellcheck disable=SC2086 # ARGS are words
	[ -n "$_vm_qemu" ] && set -- "$@" $_vm_qemu
	rm -f "$_vm_out.console" "$_vm_out.results"
	if [ -n "$_vm_shell" ]; then
		qemu-system-x86_64 "$@" -serial mon:stdio -serial "file:$_vm_out.results"
		return 0
	fi

	_vm_t0=$(date +%s%3N)
	qemu-system-x86_64 "$@" -serial "file:$_vm_out.console" -serial "file:$_vm_out.results" \
		</dev/null >"$_vm_out.qemu" 2>&1 &
	_vm_pid=$!
	# lib.sh's exit trap kills it if the test dies first
	command -v track >/dev/null 2>&1 && track $_vm_pid
	# by the clock, checked every 0.5 s: a loaded host stretches the sleeps
	_vm_end=$(($(date +%s%3N) + _vm_tmo * 1000))
	_vm_n=0
	_vm_timedout=""
	while kill -0 $_vm_pid 2>/dev/null; do
		sleep 0.05
		_vm_n=$((_vm_n + 1))
		[ $((_vm_n % 10)) = 0 ] && [ "$(date +%s%3N)" -ge $_vm_end ] && _vm_timedout=1 && break
	done
	if [ -n "$_vm_timedout" ]; then
		kill -9 $_vm_pid 2>/dev/null
	fi
	wait $_vm_pid 2>/dev/null
	KC_VM_MS=$(($(date +%s%3N) - _vm_t0))
	export KC_VM_MS

	_vm_why=""
	_vm_done=$(sed -n 's/^KC-DONE \([0-9]*\).*/\1/p' "$_vm_out.results" 2>/dev/null | tail -1)
	if [ -n "$_vm_timedout" ]; then
		_vm_why="the guest did not finish within $_vm_tmo s"
	elif [ -z "$_vm_done" ]; then
		_vm_why="the guest stopped without KC-DONE (panic, or init died)"
	elif [ "$_vm_done" != 0 ]; then
		_vm_why="the test exited $_vm_done"
	fi
	if grep -q '^KC-RESULT not_ok ' "$_vm_out.results" 2>/dev/null; then
		_vm_why="${_vm_why:+$_vm_why; }checks failed"
	fi
	_vm_bad=$(grep -E "$KC_VM_BAD" "$_vm_out.console" 2>/dev/null |
		{ if [ -n "$_vm_allow" ]; then grep -Ev -- "$_vm_allow"; else cat; fi; } | head -5)
	[ -n "$_vm_bad" ] && _vm_why="${_vm_why:+$_vm_why; }the kernel logged an error"
	_vm_up=$(vm_result "$_vm_out" boot_ms)
	vm_log "$(basename "$_vm_out"): $_vm_cpus vCPU, ${KC_VM_MS} ms, guest up at ${_vm_up:-?} ms"
	[ -z "$_vm_why" ] && return 0

	{
		echo "vm_run $(basename "$_vm_out"): $_vm_why"
		grep '^KC-RESULT not_ok ' "$_vm_out.results" 2>/dev/null | sed 's/^/  /'
		[ -n "$_vm_bad" ] && echo "$_vm_bad" | sed 's/^/  kernel: /'
		[ -s "$_vm_out.qemu" ] && sed 's/^/  qemu: /' "$_vm_out.qemu"
		echo "--- last lines of $_vm_out.console:"
		tail -25 "$_vm_out.console" 2>/dev/null
	} >&2
	return 1
}
