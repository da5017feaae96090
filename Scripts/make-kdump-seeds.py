#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the FuzzKdump seeds (Fuzz/Corpus/FuzzKdump): a tiny kdump-compressed dump (8 pages of
4 KiB: a zlib page, an uncompressed page, zero pages, and the kernel's
kho-v2 root FDT) and the same dump in makedumpfile's flattened form.
Run from anywhere: python3 Scripts/make-kdump-seeds.py [path to kho-v2-radix.dtb]."""
import os, struct, sys, zlib

here = os.path.dirname(os.path.abspath(__file__))
dtb_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "../Tests/KHOFormatsTests/Fixtures/kho-v2-radix.dtb")
out = os.path.join(here, "../Fuzz/Corpus/FuzzKdump")
dtb = open(dtb_path, "rb").read()

B = 4096
NPAGES = 8
pages = [bytes(B)] * NPAGES
pages[1] = (b"khodump fuzz seed " * 300)[:B]          # compresses: zlib
pages[2] = bytes((i * 131 + 7) & 0xFF for i in range(B))  # stored as is
pages[3] = dtb + bytes(B - len(dtb))                 # a KHO root at 0x3000

# Block 0: struct disk_dump_header (64-bit layout).
hdr = bytearray(B)
hdr[0:8] = b"KDUMP   "
struct.pack_into("<i", hdr, 8, 6)                    # header_version
hdr[12 + 4 * 65:12 + 4 * 65 + 6] = b"x86_64"          # utsname.machine
struct.pack_into("<IiiIIIIIIi", hdr, 424, 0, B, 1, 2, NPAGES, NPAGES, 0, NPAGES, 0, 1)
# Block 1: struct kdump_sub_header (max_mapnr_64 at 96).
sub = bytearray(B)
struct.pack_into("<Q", sub, 96, NPAGES)
# Blocks 2-3: the two bitmaps (every page present and dumped).
bm = bytearray(B)
bm[0] = 0xFF
data_start = 4 * B
descs = bytearray()
payload = bytearray()
off = data_start + 24 * NPAGES
zero_off = None
for p in pages:
    if p == bytes(B):
        if zero_off is None:
            zero_off = off + len(payload)
            payload += p
        descs += struct.pack("<QIIQ", zero_off, B, 0, 0)
        continue
    z = zlib.compress(p)
    if len(z) < B:
        descs += struct.pack("<QIIQ", off + len(payload), len(z), 1, 0)
        payload += z
    else:
        descs += struct.pack("<QIIQ", off + len(payload), B, 0, 0)
        payload += p
dump = bytes(hdr + sub + bm + bm + descs + payload)
open(os.path.join(out, "tiny.kdump"), "wb").write(dump)

# The flattened form: a 4 KiB header, then (offset, size, data) records, big-endian.
flat = bytearray(B)
flat[0:12] = b"makedumpfile"
struct.pack_into(">qq", flat, 16, 1, 1)
for start in range(0, len(dump), 5000):                # records cut mid-block
    piece = dump[start:start + 5000]
    flat += struct.pack(">qq", start, len(piece)) + piece
flat += struct.pack(">qq", -1, -1)
open(os.path.join(out, "tiny.flat"), "wb").write(bytes(flat))
