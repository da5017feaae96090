// SPDX-License-Identifier: Apache-2.0
// A C model of how the kernel records one preserved folio in its radix
// tree (kho-abi.md §3b): compute the key, descend from the root through
// page-sized tables, allocating zeroed ones on the way, and set the leaf
// bit. One call per folio, as the kernel's preserve path makes them. The
// benchmarks use it as the peer of PreservedSet's one-page insert.
//
// Written for this toolkit from the format facts; it is not kernel code.
#ifndef KHO_CRADIXMODEL_H
#define KHO_CRADIXMODEL_H

#include <stdint.h>

/// A tree for 4 KiB pages: six levels, 512-entry tables, 32768-bit leaves.
typedef struct kho_radix_model {
  uint64_t *root;
  uint64_t pages;
} kho_radix_model;

/// An empty tree (just the root table); `pages` counts every node.
kho_radix_model kho_radix_model_make(void);

/// Records the folio of `2^order` pages at page frame `pfn`; returns 1 if
/// its bit was new, 0 if it was set already, -1 if a node could not be
/// allocated.
int kho_radix_model_preserve(kho_radix_model *tree, uint64_t pfn, unsigned order);

/// Frees every node.
void kho_radix_model_free(kho_radix_model *tree);

#endif
