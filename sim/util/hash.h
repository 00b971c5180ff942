/* hash — small deterministic hashes and a seeded PRNG. Header-only, no state outside callers. */
#ifndef CS_HASH_H
#define CS_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64-bit: config hashes, names. */
static inline uint64_t cs_fnv1a(const void *data, size_t len, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define CS_FNV_SEED 0xcbf29ce484222325ULL

/* splitmix64 finaliser: a good bit mixer for address hashing. */
static inline uint64_t cs_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* xoshiro256** seeded by splitmix64: reproducible streams from one 64-bit seed. */
typedef struct cs_rng {
    uint64_t s[4];
} cs_rng;

static inline void cs_rng_seed(cs_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ULL;
        r->s[i] = cs_mix64(seed);
    }
}

static inline uint64_t cs_rng_next(cs_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for n < 2^32). */
static inline uint64_t cs_rng_below(cs_rng *r, uint64_t n)
{
    return (uint64_t)(((cs_rng_next(r) >> 32) * (n & 0xffffffffULL)) >> 32) % n;
}

#endif
