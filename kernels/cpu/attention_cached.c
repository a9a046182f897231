/* Attention of new queries against a key/value cache (inference: a prompt's prefill and then
 * one token at a time). Per query head and block of ATTENTION_QUERY_BLOCK queries, as the
 * training forward (attention_forward.c) does it:
 *   S = scale * Q_block K^T over the keys the block sees, P = softmax(S) with the causal and
 *   sliding-window mask, O_block = P V,
 * but the queries sit at positions past .. past + T - 1 of a cache holding past + T keys.
 * One thread per (head, block), OpenBLAS single-threaded inside, so results do not depend on
 * the thread count. */
#include <cblas.h>
#include <glib.h>

#include "attention.h"
#include "cpu_ops.h"

/* The first key query position `position` sees. */
static int first_key(int position, int window)
{
    return window > 0 && position - window + 1 > 0 ? position - window + 1 : 0;
}

static void cached_block(float *out, const float *q, const float *k, const float *v, float scale,
                         int window, int past, int t0, int rows, int h, int NH, int NKV, int HD,
                         float *scores)
{
    int kv_head = h / (NH / NKV), q_stride = NH * HD, kv_stride = NKV * HD;
    int first = first_key(past + t0, window), last = past + t0 + rows - 1;
    int keys = last - first + 1;
    const float *q_block = q + ((size_t)t0 * NH + h) * HD;
    const float *k_seen = k + ((size_t)first * NKV + kv_head) * HD;
    const float *v_seen = v + ((size_t)first * NKV + kv_head) * HD;
    /* scores[rows, keys] = scale * q_block[rows, HD] @ k_seen[keys, HD]^T; one query (a
     * decoded token) as a matrix-vector product: OpenBLAS's sgemm with one row goes through
     * its small-matrix kernels, several times slower than sgemv there */
    if (rows == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, keys, HD, scale, k_seen, kv_stride, q_block, 1,
                    0.0f, scores, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, HD, scale, q_block,
                    q_stride, k_seen, kv_stride, 0.0f, scores, keys);
    for (int r = 0; r < rows; r++) {
        int position = past + t0 + r;
        hn_cpu_attention_softmax_row(scores + (size_t)r * keys,
                                     first_key(position, window) - first, position - first,
                                     keys);
    }
    /* out rows[rows, HD] = probabilities[rows, keys] @ v_seen[keys, HD] */
    float *out_block = out + ((size_t)t0 * NH + h) * HD;
    if (rows == 1)
        cblas_sgemv(CblasRowMajor, CblasTrans, keys, HD, 1.0f, v_seen, kv_stride, scores, 1,
                    0.0f, out_block, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, HD, keys, 1.0f, scores,
                    keys, v_seen, kv_stride, 0.0f, out_block, q_stride);
}

void hn_cpu_attention_cached_forward(float *out, const float *q, const float *k, const float *v,
                                     float scale, int window, int past, int T, int NH, int NKV,
                                     int HD)
{
    int blocks = (T + ATTENTION_QUERY_BLOCK - 1) / ATTENTION_QUERY_BLOCK;
    size_t tasks = (size_t)NH * blocks;
    /* threads only for enough work: a decoding step over a very short cache is cheaper
     * alone. Each head's two small sgemms cost about a microsecond of call overhead, so
     * one token's attention (9 heads of SmolLM2) over 60 or more positions is worth the
     * threads' wake-up already (decode measured faster than with the earlier 262144, which
     * kept every bench step single-threaded). Each (head, block) is one thread's either way:
     * the results do not depend on it. */
#pragma omp parallel if (tasks > 1 && (size_t)T * (size_t)(past + T) * (size_t)NH * HD > 32768)
    {
        float *scores = g_new(float, (size_t)ATTENTION_QUERY_BLOCK * (size_t)(past + T));
#pragma omp for schedule(dynamic, 1)
        for (size_t task = 0; task < tasks; task++) {
            int h = (int)(task / (size_t)blocks);
            int t0 = (blocks - 1 - (int)(task % (size_t)blocks)) * ATTENTION_QUERY_BLOCK;
            int rows = MIN(ATTENTION_QUERY_BLOCK, T - t0);
            cached_block(out, q, k, v, scale, window, past, t0, rows, h, NH, NKV, HD, scores);
        }
        g_free(scores);
    }
}
