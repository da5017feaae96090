#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Make real QEMU memory dumps holding the kernel-written handover images.
#
# Usage: Scripts/make-qemu-fixtures.sh [OUTDIR]   (default Tests/KHOImageTests/QEMU)
# Inputs: $KHO_IMAGES (default: shared/kernel-images beside the checkout)/<case>.elf[.zst].
# Needs: qemu-system-x86_64, makedumpfile, zstd, readelf.
#
# For each case: cut every PT_LOAD of the input core into its own file, load
# each one at its physical address into a paused (-S) TCG guest with
# `-device loader`, let QEMU write the guest RAM with dump-guest-memory
# (ELF and every kdump-* format this QEMU has; QEMU 7.2 writes kdump in
# makedumpfile's flattened form), reassemble the flattened kdump with
# `makedumpfile -R`, check the results and keep them zstd-compressed.
#
# Guest RAM (pc machine, -m 65M, max-ram-below-4g=1M): [0, 1 MiB) low RAM
# (BIOS/option ROM over 0xc0000-0xfffff) and [0x100000000, 0x104000000) =
# 64 MiB above 4 GiB, exactly where the input images' segments lie.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/Tests/KHOImageTests/QEMU}
IMAGES=${KHO_IMAGES:-$ROOT/../shared/kernel-images}
CASES=(kho-v2-radix kho-v4-luo-v4)
RAM_LO=0x100000000 RAM_HI=0x104000000
QEMU=(qemu-system-x86_64 -S -nodefaults -display none -accel tcg
      -machine pc,max-ram-below-4g=1M -m 65M -qmp stdio)

WORK=$(mktemp -d /tmp/qemu-fixtures.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
die() { echo "make-qemu-fixtures: $*" >&2; exit 1; }

# PT_LOAD rows of an ELF as "offset paddr filesz" (hex).
loads() { readelf -lW "$1" | awk '$1 == "LOAD" { print $2, $4, $5 }'; }

# The kdump formats this QEMU can write (QEMU 7.2 on Debian: kdump-zlib only).
KDUMPS=$("${QEMU[@]}" <<<'{"execute":"qmp_capabilities"}
{"execute":"query-dump-guest-memory-capability"}
{"execute":"quit"}' 2>/dev/null | grep -o '"kdump-[a-z]*"' | tr -d '"' || true)
[[ $KDUMPS == *kdump-zlib* ]] || die "this QEMU cannot write kdump-zlib"

for c in "${CASES[@]}"; do
  d=$WORK/$c; mkdir -p "$d"
  if [[ -f $IMAGES/$c.elf ]]; then cp "$IMAGES/$c.elf" "$d/in.elf"
  else zstd -dcq "$IMAGES/$c.elf.zst" >"$d/in.elf"; fi

  # 1. One raw file per input segment, one loader device per file.
  args=() n=0
  while read -r off pa sz; do
    (( pa >= RAM_LO && pa + sz <= RAM_HI )) || die "$c: segment $pa+$sz outside guest RAM"
    dd if="$d/in.elf" of="$d/seg$n" iflag=skip_bytes,count_bytes \
       skip=$((off)) count=$((sz)) bs=64K status=none
    args+=(-device "loader,file=$d/seg$n,addr=$pa,force-raw=on")
    echo "$n $pa $sz" >>"$d/segs"; n=$((n + 1))
  done < <(loads "$d/in.elf")

  # 2-3. Paused guest; synchronous dumps over QMP on stdin, then quit.
  { echo '{"execute":"qmp_capabilities"}'
    echo "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$d/elf\",\"format\":\"elf\"}}"
    for f in $KDUMPS; do
      echo "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$d/$f-flat\",\"format\":\"$f\"}}"
    done
    echo '{"execute":"quit"}'
  } | "${QEMU[@]}" "${args[@]}" >"$d/qmp.log" 2>"$d/qemu.err" \
    || { cat "$d/qemu.err" >&2; die "$c: qemu failed"; }
  grep -q '"error"' "$d/qmp.log" && { cat "$d/qmp.log" >&2; die "$c: QMP error"; }
  [[ $(grep -c '"status": "completed"' "$d/qmp.log") == $((1 + $(wc -w <<<"$KDUMPS"))) ]] \
    || { cat "$d/qmp.log" >&2; die "$c: a dump did not complete"; }

  # 4. Flattened kdump -> normal kdump-compressed file.
  for f in $KDUMPS; do makedumpfile -R "$d/$f" <"$d/$f-flat" >/dev/null; done

  # 6. Checks: every input segment lies in one QEMU PT_LOAD and has the same
  # bytes there (all of them, not only a sample: it takes well under a second).
  mapfile -t qload < <(loads "$d/elf")
  while read -r i pa sz; do
    ok=
    for l in "${qload[@]}"; do
      read -r qo qp qs <<<"$l"
      if (( qp <= pa && pa + sz <= qp + qs )); then
        cmp -s -n $((sz)) -i $((qo + pa - qp)):0 "$d/elf" "$d/seg$i" \
          || die "$c: bytes at $pa differ in the QEMU ELF dump"
        ok=1; break
      fi
    done
    [[ $ok ]] || die "$c: segment $pa+$sz not covered by the QEMU ELF dump"
  done <"$d/segs"
  for f in $KDUMPS; do
    [[ $(head -c 8 "$d/$f") == "KDUMP   " ]] || die "$c: $f has no KDUMP signature"
    [[ $(head -c 12 "$d/$f-flat") == makedumpfile ]] || die "$c: $f-flat is not flattened"
  done

  # 5. Keep them zstd-compressed (via stdin: QEMU's dumps are mode 0400).
  zstd -19 -q -c <"$d/elf" >"$OUT/$c.qemu-elf.zst"
  for f in $KDUMPS; do
    zstd -19 -q -c <"$d/$f-flat" >"$OUT/$c.qemu-$f-flat.zst"
    zstd -19 -q -c <"$d/$f" >"$OUT/$c.qemu-$f.zst"
  done
  echo "$c: $n segments checked; $(loads "$d/elf" | wc -l) PT_LOADs in the QEMU ELF dump"
done

# The README next to the fixtures, with the versions that made them.
{ echo "# QEMU dumps of the kernel-written handover images"
  echo
  echo "Made by \`Scripts/make-qemu-fixtures.sh\` (\`make fixtures\`) from \`$IMAGES/<case>.elf[.zst]\`,"
  echo "cases ${CASES[*]}. Each input PT_LOAD is put at its physical address into a"
  echo "paused TCG guest (\`-device loader\`) and QEMU's \`dump-guest-memory\` (paging off) writes:"
  echo
  echo "- \`<case>.qemu-elf.zst\`: the ELF core (one PT_LOAD per RAM/ROM block, zero pages included)"
  echo "- \`<case>.qemu-kdump-zlib-flat.zst\`: the kdump-zlib dump as QEMU writes it (makedumpfile flattened format)"
  echo "- \`<case>.qemu-kdump-zlib.zst\`: the same reassembled by \`makedumpfile -R\` (\"KDUMP   \" kdump-compressed)"
  echo
  echo "Guest: \`-machine pc,max-ram-below-4g=1M -m 65M\`: RAM [0, 0xc0000), ROM 0xc0000-0xfffff and"
  echo "0xfffc0000-0xffffffff, RAM [0x100000000, 0x104000000). All files are zstd -19; \`zstd -d\` first."
  echo "Tools: $(qemu-system-x86_64 --version | head -1); $(makedumpfile -v | head -1)."
  echo "Remake: \`make fixtures\` (checks every segment's bytes in the ELF dump and the kdump signatures)."
} >"$OUT/README.md"
ls -l "$OUT"
