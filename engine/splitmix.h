/* SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014;
 * the constants of Vigna's splitmix64.c): the trainer's generator for shuffling examples and
 * choosing held-out ones. Small, fast, and its whole state is one 64-bit word, which a
 * checkpoint saves. */
#pragma once

#include <stddef.h>
#include <stdint.h>

static inline uint64_t hn_splitmix_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
