/* addrmap — slice hash and DRAM coordinates. */
#include "addrmap.h"

#include "hash.h"

static void split(const cs_addrmap *m, uint64_t addr, uint64_t *q, uint32_t *slice)
{
    uint64_t line = addr >> 7;
    *q = line / m->slices;
    uint64_t r = line % m->slices;
    *slice = (uint32_t)((r + cs_mix64(*q)) % m->slices);
}

uint32_t cs_addrmap_slice(const cs_addrmap *m, uint64_t addr)
{
    uint64_t q;
    uint32_t s;
    split(m, addr, &q, &s);
    return s;
}

uint64_t cs_addrmap_slice_key(const cs_addrmap *m, uint64_t addr)
{
    return (addr >> 7) / m->slices;
}

uint64_t cs_addrmap_line_addr(const cs_addrmap *m, uint32_t slice, uint64_t key)
{
    uint64_t h = cs_mix64(key) % m->slices;
    uint64_t r = (slice + m->slices - h) % m->slices;
    return (key * m->slices + r) << 7;
}

uint32_t cs_addrmap_channel(const cs_addrmap *m, uint64_t addr)
{
    return cs_addrmap_slice(m, addr) % m->channels;
}

cs_dram_coord cs_addrmap_dram(const cs_addrmap *m, uint64_t addr)
{
    uint64_t q;
    uint32_t s;
    split(m, addr, &q, &s);
    uint32_t per = m->slices / m->channels;
    uint64_t local = q * per + s / m->channels;
    cs_dram_coord c;
    c.channel = s % m->channels;
    c.bank_group = (uint32_t)(local % m->bank_groups);
    local /= m->bank_groups;
    c.column = (uint32_t)(local % m->lines_per_row);
    local /= m->lines_per_row;
    uint32_t bank = (uint32_t)(local % m->banks_per_group);
    c.row = local / m->banks_per_group;
    c.bank = (bank ^ (uint32_t)c.row) % m->banks_per_group;
    return c;
}
