#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the integration tests that are awkward in sh (called by lib.sh):
#   memcmp [--differ] PID FILE SYM...   process memory at each function vs the file's bytes
#   info JSON [EXPR]                    summarise / check `libcare-ctl info --json` output
#   corrupt IN OUT KIND                 a patch file with one targeted defect
#   flip IN OUT SEED N                  a patch file with N random bytes flipped in its headers
#   buildid FILE                        the GNU build-id in hex
#   meta PATCH                          KEY=VALUE lines of a patch file's metadata
# ELF is read with struct (ELF64 little-endian only): no dependency beyond python3.
import json
import os
import random
import struct
import sys

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
PT_LOAD = 1
PT_NOTE = 4
ET_EXEC = 2
SHT_SYMTAB = 2
SHT_DYNSYM = 11


class Elf:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if len(d) < EHDR.size or d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise SystemExit("kctool: %s: not an ELF64 little-endian file" % path)
        h = EHDR.unpack_from(d, 0)
        self.e_type, self.e_machine = h[1], h[2]
        phoff, shoff = h[5], h[6]
        phnum, shnum, shstrndx = h[10], h[12], h[13]
        self.phdrs = [PHDR.unpack_from(d, phoff + i * PHDR.size) for i in range(phnum)]
        self.shdrs = [SHDR.unpack_from(d, shoff + i * SHDR.size) for i in range(shnum)]
        self.shoff = shoff
        names = self.shdrs[shstrndx] if shnum else None
        self.secnames = []
        for s in self.shdrs:
            self.secnames.append(self.cstr(names[4], s[0]) if names else "")

    def cstr(self, off, idx):
        end = self.data.index(b"\0", off + idx)
        return self.data[off + idx : end].decode()

    def section(self, name):
        """(index, file offset, size) of the section called @name."""
        for i, n in enumerate(self.secnames):
            if n == name:
                return i, self.shdrs[i][4], self.shdrs[i][5]
        raise SystemExit("kctool: no section %s" % name)

    def symbols(self):
        """name -> (value, size), .symtab first, then .dynsym."""
        out = {}
        for kind in (SHT_DYNSYM, SHT_SYMTAB):
            for s in self.shdrs:
                if s[1] != kind:
                    continue
                strtab = self.shdrs[s[6]][4]
                for i in range(1, s[5] // SYM.size):
                    name, info, other, shndx, value, size = SYM.unpack_from(self.data, s[4] + i * SYM.size)
                    if shndx == 0 or name == 0:
                        continue
                    out[self.cstr(strtab, name)] = (value, size)
        return out

    def file_offset(self, vaddr):
        for p in self.phdrs:
            if p[0] == PT_LOAD and p[3] <= vaddr < p[3] + p[6]:
                return p[2] + vaddr - p[3]
        raise SystemExit("kctool: address %#x is not in a loaded segment" % vaddr)

    def min_vaddr(self):
        return min(p[3] for p in self.phdrs if p[0] == PT_LOAD) & ~0xFFF

    def build_id(self):
        for p in self.phdrs:
            if p[0] != PT_NOTE:
                continue
            off, end = p[2], p[2] + p[5]
            while off + 12 <= end:
                namesz, descsz, ntype = struct.unpack_from("<III", self.data, off)
                name = self.data[off + 12 : off + 12 + namesz]
                desc = off + 12 + ((namesz + 3) & ~3)
                if ntype == 3 and name == b"GNU\0":
                    return self.data[desc : desc + descsz].hex()
                off = desc + ((descsz + 3) & ~3)
        return ""


def load_bias(pid, path, elf):
    real = os.path.realpath(path)
    starts = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].rstrip("\n") == real:
                starts.append(int(parts[0].split("-")[0], 16))
    if not starts:
        raise SystemExit("kctool: %s is not mapped in process %d" % (real, pid))
    if elf.e_type == ET_EXEC:
        return 0
    return min(starts) - elf.min_vaddr()


def cmd_memcmp(args):
    differ = args and args[0] == "--differ"
    if differ:
        args = args[1:]
    pid, path, names = int(args[0]), args[1], args[2:]
    elf = Elf(path)
    syms = elf.symbols()
    bias = load_bias(pid, path, elf)
    bad = 0
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
        for name in names:
            if name not in syms:
                raise SystemExit("kctool: no symbol %s in %s" % (name, path))
            value, size = syms[name]
            # --differ looks at the entry only: that is where a patch writes its jump
            size = 5 if differ else max(size, 1)
            want = elf.data[elf.file_offset(value) : elf.file_offset(value) + size]
            got = os.pread(mem.fileno(), size, bias + value)
            same = got == want
            if differ:
                print("%s: entry %s (memory %s, file %s)" % (name, "unchanged" if same else "changed", got.hex(), want.hex()))
                bad += same
            else:
                if not same:
                    at = next(i for i in range(size) if i >= len(got) or got[i] != want[i])
                    print("%s: differs at +%d (memory %s, file %s)" % (name, at, got[at : at + 8].hex(), want[at : at + 8].hex()))
                    bad += 1
                else:
                    print("%s: %d bytes equal to the file" % (name, size))
    return 1 if bad else 0


def cmd_info(args):
    with open(args[0]) as f:
        try:
            j = json.load(f)
        except ValueError as e:
            print("kctool: %s is not JSON: %s" % (args[0], e))
            return 1
    if not isinstance(j, list):
        print("kctool: %s is not a JSON array" % args[0])
        return 1
    patches = []
    for pr in j:
        for ob in pr.get("objects", []):
            for pa in ob.get("patches", []):
                patches.append(dict(pa, path=ob["path"], pid=pr["pid"]))
    if len(args) > 1:
        env = {"j": j, "pr": j[0] if j else None, "patches": patches, "os": os}
        ok = eval(args[1], env)
        if not ok:
            print("kctool: info check failed: %s" % args[1])
            print(json.dumps(j, indent=1)[:4000])
        return 0 if ok else 1
    for pa in sorted(patches, key=lambda p: (p["pid"], p["id"])):
        print("%s:%d:%s" % (pa["id"], pa["level"], os.path.basename(pa["path"])))
    return 0


META_FIELDS = {"magic": 0, "version": 8, "machine": 12, "id": 16, "nfuncs": 156, "reserved": 168}


def cmd_corrupt(args):
    src, dst, kind = args
    elf = Elf(src)
    d = bytearray(elf.data)
    _, meta, _ = elf.section(".kcare.meta")
    _, funcs, _ = elf.section(".kcare.funcs")

    def put32(off, v):
        struct.pack_into("<I", d, off, v & 0xFFFFFFFF)

    def get32(off):
        return struct.unpack_from("<I", d, off)[0]

    if kind == "elf-magic":
        d[1] ^= 0xFF
    elif kind == "shoff":
        struct.pack_into("<Q", d, 40, len(d) + 4096)
    elif kind == "meta-range":
        idx, _, _ = elf.section(".kcare.meta")
        struct.pack_into("<Q", d, elf.shoff + idx * SHDR.size + 24, len(d) - 16)  # sh_offset
    elif kind == "meta-magic":
        d[meta] ^= 0xFF
    elif kind == "version":
        put32(meta + 8, 99)
    elif kind == "nfuncs":
        put32(meta + 156, get32(meta + 156) + 1000)
    elif kind == "id-stroff":
        put32(meta + 16, 0xFFFFFFF0)
    elif kind == "reserved":
        d[meta + 168] = 1
    elif kind == "reloc-type":
        _, relocs, size = elf.section(".kcare.relocs")
        if size < 24:
            raise SystemExit("kctool: patch has no relocations")
        put32(relocs + 8, 0xFF)
    elif kind == "func-image":
        put32(funcs + 24, get32(meta + 124) + 4096)  # image_off past text_size
        put32(funcs + 28, 0)
    elif kind == "func-orig":
        d[funcs + 44] ^= 0xFF
    elif kind == "func-target":
        struct.pack_into("<Q", d, funcs + 8, struct.unpack_from("<Q", d, funcs + 8)[0] + 0x40000000)
    elif kind == "wrong-arch":
        struct.pack_into("<H", d, 18, 183)  # EM_AARCH64
        put32(meta + 12, 183)
    else:
        raise SystemExit("kctool: unknown corruption %s" % kind)
    with open(dst, "wb") as f:
        f.write(d)
    return 0


def cmd_flip(args):
    src, dst, seed, n = args[0], args[1], int(args[2]), int(args[3])
    elf = Elf(src)
    d = bytearray(elf.data)
    # the structural parts a parser must validate: ELF header, section headers, meta
    _, meta, msize = elf.section(".kcare.meta")
    spots = list(range(0, 64)) + list(range(elf.shoff, elf.shoff + len(elf.shdrs) * SHDR.size))
    spots += list(range(meta, meta + msize))
    rng = random.Random(seed)
    for _ in range(n):
        at = rng.choice(spots)
        d[at] ^= 1 << rng.randrange(8)
    with open(dst, "wb") as f:
        f.write(d)
    return 0


def cmd_meta(args):
    """KEY=VALUE lines of a patch file's .kcare.meta (fields the tests check)."""
    elf = Elf(args[0])
    _, meta, _ = elf.section(".kcare.meta")
    _, strtab, strsize = elf.section(".kcare.strtab")
    d = elf.data

    def u32(off):
        return struct.unpack_from("<I", d, meta + off)[0]

    def string(off):
        return elf.cstr(strtab, u32(off))

    print("magic=%s" % d[meta : meta + 7].decode(errors="replace"))
    print("version=%d" % u32(8))
    print("machine=%d" % u32(12))
    print("id=%s" % string(16))
    print("level=%d" % u32(20))
    print("description=%s" % string(24))
    print("cves=%s" % string(28))
    print("target_name=%s" % string(32))
    print("build_id=%s" % d[meta + 44 : meta + 44 + u32(40)].hex())
    print("flags=%d" % u32(120))
    print("nfuncs=%d" % u32(156))
    return 0


def cmd_buildid(args):
    print(Elf(args[0]).build_id())
    return 0


def main():
    cmds = {"memcmp": cmd_memcmp, "info": cmd_info, "corrupt": cmd_corrupt, "flip": cmd_flip, "buildid": cmd_buildid,
            "meta": cmd_meta}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write("usage: kctool.py memcmp|info|corrupt|flip|buildid|meta ...\n")
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
