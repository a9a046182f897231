/* Causal self-attention with grouped KV heads, per-document masks (packed sequences) and an
 * optional sliding window, without ever holding a [T, T] matrix: the forward walks the keys
 * of each query in blocks with an online softmax (Milakov & Gimelshein, arXiv:1805.02867;
 * FlashAttention, Dao et al., arXiv:2205.14135) and keeps each row's log-sum-exp; the
 * backward recomputes the probabilities from it (FlashAttention-2, arXiv:2307.08691):
 *   p = exp(q.k * scale - lse),  D = dout . out,  ds = p * (dout . v - D),
 *   dq += scale * sum_s ds k,  dk += scale * sum_t ds q,  dv += sum_t p dout.
 * The backward runs in two passes, one over queries (dq) and one over keys (dk, dv), so no
 * two threads ever add into the same row and the result does not depend on the thread
 * count. */
#include <glib.h>
#include <math.h>

#include "cpu_ops.h"

enum { KEY_BLOCK = 64 }; /* keys scored at once in the forward */

/* The sizes and layout shared by the passes. */
typedef struct {
    int T, NH, NKV, HD, window;
    const int32_t *doc_start; /* [B, T] or NULL */
    float scale;
} attention_shape;

/* The first key token t may see in row b. */
static int first_key(const attention_shape *a, int b, int t)
{
    int first = a->doc_start != NULL ? a->doc_start[(size_t)b * a->T + t] : 0;
    if (a->window > 0 && t - a->window + 1 > first)
        first = t - a->window + 1;
    return first;
}

static inline float dot(const float *x, const float *y, int n)
{
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < n; i++)
        sum += x[i] * y[i];
    return sum;
}

/* y += alpha * x */
static inline void axpy(float *y, float alpha, const float *x, int n)
{
#pragma omp simd
    for (int i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

/* Row (b, t, head) of a [B, T, heads, HD] tensor. */
static inline size_t row_offset(const attention_shape *a, int b, int t, int heads, int head)
{
    return (((size_t)b * a->T + t) * heads + head) * a->HD;
}

/* One query row: out[HD] and its log-sum-exp, keys first..t in blocks. */
static float attend_one_query(float *out, const float *q, const float *k, const float *v,
                              const attention_shape *a, int b, int t, int kv_head)
{
    float running_max = -INFINITY, running_sum = 0.0f;
    float scores[KEY_BLOCK];
    for (int i = 0; i < a->HD; i++)
        out[i] = 0.0f;
    for (int block = first_key(a, b, t); block <= t; block += KEY_BLOCK) {
        int count = t + 1 - block < KEY_BLOCK ? t + 1 - block : KEY_BLOCK;
        float block_max = -INFINITY;
        for (int j = 0; j < count; j++) {
            scores[j] = dot(q, k + row_offset(a, b, block + j, a->NKV, kv_head), a->HD) * a->scale;
            block_max = fmaxf(block_max, scores[j]);
        }
        float new_max = fmaxf(running_max, block_max);
        float rescale = expf(running_max - new_max); /* 0 on the first block */
        running_sum *= rescale;
        for (int i = 0; i < a->HD; i++)
            out[i] *= rescale;
        for (int j = 0; j < count; j++) {
            float p = expf(scores[j] - new_max);
            running_sum += p;
            axpy(out, p, v + row_offset(a, b, block + j, a->NKV, kv_head), a->HD);
        }
        running_max = new_max;
    }
    for (int i = 0; i < a->HD; i++)
        out[i] /= running_sum;
    return running_max + logf(running_sum);
}

static attention_shape make_shape(const int32_t *doc_start, float scale, int window, int T,
                                  int NH, int NKV, int HD)
{
    attention_shape a = {.T = T, .NH = NH, .NKV = NKV, .HD = HD, .window = window,
                         .doc_start = doc_start, .scale = scale};
    return a;
}

void hn_cpu_attention_forward(float *out, float *lse, const float *q, const float *k,
                              const float *v, const int32_t *doc_start, float scale, int window,
                              int B, int T, int NH, int NKV, int HD)
{
    attention_shape a = make_shape(doc_start, scale, window, T, NH, NKV, HD);
    int group = NH / NKV; /* query heads per KV head */
    size_t rows = (size_t)B * NH * T;
    /* dynamic: rows late in a sequence see more keys */
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t row = 0; row < rows; row++) {
        int t = (int)(row % (size_t)T), h = (int)(row / T % (size_t)NH), b = (int)(row / T / NH);
        size_t at = row_offset(&a, b, t, NH, h);
        lse[row] = attend_one_query(out + at, q + at, k, v, &a, b, t, h / group);
    }
}

/* D[b, h, t] = dout . out per query row. */
static float *output_dots(const float *dout, const float *out, const attention_shape *a, int B)
{
    size_t rows = (size_t)B * a->NH * a->T;
    float *dots = g_new(float, rows);
#pragma omp parallel for schedule(static)
    for (size_t row = 0; row < rows; row++) {
        int t = (int)(row % (size_t)a->T), h = (int)(row / a->T % (size_t)a->NH);
        int b = (int)(row / a->T / a->NH);
        size_t at = row_offset(a, b, t, a->NH, h);
        dots[row] = dot(dout + at, out + at, a->HD);
    }
    return dots;
}

/* dq for one query row: scale * sum over its keys of ds * k. */
static void query_gradient(float *dq, const float *q, const float *dout, float lse, float D,
                           const float *k, const float *v, const attention_shape *a, int b, int t,
                           int kv_head)
{
    for (int s = first_key(a, b, t); s <= t; s++) {
        const float *key = k + row_offset(a, b, s, a->NKV, kv_head);
        float p = expf(dot(q, key, a->HD) * a->scale - lse);
        float dp = dot(dout, v + row_offset(a, b, s, a->NKV, kv_head), a->HD);
        axpy(dq, p * (dp - D) * a->scale, key, a->HD);
    }
}

/* dk, dv for one key row of one KV head: sums over the queries (of every head in the group)
 * that see it. */
static void key_gradient(float *dk, float *dv, const float *key, const float *value,
                         const float *q, const float *dout, const float *lse, const float *dots,
                         const attention_shape *a, int b, int s, int kv_head)
{
    int group = a->NH / a->NKV;
    for (int t = s; t < a->T; t++) {
        if (first_key(a, b, t) > s)
            break; /* past the window or into the next document: so are later queries */
        for (int h = kv_head * group; h < (kv_head + 1) * group; h++) {
            size_t at = row_offset(a, b, t, a->NH, h);
            size_t row = ((size_t)b * a->NH + h) * a->T + t;
            float p = expf(dot(q + at, key, a->HD) * a->scale - lse[row]);
            float dp = dot(dout + at, value, a->HD);
            axpy(dv, p, dout + at, a->HD);
            axpy(dk, p * (dp - dots[row]) * a->scale, q + at, a->HD);
        }
    }
}

void hn_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                               const float *q, const float *k, const float *v, const float *out,
                               const float *lse, const int32_t *doc_start, float scale,
                               int window, int B, int T, int NH, int NKV, int HD)
{
    attention_shape a = make_shape(doc_start, scale, window, T, NH, NKV, HD);
    int group = NH / NKV;
    float *dots = output_dots(dout, out, &a, B);
    size_t query_rows = (size_t)B * NH * T;
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t row = 0; row < query_rows; row++) {
        int t = (int)(row % (size_t)T), h = (int)(row / T % (size_t)NH), b = (int)(row / T / NH);
        size_t at = row_offset(&a, b, t, NH, h);
        query_gradient(dq + at, q + at, dout + at, lse[row], dots[row], k, v, &a, b, t,
                       h / group);
    }
    size_t key_rows = (size_t)B * NKV * T;
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t row = 0; row < key_rows; row++) {
        int s = (int)(row % (size_t)T), kv_head = (int)(row / T % (size_t)NKV);
        int b = (int)(row / T / NKV);
        size_t at = row_offset(&a, b, s, NKV, kv_head);
        key_gradient(dk + at, dv + at, k + at, v + at, q, dout, lse, dots, &a, b, s, kv_head);
    }
    g_free(dots);
}
