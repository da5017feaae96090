// SPDX-License-Identifier: Apache-2.0
// Cache hints for hot loops: the one thing Swift cannot say by itself.
//
// Header-only: the functions are `static inline`, so Swift inlines them into
// the loops that call them and each becomes a single prefetch instruction.
#ifndef KHO_CPREFETCH_H
#define KHO_CPREFETCH_H

/// Asks the CPU to bring the cache line at `address` in for writing, without
/// waiting for it. A hint: never faults, even for an address it cannot use.
static inline void kho_prefetch_for_write(const void *address) {
  __builtin_prefetch(address, 1, 3);
}

/// Asks the CPU to bring the cache line at `address` in for reading.
static inline void kho_prefetch_for_read(const void *address) {
  __builtin_prefetch(address, 0, 3);
}

#endif
