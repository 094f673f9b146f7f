# SPDX-License-Identifier: GPL-2.0-or-later
# Init of a PID namespace made by lib.sh's pidns_run (not a test itself):
#   sh pidns-run.sh DIR CTL CMDS TARGET...
# starts each TARGET (output in DIR/ns-NAME.log, "NAME PID" in DIR/ns-pids),
# waits up to 10 s for each one's "ready" line, then runs CTL once per line
# of CMDS, "N|SETUP|ARGS" (SETUP: a shell command run first, or -; ARGS
# split by the shell), with output in DIR/ns-N.out, .err and .rc.
T=$1 CTL=$2 CMDS=$3
shift 3
for t in "$@"; do
	"$t" >"$T/ns-${t##*/}.log" 2>&1 &
	echo "${t##*/} $!" >>"$T/ns-pids"
done
for t in "$@"; do
	i=0
	until grep -q '^ready' "$T/ns-${t##*/}.log"; do
		i=$((i + 1))
		[ $i -lt 100 ] || exit 3
		sleep 0.1
	done
done
while IFS='|' read -r n setup args; do
	[ "$setup" = - ] || sh -c "$setup"
	eval "set -- $args"
	timeout 30 "$CTL" "$@" >"$T/ns-$n.out" 2>"$T/ns-$n.err"
	echo $? >"$T/ns-$n.rc"
done <"$CMDS"
