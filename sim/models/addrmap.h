/* addrmap — where a byte address lives: which L2 slice, which DRAM channel, and the
 * channel-local coordinates (bank group, bank, row, column).
 *
 * One bijective map shared by the L2 and the DRAM model, so a line always goes to the slice
 * attached to the channel that holds it. Memory is interleaved over the slices in chunks of
 * `interleave` bytes (a power of two, at least one 128-byte line):
 *   chunk = addr / interleave = q * slices + r;  slice = (r + h(q)) mod slices  (h: a bit
 *   mixer, so power-of-two strides spread over all slices);  channel = slice mod channels
 *   (slices is a multiple of channels).
 * A slice's lines are numbered key = q * lines_per_chunk + line within the chunk (the tag
 * store's key). A channel's lines are numbered local = (q * (slices / channels) + slice /
 * channels) * lines_per_chunk + line within the chunk, and local is split, lowest bits first,
 * into column (line within the DRAM row: a chunk fills a row, so a streaming access keeps
 * hitting the open row), bank group (consecutive chunks alternate bank groups, so reads are
 * not held to tCCD_L), bank, row; the bank index is XORed with low row bits (permutation
 * interleaving) to spread row conflicts.
 */
#ifndef CS_ADDRMAP_H
#define CS_ADDRMAP_H

#include <stdint.h>

typedef struct cs_addrmap {
    uint32_t slices;          /* L2 slices */
    uint32_t channels;        /* DRAM channels; slices % channels == 0 */
    uint32_t bank_groups;     /* per channel, power of two */
    uint32_t banks_per_group; /* power of two */
    uint32_t lines_per_row;   /* row bytes / 128, power of two */
    uint32_t lines_per_chunk; /* interleave bytes / 128, power of two */
} cs_addrmap;

typedef struct cs_dram_coord {
    uint32_t channel, bank_group, bank; /* bank: within its group */
    uint64_t row;
    uint32_t column;                    /* line within the row */
} cs_dram_coord;

uint32_t cs_addrmap_slice(const cs_addrmap *m, uint64_t addr);
/* The line's index within its slice (unique per slice: the key of its tag store). */
uint64_t cs_addrmap_slice_key(const cs_addrmap *m, uint64_t addr);
/* Inverse: the byte address of the line with this key in this slice. */
uint64_t cs_addrmap_line_addr(const cs_addrmap *m, uint32_t slice, uint64_t key);
uint32_t cs_addrmap_channel(const cs_addrmap *m, uint64_t addr);
cs_dram_coord cs_addrmap_dram(const cs_addrmap *m, uint64_t addr);

#endif
