# Builds Fuzz/Corpus/FuzzPayloads from the payload golden vectors:
#   python3 Specs/vectors/payloads/fuzz-seeds.py   (from the repository root)
# Each seed is a name selector (the index of the vector's string in the
# sorted registry), a placement byte (the payload's page from 0x100000000;
# bits 6-7 = 1: every page-aligned address preserved at order 0, or 2 for
# order 1 where the vector has an order-1 allocation), then the vector's
# pages laid out from 0x100000000.
import json, os, pathlib
root = pathlib.Path(__file__).resolve().parents[3]
V = root / 'Specs/vectors/payloads'
C = root / 'Fuzz/Corpus/FuzzPayloads'
# Payloads.registered: (name, host) sorted by name then host.
registry = sorted([
    ('guest_memfd_luo_v1', 'file'), ('kvm_vm_luo_v1', 'file'), ('kvm_vcpu_luo_v1', 'file'),
    ('huge-memfd-v1', 'file'), ('hugetlb-v1', 'flb'), ('tmpfs-mnt-v1', 'file'), ('tmpfs-file-v1', 'file'),
    ('mshv_prsv_pt', 'subnode'), ('hwpoison', 'subnode'), ('pstore-kho', 'subnode'),
    ('pci-v1', 'flb'), ('pci-v2', 'flb'), ('pci', 'flb'), ('vfio-pci-v1', 'file'), ('vfio-pci-v2', 'file'),
    ('iommu-v1', 'flb'), ('iommu-liveupdate-v1', 'flb'), ('iommu-liveupdate', 'flb'), ('iommufd-v1', 'file'),
    ('iommufd', 'subnode'), ('cpu_flb_v1', 'flb'), ('cpu_fh_v1', 'file'), ('rxe-liveupdate-v1', 'file'),
])
os.makedirs(C, exist_ok=True)
base = 0x100000000
for j in sorted(V.glob('*.json')):
    m = json.load(open(j))
    b = open(j.with_suffix('.bin'), 'rb').read()
    ps = m['page_size']
    last = max(int(a, 16) for a, _ in m['pages'])
    mem = bytearray((last - base) // ps * ps + ps)
    off = 0
    for a, n in m['pages']:
        a = int(a, 16); n = int(n)
        mem[a - base:a - base + n] = b[off:off + n]; off += n
    while mem and mem[-1] == 0: mem.pop()
    page = (int(m['address'], 16) - base) // ps
    if page >= 64: continue  # the placement byte reaches 64 pages
    sel = registry.index((m['compatible'], m['host']))
    order = max(int(o) for _, o in m['preserved'])
    mode = {0: 1, 1: 2}.get(order, 3)
    open(C / (j.stem + '.bin'), 'wb').write(bytes([sel, page | (mode << 6)]) + bytes(mem))
