#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# What 1103 checks after each libcare-ctl it killed. One process serves the
# whole run (a python start per step would cost more than the step itself):
#   state.py PID FILE CTL PATCH ID SYM...   then one MODE per line on stdin
# 1. Every function SYM of FILE in process PID is whole: "orig" (all its
#    bytes are the file's) or "patched" (its entry is a jmp rel32 into an
#    executable mapping of something other than FILE, the rest the file's);
#    anything else is "torn".
# 2. MODE "recover": runs `CTL recover -p PID`; "recover-none": the same
#    after a run that was not killed, so nothing to recover; "next": the next
#    operation (`CTL unpatch -p PID` if `info` lists patch ID, else
#    `CTL patch -p PID PATCH`), which must find the interrupted one itself.
#    It must exit 0; its lines about recovery must be well formed.
# 3. `CTL info -p PID --json` is consistent with memory: ID listed once and
#    every SYM patched, or not listed and every SYM original.
# Answers each line with "state=patched|orig recovered=0|1 ...", or with
# "FAIL: reason" when a check fails.
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import kctool  # noqa: E402

TIMEOUT = 30


def exec_ranges(pid, exclude):
    out = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            path = parts[5].rstrip("\n") if len(parts) == 6 else ""
            if "x" in parts[1] and path != exclude:
                lo, hi = (int(v, 16) for v in parts[0].split("-"))
                out.append((lo, hi))
    return out


_elf = {}


def classify(pid, path, names):
    real = os.path.realpath(path)
    if path not in _elf:
        elf = kctool.Elf(path)
        _elf[path] = (elf, elf.symbols(), kctool.load_bias(pid, path, elf))
    elf, syms, bias = _elf[path]
    ranges = exec_ranges(pid, real)
    states = []
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
        for name in names:
            value, size = syms[name]
            want = elf.data[elf.file_offset(value) : elf.file_offset(value) + size]
            got = os.pread(mem.fileno(), size, bias + value)
            if got == want:
                states.append("orig")
                continue
            torn = got[0] != 0xE9 or got[16:] != want[16:]
            # bytes after the jump up to 16 may pad a split instruction
            torn = torn or any(got[i] != want[i] and got[i] not in (0x90, 0xCC) for i in range(5, min(16, size)))
            dest = bias + value + 5 + struct.unpack_from("<i", got, 1)[0]
            torn = torn or not any(lo <= dest < hi for lo, hi in ranges)
            states.append("torn" if torn else "patched")
    return states


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT, text=True)
    return p.returncode, p.stdout, p.stderr


def listed(ctl, pid, path, pid_id):
    rc, out, err = run([ctl, "info", "-p", str(pid), "--json"])
    if rc:
        raise SystemExit("info exited %d: %s" % (rc, err.strip()))
    real = os.path.realpath(path)
    n = 0
    for pr in json.loads(out):
        for ob in pr.get("objects", []):
            if os.path.realpath(ob.get("path", "")) == real:
                n += sum(1 for pa in ob.get("patches", []) if pa.get("id") == pid_id)
    return n


def check(pid, path, ctl, patch, pid_id, mode, names):
    show = lambda st: " ".join("%s=%s" % (n, s) for n, s in zip(names, st))  # noqa: E731

    before = classify(pid, path, names)
    if "torn" in before:
        raise SystemExit("torn function before recovery: %s" % show(before))
    if mode.startswith("recover"):
        cmd = [ctl, "recover", "-p", str(pid)]
    elif listed(ctl, pid, path, pid_id):
        cmd = [ctl, "unpatch", "-p", str(pid)]
    else:
        cmd = [ctl, "patch", "-p", str(pid), patch]
    rc, out, err = run(cmd)
    if rc:
        raise SystemExit("%s exited %d: %s" % (" ".join(cmd[:2]), rc, err.strip()))
    good = re.compile(r"^%d: recovered %s level 1: (rolled back|finished unpatch)$" % (pid, re.escape(pid_id)))
    rec = [ln for ln in out.splitlines() if " recovered " in ln]
    for ln in rec:
        if not good.match(ln):
            raise SystemExit("malformed recovery line: %s" % ln)
    if mode == "recover-none" and rec:
        raise SystemExit("recovered after a complete run: %s" % rec[0])
    # an unpatch may find its work done by finishing the killed revert first
    finished = cmd[1] == "unpatch" and any(ln.endswith("finished unpatch") for ln in rec)
    if mode == "next" and not finished and not re.search(
            r"^%d: (patched|unpatched) %s level 1" % (pid, re.escape(pid_id)), out, re.M):
        raise SystemExit("%s did nothing: %s" % (" ".join(cmd[:2]), out.strip()))
    n = listed(ctl, pid, path, pid_id)
    after = classify(pid, path, names)
    want = "patched" if n else "orig"
    line = "state=%s recovered=%d before: %s; %s: %s; after: %s listed=%d" % (
        want, len(rec), show(before), cmd[1], "; ".join(rec) or "-", show(after), n)
    if n > 1 or any(s != want for s in after):
        raise SystemExit("info inconsistent with memory: " + line)
    return line


def main():
    pid, path, ctl, patch, pid_id = sys.argv[1:6]
    pid, names = int(pid), sys.argv[6:]
    for mode in sys.stdin:
        try:
            answer = check(pid, path, ctl, patch, pid_id, mode.strip(), names)
        except SystemExit as e:
            answer = "FAIL: %s" % e
        except Exception as e:  # noqa: BLE001 - reported to the test, which fails
            answer = "FAIL: %s: %s" % (type(e).__name__, e)
        print(answer, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
