// SPDX-License-Identifier: Apache-2.0
#include "CRadixModel.h"

#include <stdlib.h>
#include <string.h>

enum {
  page_shift = 12,
  order0_bit = 64 - page_shift, // the key's order bit for order 0
  table_bits = page_shift - 3,  // 512 entries per table
  leaf_bits = page_shift + 3,   // 32768 bits per leaf
  depth = 6,                    // levels, the leaf level included
};

static uint64_t *zeroed_page(kho_radix_model *tree) {
  void *p = aligned_alloc(1 << page_shift, 1 << page_shift);
  if (p) {
    memset(p, 0, 1 << page_shift);
    tree->pages++;
  }
  return p;
}

kho_radix_model kho_radix_model_make(void) {
  kho_radix_model tree = {0, 0};
  tree.root = zeroed_page(&tree);
  return tree;
}

int kho_radix_model_preserve(kho_radix_model *tree, uint64_t pfn, unsigned order) {
  uint64_t key = (1ull << (order0_bit - order)) | (pfn >> order);
  uint64_t *node = tree->root;
  for (int level = depth - 1; level >= 1; level--) {
    unsigned shift = leaf_bits + (level - 1) * table_bits;
    uint64_t *slot = &node[(key >> shift) & ((1u << table_bits) - 1)];
    if (!*slot) {
      uint64_t *child = zeroed_page(tree);
      if (!child)
        return -1;
      *slot = (uint64_t)(uintptr_t)child;
    }
    node = (uint64_t *)(uintptr_t)*slot;
  }
  uint64_t bit = key & ((1u << leaf_bits) - 1);
  uint64_t mask = 1ull << (bit & 63);
  uint64_t old = node[bit >> 6];
  node[bit >> 6] = old | mask;
  return (old & mask) == 0;
}

static void free_node(uint64_t *node, int level) {
  if (level >= 1)
    for (int i = 0; i < 1 << table_bits; i++)
      if (node[i])
        free_node((uint64_t *)(uintptr_t)node[i], level - 1);
  free(node);
}

void kho_radix_model_free(kho_radix_model *tree) {
  if (tree->root)
    free_node(tree->root, depth - 1);
  tree->root = 0;
  tree->pages = 0;
}
