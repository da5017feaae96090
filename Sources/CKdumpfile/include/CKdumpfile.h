// SPDX-License-Identifier: Apache-2.0
// C boundary for libkdumpfile (Debian libkdumpfile-dev), the library that
// reads kdump-compressed ("diskdump") vmcores: zlib, lzo, snappy and zstd
// pages. Attribute access goes through tagged unions, and the library's
// enums are wider than Swift imports comfortably, so these wrappers give
// Swift a handful of plain calls.
#ifndef KHO_CKDUMPFILE_H
#define KHO_CKDUMPFILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct kho_kdump kho_kdump;

// Opens the dump on `fd` (which the caller keeps open); NULL on failure,
// with the library's reason copied into `err`.
kho_kdump *kho_kdump_open(int fd, char *err, size_t errlen);
void kho_kdump_close(kho_kdump *k);

// A number attribute ("arch.page_size", "arch.byte_order", "max_pfn");
// 0 when it is missing or not a number.
int kho_kdump_number(kho_kdump *k, const char *key, uint64_t *out);
// A string attribute ("file.format", "arch.name", "linux.uts.release");
// NULL when it is missing.
const char *kho_kdump_string(kho_kdump *k, const char *key);

// The runs of page frame numbers the file holds, from "file.pagemap":
// each call finds the next run at or after *pfn, stores [start, end) and
// returns 1; 0 when no run is left.
int kho_kdump_next_run(kho_kdump *k, uint64_t *pfn, uint64_t limit, uint64_t *start, uint64_t *end);

// Reads `len` bytes at physical address `addr`; returns 0 on success,
// 1 when a page is not in the file, -1 on other errors (reason in err).
int kho_kdump_read(kho_kdump *k, uint64_t addr, void *buf, size_t len, char *err, size_t errlen);

#endif
