/* The CPU backend's causal attention, forward and backward, timed on SmolLM2-135M's head
 * shape (9 query heads, 3 KV heads, head_dim 64) at two sequence lengths; prints one line
 * per length with the best of several runs in milliseconds. The thread count is
 * OMP_NUM_THREADS.
 *
 *   bench_attention [REPEATS] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <omp.h>

#include "backend.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* n floats uniform in [-amplitude, amplitude) from a fixed seed. */
static float *random_floats(size_t n, float amplitude, unsigned *seed)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = amplitude * (2.0f * (float)rand_r(seed) / (float)RAND_MAX - 1.0f);
    return x;
}

static void bench_length(const hn_backend *cpu, int T, int repeats)
{
    enum { B = 1, NH = 9, NKV = 3, HD = 64 };
    size_t q_size = (size_t)B * T * NH * HD, kv_size = (size_t)B * T * NKV * HD;
    unsigned seed = 1;
    float *q = random_floats(q_size, 2.0f, &seed), *k = random_floats(kv_size, 2.0f, &seed);
    float *v = random_floats(kv_size, 1.0f, &seed), *dout = random_floats(q_size, 1.0f, &seed);
    float *out = calloc(q_size, sizeof *out), *lse = calloc((size_t)B * NH * T, sizeof *lse);
    float *dq = calloc(q_size, sizeof *dq), *dk = calloc(kv_size, sizeof *dk);
    float *dv = calloc(kv_size, sizeof *dv);
    float scale = 1.0f / sqrtf((float)HD);
    double best_forward = INFINITY, best_backward = INFINITY;
    for (int run = 0; run < repeats + 1; run++) { /* run 0 warms up */
        double start = now();
        cpu->attention_forward(out, lse, q, k, v, NULL, scale, 0, B, T, NH, NKV, HD);
        double middle = now();
        cpu->attention_backward(dq, dk, dv, dout, q, k, v, out, lse, NULL, scale, 0, B, T, NH,
                                NKV, HD);
        double end = now();
        if (run > 0) {
            best_forward = fmin(best_forward, middle - start);
            best_backward = fmin(best_backward, end - middle);
        }
    }
    printf("B=%d T=%d NH=%d NKV=%d HD=%d threads=%d: forward %.2f ms, backward %.2f ms\n", B, T,
           NH, NKV, HD, omp_get_max_threads(), 1e3 * best_forward, 1e3 * best_backward);
    free(q);
    free(k);
    free(v);
    free(dout);
    free(out);
    free(lse);
    free(dq);
    free(dk);
    free(dv);
}

int main(int argc, char **argv)
{
    int repeats = argc > 1 ? atoi(argv[1]) : 5;
    if (repeats < 1)
        repeats = 1;
    const hn_backend *cpu = hn_cpu_backend();
    bench_length(cpu, 512, repeats);
    bench_length(cpu, 2048, repeats);
    return 0;
}
