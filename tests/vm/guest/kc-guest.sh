# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for a VM test script (/test.sh, sourced by /init before it runs the
# test: a test uses them directly). Results go to the second serial port
# (/dev/ttyS1) as "KC-RESULT KEY VALUE..." lines, apart from the kernel's
# messages; the host's vm_run reads them. Every wait here is bounded.

KC_RESULT_TTY=${KC_RESULT_TTY:-/dev/ttyS1}

# result KEY VALUE...: one result line for the host (also echoed to the console)
result() {
	if [ "$1" = KC-DONE ]; then
		echo "KC-DONE $2" >"$KC_RESULT_TTY"
	else
		echo "KC-RESULT $*" >"$KC_RESULT_TTY"
	fi
	echo "result: $*"
}

# ok NAME / not_ok NAME REASON...: a named check passed / failed; any not_ok
# makes the run fail (init turns a 0 exit into 1)
ok() {
	result ok "$1"
}

not_ok() {
	_kg_name=$1
	shift
	: >/run/kc-not-ok
	result not_ok "$_kg_name" "$*"
}

# check NAME CMD...: ok NAME when CMD succeeds, else not_ok with its output
check() {
	_kg_name=$1
	shift
	if _kg_out=$("$@" 2>&1); then
		ok "$_kg_name"
	else
		not_ok "$_kg_name" "$* failed: $(echo "$_kg_out" | tail -1)"
	fi
}

# guest_ms: milliseconds since boot (10 ms resolution)
guest_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# guest_arg NAME: the value of kc.NAME=VALUE (or "1" for a bare kc.NAME) on the
# kernel command line; status 1 when absent
guest_arg() {
	for _kg_w in $(cat /proc/cmdline); do
		case "$_kg_w" in
		"kc.$1") echo 1 && return 0 ;;
		"kc.$1="*) echo "${_kg_w#*=}" && return 0 ;;
		esac
	done
	return 1
}

# guest_wait TIMEOUT CMD...: polls CMD every 10 ms until it succeeds; 1 after
# TIMEOUT seconds
guest_wait() {
	_kg_n=$(($1 * 100))
	shift
	while ! "$@" >/dev/null 2>&1; do
		_kg_n=$((_kg_n - 1))
		[ $_kg_n -gt 0 ] || return 1
		usleep 10000
	done
	return 0
}

guest_file_is() { # FILE VALUE
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}

guest_absent() { # PATH
	[ ! -e "$1" ]
}

# guest_lp_wait PATCH [TIMEOUT]: the livepatch PATCH exists and its transition
# is over (TIMEOUT seconds, default 30)
guest_lp_wait() {
	guest_wait "${2:-30}" guest_file_is "/sys/kernel/livepatch/$1/transition" 0
}

# guest_lp_disable PATCH [TIMEOUT]: unpatch and wait until the kernel dropped
# its sysfs directory (then the module can be removed)
guest_lp_disable() {
	echo 0 >"/sys/kernel/livepatch/$1/enabled" || return 1
	guest_wait "${2:-30}" guest_absent "/sys/kernel/livepatch/$1"
}

# guest_net_up: eth0 (virtio-net, QEMU user networking) at 10.0.2.15/24;
# the host's 127.0.0.1 is 10.0.2.2, its DNS forwarder 10.0.2.3
guest_net_up() {
	modprobe virtio_pci && modprobe virtio_net || return 1
	guest_wait 10 test -e /sys/class/net/eth0 || { echo "guest_net_up: no eth0"; return 1; }
	ip link set eth0 up &&
		ip addr add 10.0.2.15/24 dev eth0 &&
		ip route add default via 10.0.2.2 || return 1
	echo "nameserver 10.0.2.3" >/etc/resolv.conf
}

# guest_disk_mount DIR: the virtio disk (/dev/vda, ext4, made on the host by
# vm_disk_new) mounted on DIR
guest_disk_mount() {
	# ext4 asks the crypto API for crc32c at mount time; nothing loads it by itself here
	modprobe virtio_pci && modprobe virtio_blk && modprobe crc32c_generic && modprobe ext4 || return 1
	guest_wait 10 test -b /dev/vda || { echo "guest_disk_mount: no /dev/vda"; return 1; }
	mkdir -p "$1" && mount -t ext4 /dev/vda "$1"
}

# guest_fetch URL FILE [TIMEOUT]: busybox wget under a time limit (its own -T
# option crashes the Debian build: use this, or timeout(1) around wget)
guest_fetch() {
	timeout "${3:-20}" wget -q -O "$2" "$1"
}
