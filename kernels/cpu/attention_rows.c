/* The element-wise work of CPU attention between its GEMMs, one row of scores at a time: the
 * softmax of the forward, the probabilities and score gradients of the backward; and a decoded
 * query's scores and weighted sums against the cache. The loops vectorise (an OpenMP simd
 * reduction for the sum, lanes of running maxima for the max) around fast_exp
 * (vector_math.h), since the C library's expf is a call per element. */
#include <math.h>
#include <string.h>

#include "attention.h"
#include "cpu_ops.h"
#include "vector_math.h"

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

/* ---- one decoded query per head against cached keys, key rows read in order ------------- */

typedef float lanes16 __attribute__((vector_size(64)));
typedef float lanes8 __attribute__((vector_size(32)));
typedef float lanes4 __attribute__((vector_size(16)));

/* a . b over n floats; n a multiple of 16: sixteen running sums, then added in halves (the
 * order an `omp simd` reduction may not take: without -ffast-math GCC adds the lanes one by
 * one, a chain of 16 dependent additions per dot) */
static inline __attribute__((always_inline)) float dot_by_16(const float *a, const float *b,
                                                             int n)
{
    lanes16 sums = {0};
    for (int c = 0; c < n; c += 16) {
        lanes16 x, y;
        memcpy(&x, a + c, sizeof x);
        memcpy(&y, b + c, sizeof y);
        sums += x * y;
    }
    lanes8 half = __builtin_shufflevector(sums, sums, 0, 1, 2, 3, 4, 5, 6, 7) +
                  __builtin_shufflevector(sums, sums, 8, 9, 10, 11, 12, 13, 14, 15);
    lanes4 quarter = __builtin_shufflevector(half, half, 0, 1, 2, 3) +
                     __builtin_shufflevector(half, half, 4, 5, 6, 7);
    return (quarter[0] + quarter[2]) + (quarter[1] + quarter[3]);
}

static inline __attribute__((always_inline)) float dot(const float *a, const float *b, int n)
{
    if (n % 16 == 0)
        return dot_by_16(a, b, n);
    float sum = 0.0f;
    for (int c = 0; c < n; c++)
        sum += a[c] * b[c];
    return sum;
}

/* The body of hn_cpu_attention_query_scores with HD a constant where it is a common width. */
static inline __attribute__((always_inline)) void
query_scores(float *scores, const float *q, const float *k, int keys, int NH, int NKV, int HD,
             float scale)
{
    int group = NH / NKV;
    size_t stride = (size_t)NKV * HD;
    for (int j = 0; j < keys; j++) {
        const float *row = k + (size_t)j * stride;
        for (int h = 0; h < NH; h++)
            scores[(size_t)h * keys + j] =
                scale * dot(q + (size_t)h * HD, row + (size_t)(h / group) * HD, HD);
    }
}

ROW_KERNEL
void hn_cpu_attention_query_scores(float *scores, const float *q, const float *k, int keys,
                                   int NH, int NKV, int HD, float scale)
{
    if (HD == 64)
        query_scores(scores, q, k, keys, NH, NKV, 64, scale);
    else if (HD == 128)
        query_scores(scores, q, k, keys, NH, NKV, 128, scale);
    else
        query_scores(scores, q, k, keys, NH, NKV, HD, scale);
}

/* The body of hn_cpu_attention_query_values, as query_scores. */
static inline __attribute__((always_inline)) void
query_values(float *out, const float *p, const float *v, int keys, int NH, int NKV, int HD)
{
    int group = NH / NKV;
    size_t stride = (size_t)NKV * HD;
    memset(out, 0, (size_t)NH * (size_t)HD * sizeof *out);
    for (int j = 0; j < keys; j++) {
        const float *row = v + (size_t)j * stride;
        for (int h = 0; h < NH; h++) {
            float weight = p[(size_t)h * keys + j], *o = out + (size_t)h * HD;
            const float *value = row + (size_t)(h / group) * HD;
#pragma omp simd
            for (int c = 0; c < HD; c++)
                o[c] += weight * value[c];
        }
    }
}

ROW_KERNEL
void hn_cpu_attention_query_values(float *out, const float *p, const float *v, int keys, int NH,
                                   int NKV, int HD)
{
    if (HD == 64)
        query_values(out, p, v, keys, NH, NKV, 64);
    else if (HD == 128)
        query_values(out, p, v, keys, NH, NKV, 128);
    else
        query_values(out, p, v, keys, NH, NKV, HD);
}
