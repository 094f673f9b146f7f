# SPDX-License-Identifier: GPL-2.0-or-later
# state.py INFO_JSON applied|clean: every process in `libcare-ctl info -p all
# --json` output that maps the fork-all server must be patched (applied) or
# carry no live patch (clean). Exit 1 and one line per process otherwise.
import json
import sys

procs = json.load(open(sys.argv[1]))
want = sys.argv[2]
n = bad = 0
for p in procs:
    for o in p.get("objects", []):
        if not o["path"].endswith("/server"):
            continue
        n += 1
        live = [x for x in o["patches"] if x.get("applied")]
        if (want == "applied") != bool(live):
            bad += 1
            print("process %d: %s" % (p["pid"], "not patched" if want == "applied" else "still patched"))
print("# %d processes run the server, %d in the wrong state" % (n, bad))
sys.exit(1 if bad or n == 0 else 0)
