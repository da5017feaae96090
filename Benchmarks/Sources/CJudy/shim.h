#include <Judy.h>
#include <malloc.h>

/// Bytes the process's heap holds: glibc's chunks in use plus its mmapped
/// blocks. The benchmarks take the difference around a build, so that every
/// peer's memory is counted the same way, malloc overhead included.
static inline size_t bench_heap_in_use(void) {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}
