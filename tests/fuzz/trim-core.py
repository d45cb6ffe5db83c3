#!/usr/bin/env python3
"""trim-core.py: makes a small seed core from a real one (tests/fuzz/mkseeds.sh).

    trim-core.py IN OUT [--keep ADDR[:BYTES]]... [--notes TYPE,...] [--zeros]
    trim-core.py --segments IN     list the PT_LOADs: start end filesz flags

Keeps the ELF header, every program header (same count and order), the
notes whose types are listed (default: NT_PRSTATUS, NT_PRPSINFO, NT_AUXV,
NT_FILE and gdb's NT_GDB_TDESC), and the bytes of the PT_LOADs named by
--keep (by any address inside them, hex; at most BYTES of each when given;
"first" names the first PT_LOAD with bytes, "rw" the first writable one with
bytes, "after-ADDR" the PT_LOAD after the one holding ADDR).  Every
other PT_LOAD keeps its address and memory size but loses its bytes
(p_filesz 0: the reader sees a segment the dumper left out).  --zeros also
drops the trailing all-zero pages of the kept segments.  The result is still
a core every layer opens; it is only smaller.
"""
import struct
import sys

NT_DEFAULT = {1, 3, 6, 0x46494C45, 0xFF000000}


def segments(path):
    data = open(path, "rb").read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for k in range(phnum):
        ptype, flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack_from("<IIQQQQQQ", data, phoff + k * phentsize)
        if ptype == 1:
            print("%x %x %x %d" % (vaddr, vaddr + memsz, filesz, flags))


def loads(path):
    data = open(path, "rb").read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    out = []
    for k in range(phnum):
        ptype, flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack_from("<IIQQQQQQ", data, phoff + k * phentsize)
        if ptype == 1:
            out.append((vaddr, memsz, filesz, flags))
    return sorted(out)


def resolve(path, spec):
    segs = loads(path)
    if spec == "first":
        return [s[0] for s in segs if s[2]][0]
    if spec == "rw":
        return [s[0] for s in segs if s[2] and s[3] & 2][0]
    if spec.startswith("after-"):
        a = int(spec[6:], 16)
        k = [k for k, s in enumerate(segs) if s[0] <= a < s[0] + s[1]][0]
        return segs[k + 1][0]
    return int(spec, 16)


def main(argv):
    if argv[1] == "--segments":
        return segments(argv[2])
    src, dst = argv[1], argv[2]
    keep, notes, zeros = {}, set(NT_DEFAULT), False
    i = 3
    while i < len(argv):
        a = argv[i]
        if a == "--keep":
            addr, _, n = argv[i + 1].partition(":")
            keep[resolve(src, addr)] = int(n, 0) if n else None
            i += 2
        elif a == "--notes":
            notes = {int(t, 0) for t in argv[i + 1].split(",")}
            i += 2
        elif a == "--zeros":
            zeros = True
            i += 1
        else:
            sys.exit("trim-core.py: unknown argument " + a)
    data = open(src, "rb").read()
    eh = bytearray(data[:64])
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", data, phoff + k * phentsize)) for k in range(phnum)]
    out = bytearray(eh)
    struct.pack_into("<Q", out, 32, 64)
    struct.pack_into("<H", out, 54, 56)
    out += b"\0" * (56 * phnum)
    for ph in phdrs:
        ptype, flags, off, vaddr, paddr, filesz, memsz, align = ph
        body = b""
        if ptype == 4:  # PT_NOTE: keep the listed notes
            p, end = off, off + filesz
            while p + 12 <= end:
                nsz, dsz, nt = struct.unpack_from("<III", data, p)
                size = 12 + (nsz + 3 & ~3) + (dsz + 3 & ~3)
                if nt in notes:
                    body += data[p:p + size]
                p += size
        elif ptype == 1 and any(vaddr <= a < vaddr + memsz for a in keep):
            lim = [keep[a] for a in keep if vaddr <= a < vaddr + memsz][0]
            n = filesz if lim is None else min(filesz, lim)
            body = data[off:off + n]
            if zeros:
                while len(body) >= 4096 and not any(body[-4096:]):
                    body = body[:-4096]
        ph[2] = len(out)
        ph[5] = len(body)
        out += body
    for k, ph in enumerate(phdrs):
        struct.pack_into("<IIQQQQQQ", out, 64 + 56 * k, *ph)
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main(sys.argv)
