#!/usr/bin/env python3
"""Lists the GPU code a CUDA shared library carries: SASS (machine code, runs only on its own major
architecture) and PTX (JIT-compiled by the driver for newer GPUs). Reads the ELF .nv_fatbin section
directly, so it needs neither cuobjdump nor a GPU.

    python3 scripts/cuda_archs.py libnd4jcuda.so
"""
import collections
import struct
import sys

FATBIN_MAGIC = 0xBA55ED50
KINDS = {1: "PTX", 2: "SASS"}


def fatbin_section(path):
    with open(path, "rb") as f:
        ident = f.read(64)
        if ident[:4] != b"\x7fELF" or ident[4] != 2:
            sys.exit(f"{path}: not a 64-bit ELF file")
        shoff, = struct.unpack_from("<Q", ident, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", ident, 0x3A)
        f.seek(shoff)
        headers = [struct.unpack("<IIQQQQIIQQ", f.read(shentsize)) for _ in range(shnum)]
        names_off = headers[shstrndx][4]
        for h in headers:
            f.seek(names_off + h[0])
            if f.read(11) == b".nv_fatbin\x00":
                f.seek(h[4])
                return f.read(h[5])
    sys.exit(f"{path}: no .nv_fatbin section (no GPU code)")


def entries(blob):
    pos = 0
    while pos + 16 <= len(blob):
        magic, _, header_size, fat_size = struct.unpack_from("<IHHQ", blob, pos)
        if magic != FATBIN_MAGIC:
            pos += 8   # containers are 8-byte aligned
            continue
        e, end = pos + header_size, pos + header_size + fat_size
        while e < end:
            kind, _, entry_header, padded_size = struct.unpack_from("<HHII", blob, e)
            sm, = struct.unpack_from("<I", blob, e + 28)
            yield KINDS.get(kind, f"kind{kind}"), sm
            e += entry_header + padded_size
        pos = end


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    counts = collections.Counter(entries(fatbin_section(sys.argv[1])))
    for (kind, sm), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        print(f"{kind:4} sm_{sm}  {n} code objects")


if __name__ == "__main__":
    main()
