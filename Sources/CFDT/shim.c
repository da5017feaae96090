// SPDX-License-Identifier: Apache-2.0
#include "CFDT.h"

uint32_t kho_fdt_magic(const void *fdt) { return fdt_magic(fdt); }
uint32_t kho_fdt_totalsize(const void *fdt) { return fdt_totalsize(fdt); }
uint32_t kho_fdt_version(const void *fdt) { return fdt_version(fdt); }
uint32_t kho_fdt_off_dt_struct(const void *fdt) { return fdt_off_dt_struct(fdt); }
uint32_t kho_fdt_off_dt_strings(const void *fdt) { return fdt_off_dt_strings(fdt); }
uint32_t kho_fdt_size_dt_struct(const void *fdt) { return fdt_size_dt_struct(fdt); }
uint32_t kho_fdt_size_dt_strings(const void *fdt) { return fdt_size_dt_strings(fdt); }
