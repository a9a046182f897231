/* Attention of new queries against a key/value cache (inference: a prompt's prefill and then
 * one token at a time). Per query head and block of ATTENTION_QUERY_BLOCK queries, as the
 * training forward (attention_forward.c) does it:
 *   S = scale * Q_block K^T over the keys the block sees, P = softmax(S) with the causal and
 *   sliding-window mask, O_block = P V,
 * but the queries sit at positions past .. past + T - 1 of a cache holding past + T keys.
 * One thread per (head, block), OpenBLAS single-threaded inside, so results do not depend on
 * the thread count. One decoded token (T = 1) goes its own way, one_query: its keys in fixed
 * chunks, every cached row read once for all heads. */
#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "attention.h"
#include "cpu_ops.h"

/* Keys per chunk of one decoded query (one_query) */
enum { ONE_QUERY_CHUNK = 64 };

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

/* Chunk of one decoded query's keys (`keys` cache rows from `first`): each head's output over
 * the chunk alone (normalised within it) into part_out [NH, HD], and its log-sum-exp into
 * part_lse [NH]. scores: [NH, keys] of scratch. */
static void query_chunk(float *part_out, float *part_lse, const float *q, const float *k,
                        const float *v, float scale, int first, int keys, int NH, int NKV, int HD,
                        float *scores)
{
    size_t stride = (size_t)NKV * HD;
    hn_cpu_attention_query_scores(scores, q, k + (size_t)first * stride, keys, NH, NKV, HD,
                                  scale);
    for (int h = 0; h < NH; h++)
        part_lse[h] = hn_cpu_attention_softmax_row(scores + (size_t)h * keys, 0, keys - 1, keys);
    hn_cpu_attention_query_values(part_out, scores, v + (size_t)first * stride, keys, NH, NKV,
                                  HD);
}

/* out [NH, HD] = the chunks' outputs parts [chunks, NH, HD], each head's weighed by
 * exp(lse_chunk - lse_all) from part_lse [chunks, NH]. */
static void merge_chunks(float *out, const float *parts, const float *part_lse, int chunks,
                         int NH, int HD)
{
    for (int h = 0; h < NH; h++) {
        float top = part_lse[h];
        for (int c = 1; c < chunks; c++)
            top = hn_cpu_max(top, part_lse[(size_t)c * NH + h]);
        float total = 0.0f;
        for (int c = 0; c < chunks; c++)
            total += expf(part_lse[(size_t)c * NH + h] - top);
        float *o = out + (size_t)h * HD;
        memset(o, 0, (size_t)HD * sizeof *o);
        for (int c = 0; c < chunks; c++) {
            float weight = expf(part_lse[(size_t)c * NH + h] - top) / total;
            const float *part = parts + (size_t)c * NH * HD + (size_t)h * HD;
            for (int d = 0; d < HD; d++)
                o[d] += weight * part[d];
        }
    }
}

/* One decoded token (T = 1), in chunks of ONE_QUERY_CHUNK keys as flash-decoding splits them
 * (Dao et al., "Flash-Decoding for long-context inference", 2023): each chunk's softmax and
 * weighted sum on its own (one thread per chunk), then the chunks' outputs weighed by
 * exp(lse_chunk - lse_all). The chunks do not depend on the thread count, nor the order they
 * are added in; one chunk (up to ONE_QUERY_CHUNK positions) is the plain softmax. Every key
 * row is read once for all heads, in the cache's order: per head, rows of HD floats NKV * HD
 * apart would be a strided walk the prefetchers follow badly (3x slower measured, the cache
 * being out of the caches after a token's weights went through them). */
static void one_query(float *out, const float *q, const float *k, const float *v, float scale,
                      int window, int past, int NH, int NKV, int HD)
{
    int first = first_key(past, window), keys = past - first + 1;
    int chunks = (keys + ONE_QUERY_CHUNK - 1) / ONE_QUERY_CHUNK;
    size_t heads = (size_t)NH * HD;
    float *part_lse = g_new(float, (size_t)chunks * (size_t)NH);
    float *parts = chunks > 1 ? g_new(float, (size_t)chunks * heads) : NULL;
#pragma omp parallel if (chunks > 1)
    {
        float *scores = g_new(float, (size_t)NH * (size_t)MIN(keys, ONE_QUERY_CHUNK));
#pragma omp for schedule(static)
        for (int c = 0; c < chunks; c++) {
            int start = c * ONE_QUERY_CHUNK;
            query_chunk(chunks > 1 ? parts + (size_t)c * heads : out, part_lse + (size_t)c * NH,
                        q, k, v, scale, first + start, MIN(ONE_QUERY_CHUNK, keys - start), NH,
                        NKV, HD, scores);
        }
        g_free(scores);
    }
    if (chunks > 1)
        merge_chunks(out, parts, part_lse, chunks, NH, HD);
    g_free(parts);
    g_free(part_lse);
}

void hn_cpu_attention_cached_forward(float *out, const float *q, const float *k, const float *v,
                                     float scale, int window, int past, int T, int NH, int NKV,
                                     int HD)
{
    if (T == 1) {
        one_query(out, q, k, v, scale, window, past, NH, NKV, HD);
        return;
    }
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
