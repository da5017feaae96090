// SPDX-License-Identifier: Apache-2.0
// C boundary for libfdt. The function-like macros of libfdt.h (header
// accessors, string property helpers) do not import into Swift; these thin
// wrappers make them callable. Everything else in libfdt.h imports as is.
#ifndef KHO_CFDT_H
#define KHO_CFDT_H

#include <stdint.h>
#include <libfdt.h>

uint32_t kho_fdt_magic(const void *fdt);
uint32_t kho_fdt_totalsize(const void *fdt);
uint32_t kho_fdt_version(const void *fdt);
uint32_t kho_fdt_off_dt_struct(const void *fdt);
uint32_t kho_fdt_off_dt_strings(const void *fdt);
uint32_t kho_fdt_size_dt_struct(const void *fdt);
uint32_t kho_fdt_size_dt_strings(const void *fdt);

#endif
