/* addrmap — slice hash and DRAM coordinates. */
#include "addrmap.h"

#include "hash.h"

/* chunk = q * slices + r; returns q, the slice and the line within the chunk. */
static void split(const cs_addrmap *m, uint64_t addr, uint64_t *q, uint32_t *slice, uint32_t *lc)
{
    uint64_t line = addr >> 7, chunk = line / m->lines_per_chunk;
    *lc = (uint32_t)(line % m->lines_per_chunk);
    *q = chunk / m->slices;
    uint64_t r = chunk % m->slices;
    *slice = (uint32_t)((r + cs_mix64(*q)) % m->slices);
}

uint32_t cs_addrmap_slice(const cs_addrmap *m, uint64_t addr)
{
    uint64_t q;
    uint32_t s, lc;
    split(m, addr, &q, &s, &lc);
    return s;
}

uint64_t cs_addrmap_slice_key(const cs_addrmap *m, uint64_t addr)
{
    uint64_t q;
    uint32_t s, lc;
    split(m, addr, &q, &s, &lc);
    return q * m->lines_per_chunk + lc;
}

uint64_t cs_addrmap_line_addr(const cs_addrmap *m, uint32_t slice, uint64_t key)
{
    uint64_t q = key / m->lines_per_chunk, lc = key % m->lines_per_chunk;
    uint64_t h = cs_mix64(q) % m->slices;
    uint64_t r = (slice + m->slices - h) % m->slices;
    return ((q * m->slices + r) * m->lines_per_chunk + lc) << 7;
}

uint32_t cs_addrmap_channel(const cs_addrmap *m, uint64_t addr)
{
    return cs_addrmap_slice(m, addr) % m->channels;
}

cs_dram_coord cs_addrmap_dram(const cs_addrmap *m, uint64_t addr)
{
    uint64_t q;
    uint32_t s, lc;
    split(m, addr, &q, &s, &lc);
    uint32_t per = m->slices / m->channels;
    uint64_t local = (q * per + s / m->channels) * m->lines_per_chunk + lc;
    cs_dram_coord c;
    c.channel = s % m->channels;
    c.column = (uint32_t)(local % m->lines_per_row);
    local /= m->lines_per_row;
    c.bank_group = (uint32_t)(local % m->bank_groups);
    local /= m->bank_groups;
    uint32_t bank = (uint32_t)(local % m->banks_per_group);
    c.row = local / m->banks_per_group;
    c.bank = (bank ^ (uint32_t)c.row) % m->banks_per_group;
    return c;
}
