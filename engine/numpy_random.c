/* numpy's legacy RandomState: MT19937 (Matsumoto and Nishimura 1998, as numpy's
 * mt19937.c seeds and steps it) and the masked-rejection bounded integers of its
 * distributions.c (random_interval, random_bounded_uint64_fill with use_masked). */
#include "numpy_random.h"

enum { MT_N = 624, MT_M = 397 };
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER 0x80000000U
#define MT_LOWER 0x7fffffffU

void hn_np_random_seed(hn_np_random *rng, uint32_t seed)
{
    for (int pos = 0; pos < MT_N; pos++) {
        rng->key[pos] = seed;
        seed = 1812433253U * (seed ^ (seed >> 30)) + (uint32_t)pos + 1;
    }
    rng->pos = MT_N;
}

static uint32_t twist(uint32_t a, uint32_t b, uint32_t far)
{
    uint32_t y = (a & MT_UPPER) | (b & MT_LOWER);
    return far ^ (y >> 1) ^ ((y & 1U) ? MT_MATRIX_A : 0U);
}

static void regenerate(hn_np_random *rng)
{
    uint32_t *k = rng->key;
    int i = 0;
    for (; i < MT_N - MT_M; i++)
        k[i] = twist(k[i], k[i + 1], k[i + MT_M]);
    for (; i < MT_N - 1; i++)
        k[i] = twist(k[i], k[i + 1], k[i + MT_M - MT_N]);
    k[MT_N - 1] = twist(k[MT_N - 1], k[0], k[MT_M - 1]);
    rng->pos = 0;
}

uint32_t hn_np_random_next32(hn_np_random *rng)
{
    if (rng->pos == MT_N)
        regenerate(rng);
    uint32_t y = rng->key[rng->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    return y ^ (y >> 18);
}

static uint64_t next64(hn_np_random *rng)
{
    uint64_t high = hn_np_random_next32(rng);
    return (high << 32) | hn_np_random_next32(rng);
}

uint64_t hn_np_random_interval(hn_np_random *rng, uint64_t max)
{
    if (max == 0)
        return 0;
    uint64_t mask = max; /* the smallest all-ones mask >= max */
    for (int shift = 1; shift <= 32; shift *= 2)
        mask |= mask >> shift;
    uint64_t value;
    if (max <= 0xffffffffU) {
        while ((value = (hn_np_random_next32(rng) & mask)) > max)
            ;
    } else {
        while ((value = (next64(rng) & mask)) > max)
            ;
    }
    return value;
}

void hn_np_random_permutation(hn_np_random *rng, size_t n, size_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = i;
    for (size_t i = n; i-- > 1;) { /* RandomState.shuffle: Fisher-Yates from the end */
        size_t j = (size_t)hn_np_random_interval(rng, i);
        size_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

void hn_np_random_choice(hn_np_random *rng, size_t n, size_t count, size_t *out)
{
    /* randint(0, n): the range n - 1, the same masked draws as random_interval. 32-bit ranges
     * use the 32-bit generator, as random_bounded_uint64_fill does. */
    for (size_t i = 0; i < count; i++)
        out[i] = (size_t)hn_np_random_interval(rng, n - 1);
}
