/* The element-wise work of CPU attention between its GEMMs, one row of scores at a time: the
 * softmax of the forward, the probabilities and score gradients of the backward. The loops
 * vectorise (an OpenMP simd reduction for the sum, lanes of running maxima for the max)
 * around an exp of our own, since the C library's expf is a call per element:
 *   exp(x) = 2^n exp(r),  n = round(x / ln 2),  r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2],
 * with n ln 2 subtracted in two parts (Cody & Waite's range reduction, as in Cephes' expf)
 * and exp(r) from its Taylor polynomial of degree 7 (truncation error below r^8 / 8! * e^r <
 * 7.3e-9 relative), 2^n put straight into the exponent bits. Measured against exp in double
 * over [-87, 88] in steps of 1e-5: max relative error 1.1e-7, under 1 ulp. Each row function
 * is compiled for AVX-512, AVX2 + FMA and plain x86-64, chosen when the program loads. */
#include <math.h>
#include <string.h>

#include "attention.h"
#include "cpu_ops.h"

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define ROW_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef ROW_KERNEL
#define ROW_KERNEL
#endif

/* exp(x) for x in [-87, 88] (outside: clamped, so exp(-inf) is 1.6e-38, not 0); NaN stays
 * NaN. */
static inline float fast_exp(float x)
{
    const float log2e = 1.44269504088896341f;
    const float ln2_high = 0.693359375f;       /* few significant bits: n * ln2_high is exact */
    const float ln2_low = -2.12194440054690583e-4f; /* ln 2 - ln2_high */
    const float rounder = 12582912.0f;          /* 1.5 * 2^23: adding it rounds to an integer */
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = (x * log2e + rounder) - rounder;
    float r = (x - n * ln2_high) - n * ln2_low;
    float poly = 1.0f / 5040.0f;
    poly = poly * r + 1.0f / 720.0f;
    poly = poly * r + 1.0f / 120.0f;
    poly = poly * r + 1.0f / 24.0f;
    poly = poly * r + 1.0f / 6.0f;
    poly = poly * r + 0.5f;
    poly = poly * r + 1.0f;
    poly = poly * r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* 2^n, n in [-126, 127] */
    float two_to_n;
    memcpy(&two_to_n, &bits, sizeof two_to_n);
    return poly * two_to_n;
}

/* x[j] = 0 for j outside [from, to] of [0, n). */
static inline void zero_outside(float *x, int from, int to, int n)
{
    if (from > 0)
        memset(x, 0, (size_t)from * sizeof *x);
    if (to + 1 < n)
        memset(x + to + 1, 0, (size_t)(n - to - 1) * sizeof *x);
}

/* The largest of x[from..to], in MAX_LANES running maxima that compile to vector max
 * instructions (a max reduction under `omp simd` is one that clang does not vectorise). */
static inline float largest(const float *x, int from, int to)
{
    enum { MAX_LANES = 16 };
    float lanes[MAX_LANES];
    for (int l = 0; l < MAX_LANES; l++)
        lanes[l] = x[from];
    int j = from;
    for (; j + MAX_LANES - 1 <= to; j += MAX_LANES)
#pragma omp simd
        for (int l = 0; l < MAX_LANES; l++)
            lanes[l] = hn_cpu_max(lanes[l], x[j + l]);
    float max = x[from];
    for (; j <= to; j++)
        max = hn_cpu_max(max, x[j]);
    for (int l = 0; l < MAX_LANES; l++)
        max = hn_cpu_max(max, lanes[l]);
    return max;
}

ROW_KERNEL
float hn_cpu_attention_softmax_row(float *scores, int from, int to, int n)
{
    float max = largest(scores, from, to);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = from; j <= to; j++) {
        float p = fast_exp(scores[j] - max);
        scores[j] = p;
        sum += p;
    }
    float inverse = 1.0f / sum;
#pragma omp simd
    for (int j = from; j <= to; j++)
        scores[j] *= inverse;
    zero_outside(scores, from, to, n);
    return max + logf(sum);
}

ROW_KERNEL
void hn_cpu_attention_gradient_row(float *p, float *dscores, float lse, float D, int from,
                                   int to, int n)
{
#pragma omp simd
    for (int j = from; j <= to; j++) {
        float probability = fast_exp(p[j] - lse);
        p[j] = probability;
        dscores[j] = probability * (dscores[j] - D);
    }
    zero_outside(p, from, to, n);
    zero_outside(dscores, from, to, n);
}
