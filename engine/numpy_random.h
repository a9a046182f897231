/* numpy's legacy global random state (np.random.seed, permutation, randint/choice with
 * replacement): MT19937 and the bounded draws numpy's RandomState makes, bit for bit, so that
 * rows LLaMA-Factory samples with np.random (dataset num_samples) are the same rows here. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct hn_np_random_s {
    uint32_t key[624];
    int pos;
} hn_np_random;

/* np.random.seed(seed) with an integer seed (transformers.set_seed does this). */
void hn_np_random_seed(hn_np_random *rng, uint32_t seed);
/* The next 32 random bits. */
uint32_t hn_np_random_next32(hn_np_random *rng);
/* A value in [0, max], by masked rejection (numpy's random_interval). */
uint64_t hn_np_random_interval(hn_np_random *rng, uint64_t max);
/* np.random.permutation(n) into out[n]. */
void hn_np_random_permutation(hn_np_random *rng, size_t n, size_t *out);
/* np.random.choice(n, count) (with replacement, uniform: randint(0, n, count)) into out. */
void hn_np_random_choice(hn_np_random *rng, size_t n, size_t count, size_t *out);
