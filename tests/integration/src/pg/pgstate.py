# SPDX-License-Identifier: GPL-2.0-or-later
# pgstate.py INFO_JSON applied|clean ID MIN: every PostgreSQL server process
# (comm "postgres": the postmaster, its auxiliary processes and every backend)
# in `libcare-ctl info -p all --json` output must have patch ID applied to its
# libc (applied) or no live patch there (clean), and there must be at least
# MIN of them. Exit 1 and one line per process otherwise.
import json
import sys


def describe(pid):
    """parent, start time and title of a live process, for the failure message"""
    try:
        stat = open("/proc/%d/stat" % pid).read()
        f = stat[stat.rindex(")") + 2:].split()
        title = open("/proc/%d/cmdline" % pid).read().replace("\0", " ").strip()
        return "parent %s, started %s, %s" % (f[1], f[19], title)
    except (OSError, ValueError, IndexError):
        return "gone since"


procs = json.load(open(sys.argv[1]))
want, pid_id, least = sys.argv[2], sys.argv[3], int(sys.argv[4])
n = bad = 0
for p in procs:
    if p.get("comm") != "postgres":
        continue
    libc = [o for o in p.get("objects", []) if o["path"].endswith("/libc.so.6")]
    if not libc:
        continue
    n += 1
    live = [x for o in libc for x in o.get("patches", []) if x.get("applied")]
    ok = [x for x in live if x["id"] == pid_id] if want == "applied" else not live
    if not ok or (want == "applied" and len(live) != 1):
        bad += 1
        print("process %d: %s (%s; %s)" % (p["pid"], "not patched" if want == "applied" else "still patched",
                                          ", ".join("%s level %d" % (x["id"], x["level"]) for x in live) or "none",
                                          describe(p["pid"])))
print("# %d postgres processes, %d in the wrong state" % (n, bad))
sys.exit(1 if bad or n < least else 0)
