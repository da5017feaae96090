#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes two full-scale hostile ELF cores for measuring `khodump` (issue 20).

    python3 Scripts/make-hostile-images.py OUTDIR [--scale 1.0] [--stride 1]
                                                  [--leaf-bits 8]

Both files are little-endian x86_64 ELF64 cores (`ET_CORE`, `EM_X86_64`) in
the shape of the cores the kernel-image tests read: a
`PT_NOTE` with a `VMCOREINFO` note (`OSRELEASE`, `PAGESIZE=4096`), then
`PT_LOAD`s with `p_paddr == p_vaddr ==` the physical address, `p_filesz ==
p_memsz`, `p_align` 0x1000, flags RWX. Page size 4 KiB. The KHO root is a
`kho-v4` FDT (the version of `kho-v4-luo-v4`) with only `compatible` and
`preserved-memory-map`, laid out the way the kernel's sequential libfdt
writes it (`Specs/kho-root.md`); the map is a `radix-v1` tree of depth 6
(`Specs/radix-v1.md`), its pages allocated in the kernel's order (root, then
per new leaf its missing tables top-down, then the leaf). No boot locator is
written: the root is found by the scan (`Specs/root-locators.md`).

class4-aliased-loads.core (issue 20, class 4: "`pack --with-data` over
PT_LOADs that alias one file page, a 55 MB image of 983,040 preserved
pages"). The tree preserves 983,040 order-0 pages (every `--stride`-th page
from 8 GiB; with the default stride 1 they fill 30 whole leaves) and every
one of them is captured by its own one-page PT_LOAD, all at the same file
offset: one 4 KiB page of file data stands for 3.75 GiB of captured memory.
The root FDT's page is preserved as well (`validate` requires it; 983,041
entries in all). The root FDT and the tree's pages (5 tables, 31 leaves)
are real data, in one PT_LOAD at 4 GiB.

class5-aliased-leaves.core (issue 20, class 5: "radix leaves copied into
memory: a 64 MB image with 1,044,480 leaves aliasing one page"). The tree's
L1 tables point to 1,044,480 distinct leaf addresses (contiguous from
64 GiB); each is captured by its own one-page PT_LOAD, all at the same file
offset, which holds one bitmap leaf with `--leaf-bits` bits set. The leaves
stand for 1,044,480 consecutive 128 MiB chunks of order-0 pages from 1 TiB
(8 x 1,044,480 preserved pages with the default 8 bits), about 8 times the
decoder's 512 MiB chunk budget (131,072 leaves). One more leaf, first in
walk order, preserves the root FDT's page. The root FDT, that leaf and the
2,049 table pages are real data, in one PT_LOAD at 4 GiB.

Program headers: one per aliased page plus the note and the metadata load:
983,042 and 1,044,482, both above 0xffff, so `e_phnum` is `PN_XNUM`
(0xffff) and the count is in `sh_info` of section header 0, as the kernel's
`fill_extnum_info()` writes it (`e_shnum` 1, `sh_size` 1) and as
`ELFCore.swift` reads it. Both stay under the reader's 2^20
(`ELFCore.maxProgramHeaders`). With `--scale` below ~0.066 the counts fit in
`e_phnum` and no section header is written.

The aliased page never starts with the FDT magic nor holds the x86 boot
signature, so the root scan finds exactly one root. Standard library only.
"""
import argparse
import os
import struct
import sys

PAGE = 4096
PAGE_SHIFT = 12
ORDER0_LOG2 = 64 - PAGE_SHIFT      # K = 52: the order bit of an order-0 key
TABLE_BITS = PAGE_SHIFT - 3        # T = 9: 512 entries per table
LEAF_BITS = PAGE_SHIFT + 3         # B = 15: 32768 bits per leaf
DEPTH = 6                          # levels 5 (root) .. 0 (leaves), 4 KiB pages
MAX_PHDRS = 1 << 20                # ELFCore.maxProgramHeaders
PN_XNUM = 0xFFFF

CLASS4_PAGES = 983_040
CLASS5_LEAVES = 1_044_480

META_BASE = 0x1_0000_0000          # 4 GiB: root FDT, then the tree's pages
CLASS4_DATA_BASE = 0x2_0000_0000   # 8 GiB: the preserved (and aliased) pages
CLASS5_LEAF_BASE = 0x10_0000_0000  # 64 GiB: the aliased leaves
CLASS5_FIRST_CHUNK = 1 << 13       # chunk 8192 = 1 TiB: first preserved chunk

PHDR = struct.Struct("<IIQQQQQQ")  # Elf64_Phdr
PT_LOAD, PT_NOTE = 1, 4


# --------------------------------------------------------------------------
# Physical memory model


class PageAllocator:
    """Hands out consecutive pages from `start` upward (like the kernel's)."""

    def __init__(self, start):
        self.start = start
        self.next = start

    def alloc(self):
        a = self.next
        self.next += PAGE
        return a

    @property
    def count(self):
        return (self.next - self.start) // PAGE


# --------------------------------------------------------------------------
# KHO root FDT (Specs/kho-root.md)


def fdt_root(compatible, map_phys):
    """A kho root DTB v17: `compatible`, then the u64 (native LE) map root.

    Strings block as the kernel's sequential libfdt leaves it
    ("preserved-memory-map" first, strings grow downward); no sub-nodes."""
    strings = b"preserved-memory-map\0compatible\0"
    off_map, off_compat = 0, len(b"preserved-memory-map\0")

    def prop(nameoff, value):
        pad = (-len(value)) % 4
        return struct.pack(">III", 3, len(value), nameoff) + value + b"\0" * pad

    body = struct.pack(">I", 1) + b"\0\0\0\0"              # BEGIN_NODE ""
    body += prop(off_compat, compatible.encode() + b"\0")
    body += prop(off_map, struct.pack("<Q", map_phys))
    body += struct.pack(">II", 2, 9)                        # END_NODE, END
    off_rsv = 0x28
    off_struct = off_rsv + 16                               # empty rsvmap
    off_strings = off_struct + len(body)
    total = off_strings + len(strings)
    header = struct.pack(">10I", 0xD00DFEED, total, off_struct, off_strings, off_rsv,
                         17, 16, 0, len(strings), len(body))
    dtb = header + b"\0" * 16 + body + strings
    assert len(dtb) == total <= PAGE
    return dtb


# --------------------------------------------------------------------------
# radix-v1 preserved-memory map (Specs/radix-v1.md)


def order0_leaf_prefix(pfn):
    """key >> B of an order-0 page: the leaf that holds its bit."""
    return ((1 << ORDER0_LOG2) | pfn) >> LEAF_BITS


def table_index(prefix, level):
    """Index into the level-`level` table (1..DEPTH-1) of a leaf prefix."""
    return (prefix >> ((level - 1) * TABLE_BITS)) & ((1 << TABLE_BITS) - 1)


def build_radix(prefixes, table_alloc, leaf_alloc):
    """Lays out a tree whose leaves have the key prefixes `prefixes`.

    `prefixes` must ascend (walk order). Pages come as the kernel takes them:
    the root first, then per new leaf its missing tables top-down
    (`table_alloc()`), then the leaf (`leaf_alloc(prefix)`). Returns the root address,
    {table address: {index: child address}} and the leaf addresses in
    `prefixes` order."""
    root = table_alloc()
    tables = {root: {}}
    leaves = []
    for p in prefixes:
        node = root
        for level in range(DEPTH - 1, 1, -1):               # tables above L1
            i = table_index(p, level)
            child = tables[node].get(i)
            if child is None:
                child = table_alloc()
                tables[node][i] = child
                tables[child] = {}
            node = child
        i = table_index(p, 1)
        assert i not in tables[node], "leaf prefixes must be distinct"
        leaf = leaf_alloc(p)
        tables[node][i] = leaf
        leaves.append(leaf)
    return root, tables, leaves


def table_page(entries):
    """One table node: u64 LE child addresses, 0 = none."""
    page = bytearray(PAGE)
    for i, child in entries.items():
        struct.pack_into("<Q", page, i * 8, child)
    return page


def leaf_page(bits):
    """One leaf: bit n is bit n % 64 of LE u64 word n / 64."""
    page = bytearray(PAGE)
    for n in bits:
        page[n // 8] |= 1 << (n % 8)                        # LE words: same byte
    return page


# --------------------------------------------------------------------------
# ELF64 core


def vmcoreinfo_note():
    """A `VMCOREINFO` note (type 0) as the kernel-image fixtures carry it."""
    name = b"VMCOREINFO\0"
    desc = b"OSRELEASE=6.18.0-khodump-hostile\nPAGESIZE=%d\n" % PAGE
    note = struct.pack("<III", len(name), len(desc), 0) + name
    note += b"\0" * ((-len(note)) % 4) + desc
    return note + b"\0" * ((-len(note)) % 4)


def write_core(path, meta_pages, meta_base, alias_page, alias_addrs):
    """Writes an ELF64 LE core to `path`.

    `meta_pages` (real data, physically contiguous from `meta_base`) become
    one PT_LOAD; every address in `alias_addrs` (ascending, page aligned,
    above the metadata) becomes a one-page PT_LOAD whose data is the single
    `alias_page` at one file offset. Returns (file size, PT_LOAD count)."""
    note = vmcoreinfo_note()
    nloads = 1 + len(alias_addrs)
    phnum = 1 + nloads
    assert phnum <= MAX_PHDRS, f"{phnum} program headers exceed {MAX_PHDRS}"
    xnum = phnum >= PN_XNUM
    phoff = 64
    shoff = phoff + PHDR.size * phnum if xnum else 0
    note_off = (shoff + 64) if xnum else phoff + PHDR.size * phnum
    meta_off = -(-(note_off + len(note)) // PAGE) * PAGE
    alias_off = meta_off + len(meta_pages) * PAGE
    file_size = alias_off + PAGE

    ehdr = bytearray(64)
    ehdr[0:8] = b"\x7fELF\x02\x01\x01\x00"                  # ELF64, LE, v1, SysV
    struct.pack_into("<HHIQQQIHHHHHH", ehdr, 16,
                     4, 62, 1,                              # ET_CORE, EM_X86_64, EV_CURRENT
                     0, phoff, shoff, 0,                    # e_entry, e_phoff, e_shoff, e_flags
                     64, PHDR.size, PN_XNUM if xnum else phnum,
                     64 if xnum else 0, 1 if xnum else 0, 0)

    phdrs = bytearray(PHDR.size * phnum)
    PHDR.pack_into(phdrs, 0, PT_NOTE, 0, note_off, 0, 0, len(note), len(note), 0)
    size = len(meta_pages) * PAGE
    PHDR.pack_into(phdrs, PHDR.size, PT_LOAD, 7, meta_off, meta_base, meta_base, size, size, PAGE)
    pos = 2 * PHDR.size
    prev = meta_base + size
    for a in alias_addrs:
        assert a >= prev and a % PAGE == 0, "aliased pages must ascend past the metadata"
        PHDR.pack_into(phdrs, pos, PT_LOAD, 7, alias_off, a, a, PAGE, PAGE, PAGE)
        pos += PHDR.size
        prev = a + PAGE

    with open(path, "wb") as f:
        f.write(ehdr)
        f.write(phdrs)
        if xnum:
            # Section header 0 as Linux's fill_extnum_info(): SHT_NULL,
            # sh_size = e_shnum (1), sh_link = e_shstrndx (0), sh_info = count.
            f.write(struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 1, 0, phnum, 0, 0))
        f.write(note)
        f.write(b"\0" * (meta_off - f.tell()))
        for page in meta_pages:
            f.write(page)
        f.write(alias_page)
        assert f.tell() == file_size
    return file_size, nloads


def aliased_data_page():
    """Non-zero filler (so it is data, not a hole) with no FDT magic at 0
    and no x86 boot signature at 0x1fe/0x202."""
    text = b"khodump hostile input: one file page behind many PT_LOADs. "
    page = (text * (PAGE // len(text) + 1))[:PAGE]
    assert page[:4] != b"\xd0\x0d\xfe\xed" and page[0x1FE:0x200] != b"\x55\xaa"
    return page


# --------------------------------------------------------------------------
# The two images


def class4(path, pages, stride):
    """983,040 preserved order-0 pages, each its own PT_LOAD on one file page.

    The root FDT's page is preserved too (validate requires it), in a leaf
    of its own: 983,041 entries."""
    first_pfn = CLASS4_DATA_BASE >> PAGE_SHIFT
    pfns = [first_pfn + i * stride for i in range(pages)]
    alloc = PageAllocator(META_BASE)
    fdt_phys = alloc.alloc()
    # Leaf prefixes and each leaf's bits, in ascending key (walk) order.
    leaf_bits = {}
    for pfn in [fdt_phys >> PAGE_SHIFT] + pfns:
        leaf_bits.setdefault(order0_leaf_prefix(pfn), []).append(pfn & ((1 << LEAF_BITS) - 1))
    prefixes = sorted(leaf_bits)
    root, tables, leaves = build_radix(prefixes, alloc.alloc, lambda _: alloc.alloc())
    contents = {t: table_page(e) for t, e in tables.items()}
    for p, leaf in zip(prefixes, leaves):
        contents[leaf] = leaf_page(leaf_bits[p])
    dtb = fdt_root("kho-v4", root)
    contents[fdt_phys] = dtb + bytes(PAGE - len(dtb))
    meta = [contents[META_BASE + i * PAGE] for i in range(alloc.count)]
    size, nloads = write_core(path, meta, META_BASE, aliased_data_page(),
                              [pfn << PAGE_SHIFT for pfn in pfns])
    return dict(size=size, loads=nloads, fdt=fdt_phys, what=(
        f"{pages + 1:,} preserved order-0 pages ({pages:,} aliased data pages, stride {stride}, "
        f"+ the root FDT page), {len(leaves)} leaves, {len(tables)} tables, {len(meta)} metadata pages"))


def class5(path, nleaves, nbits):
    """1,044,480 distinct leaf addresses, each its own PT_LOAD on one file page.

    One more leaf, real and first in walk order, preserves the root FDT page
    (validate requires it)."""
    alloc = PageAllocator(META_BASE)
    fdt_phys = alloc.alloc()
    fdt_prefix = order0_leaf_prefix(fdt_phys >> PAGE_SHIFT)
    # Chunk c of order-0 pages has key prefix (1 << (K - B)) | c.
    aliased = [(1 << (ORDER0_LOG2 - LEAF_BITS)) | (CLASS5_FIRST_CHUNK + c) for c in range(nleaves)]
    assert fdt_prefix < aliased[0]
    leaf_alloc = PageAllocator(CLASS5_LEAF_BASE)
    root, tables, leaves = build_radix(
        [fdt_prefix] + aliased, alloc.alloc,
        lambda p: alloc.alloc() if p == fdt_prefix else leaf_alloc.alloc())
    assert leaves[1:] == [CLASS5_LEAF_BASE + i * PAGE for i in range(nleaves)]
    contents = {t: table_page(e) for t, e in tables.items()}
    contents[leaves[0]] = leaf_page([(fdt_phys >> PAGE_SHIFT) & ((1 << LEAF_BITS) - 1)])
    dtb = fdt_root("kho-v4", root)
    contents[fdt_phys] = dtb + bytes(PAGE - len(dtb))
    meta = [contents[META_BASE + i * PAGE] for i in range(alloc.count)]
    # Bits spread evenly over the shared leaf: k * (32768 / nbits).
    step = (1 << LEAF_BITS) // max(nbits, 1)
    bits = [k * step for k in range(nbits)]
    size, nloads = write_core(path, meta, META_BASE, leaf_page(bits), leaves[1:])
    return dict(size=size, loads=nloads, fdt=fdt_phys, what=(
        f"{nleaves:,} leaves aliasing one page ({nbits} bits each: {nleaves * nbits:,} order-0 "
        f"pages claimed) + 1 real leaf (the root FDT page), {len(tables)} tables, "
        f"{len(meta)} metadata pages"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the page and leaf counts (default 1.0)")
    ap.add_argument("--stride", type=int, default=1,
                    help="class 4: preserve every STRIDE-th page (default 1: contiguous)")
    ap.add_argument("--leaf-bits", type=int, default=8,
                    help="class 5: bits set in the shared leaf (default 8)")
    args = ap.parse_args()
    if not 0 < args.scale <= 1.0 or args.stride < 1 or not 0 <= args.leaf_bits <= 1 << LEAF_BITS:
        ap.error("need 0 < --scale <= 1, --stride >= 1, 0 <= --leaf-bits <= 32768")
    os.makedirs(args.outdir, exist_ok=True)
    jobs = [
        ("class4-aliased-loads.core",
         lambda p: class4(p, max(1, round(CLASS4_PAGES * args.scale)), args.stride)),
        ("class5-aliased-leaves.core",
         lambda p: class5(p, max(1, round(CLASS5_LEAVES * args.scale)), args.leaf_bits)),
    ]
    for name, make in jobs:
        path = os.path.join(args.outdir, name)
        r = make(path)
        print(f"{path}: {r['size']:,} bytes ({r['size'] / 2**20:.1f} MiB), {r['loads']:,} PT_LOADs "
              f"(1 metadata + {r['loads'] - 1:,} aliasing one file page), "
              f"{r['what']}, root FDT at {r['fdt']:#x}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
