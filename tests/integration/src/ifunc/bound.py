#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# 1208: bound.py PID PROG SYM LIB SYMFILE prints which implementation of
# the IFUNC SYM process PID bound for PROG (the address in PROG's GOT slot
# for SYM, named from SYMFILE: LIB itself or its debug file), and whether
# that implementation's entry is a jmp now: "NAME jump" or "NAME orig".
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import kctool  # noqa: E402

SHT_RELA = 4
RELA = struct.Struct("<QQq")
R_GLOB_DAT, R_JUMP_SLOT = 6, 7

pid, prog, sym, lib, symfile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
pe = kctool.Elf(prog)
slot = None
for s in pe.shdrs:
    if s[1] != SHT_RELA:
        continue
    dyn = pe.shdrs[s[6]]
    strtab = pe.shdrs[dyn[6]][4]
    for i in range(s[5] // RELA.size):
        off, info, _ = RELA.unpack_from(pe.data, s[4] + i * RELA.size)
        if info & 0xFFFFFFFF not in (R_GLOB_DAT, R_JUMP_SLOT):
            continue
        name = kctool.SYM.unpack_from(pe.data, dyn[4] + (info >> 32) * kctool.SYM.size)[0]
        if pe.cstr(strtab, name) == sym:
            slot = off
if slot is None:
    raise SystemExit("bound.py: %s imports no %s" % (prog, sym))
le = kctool.Elf(lib)
with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
    addr = struct.unpack("<Q", os.pread(mem.fileno(), 8, kctool.load_bias(pid, prog, pe) + slot))[0]
    first = os.pread(mem.fileno(), 1, addr)
value = addr - kctool.load_bias(pid, lib, le)
names = sorted(n for n, (v, size) in kctool.Elf(symfile).symbols().items() if v == value and size)
glibc = [n for n in names if n.startswith("__%s_" % sym)]
if not names:
    raise SystemExit("bound.py: no symbol at %#x of %s" % (value, lib))
print((glibc or names)[0], "jump" if first == b"\xe9" else "orig")
