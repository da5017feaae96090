# Builds Fuzz/Corpus/Fuzz{Blocks,LUO,Memfd,VMalloc} from the golden vectors:
#   python3 Specs/vectors/luo/fuzz-seeds.py   (from the repository root)
# Each seed is one selector byte and the vector's pages laid out from 0x100000000.
import json, os, sys
import pathlib
root = str(pathlib.Path(__file__).resolve().parents[3])
V = root + '/Specs/vectors'
C = root + '/Fuzz/Corpus'
def memory(fmt, name, keep_last_page=False):
    m = json.load(open(f'{V}/{fmt}/{name}.json'))
    b = open(f'{V}/{fmt}/{name}.bin', 'rb').read()
    ps = m['page_size']; out = bytearray(); off = 0
    start = None; prev = None
    for p in m['pages']:
        a = int(p['address'], 16); n = p['length']
        if start is None: start = a
        assert prev is None or a == prev + ps, (fmt, name)
        prev = a
        out += b[off:off+n] + bytes(ps - n); off += n
    # trim trailing zeros of the last page only (the harness zero-pads)
    # Trailing zeros are dropped (the harness zero-pads to a page); with
    # keep_last_page a trailing all-zero page that must be captured stays.
    keep = (len(m['pages']) - 1) * ps + 1 if keep_last_page else 0
    while len(out) > keep and out[-1] == 0: out.pop()
    return m, bytes(out), start
def save(target, name, data):
    os.makedirs(f'{C}/{target}', exist_ok=True)
    open(f'{C}/{target}/{name}', 'wb').write(data)
sizes = [1, 16, 32, 64, 80, 1024, 4080]
for name in ['e1024-n7', 'e32-n130']:
    m, mem, start = memory('block-v1', name)
    assert start == 0x100000000
    save('FuzzBlocks', name + '.bin', bytes([sizes.index(m['entry_size'])]) + mem)
versions = ['luo-v1', 'luo-v2', 'luo-v3', 'luo-v4', 'luo-v5', 'luo-v5;block-v1',
            'luo-v3-kho-block-v1', 'luo-v4-kho-block-v1', 'luo-features']
for i, v in enumerate(versions):
    m, mem, start = memory('luo', v.replace(';', '_'))
    assert int(m['blob'], 16) == start == 0x100000000
    save('FuzzLUO', v.replace(';', '_') + '.bin', bytes([i]) + mem)
    if i >= 2: save('FuzzLUO', v.replace(';', '_') + '-sized.bin', bytes([i | 0x80]) + mem)
# luo-v1 with the first commit's name-only session entries (selector 0: luo-v1).
m, mem, start = memory('luo', 'luo-v1_luo-session-v1')
assert int(m['blob'], 16) == start == 0x100000000
save('FuzzLUO', 'luo-v1_luo-session-v1.bin', bytes([0]) + mem)
mv = ['memfd-v1', 'memfd-v2', 'memfd-v2;vmalloc-v1', 'memfd']
for i, v in enumerate(mv):
    m, mem, start = memory('memfd', v.replace(';', '_'))
    page = (int(m['address'], 16) - start) // 4096
    save('FuzzMemfd', v.replace(';', '_') + '.bin', bytes([page * len(mv) + i]) + mem)
for name in ['data-3pages', 'runs-511']:
    m, mem, start = memory('vmalloc-v1', name, keep_last_page=True)
    assert int(m['descriptor'], 16) == start
    save('FuzzVMalloc', name + '.bin', mem[:16] + mem)
