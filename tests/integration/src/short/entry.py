#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# 1207: entry.py PID FILE SYM prints the state of the 5 bytes at SYM (a
# function shorter than that, followed by padding) in process PID: "orig"
# (the file's bytes, padding included), "jump" (a jmp rel32 into an
# executable mapping other than FILE) or "torn: BYTES".
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import kctool  # noqa: E402

pid, path, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
elf = kctool.Elf(path)
value, size = elf.symbols()[name]
bias = kctool.load_bias(pid, path, elf)
want = elf.data[elf.file_offset(value) : elf.file_offset(value) + 5]
with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
    got = os.pread(mem.fileno(), 5, bias + value)
if got == want:
    print("orig")
    sys.exit(0)
ok = False
if got[0] == 0xE9:
    dest = bias + value + 5 + struct.unpack_from("<i", got, 1)[0]
    real = os.path.realpath(path)
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            where = parts[5].rstrip("\n") if len(parts) == 6 else ""
            lo, hi = (int(v, 16) for v in parts[0].split("-"))
            ok = ok or ("x" in parts[1] and where != real and lo <= dest < hi)
print("jump" if ok else "torn: %s (file %s)" % (got.hex(), want.hex()))
