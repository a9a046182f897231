/* Causal self-attention forward on the CPU, a block of queries at a time with GEMMs
 * (FlashAttention's tiling, Dao et al., arXiv:2205.14135, with the whole visible key range of
 * a block in one tile, since a CPU thread has room for it): per (batch row, query head,
 * block of ATTENTION_QUERY_BLOCK queries),
 *   S = scale * Q_block K^T   over the keys the block sees (its first query's first key up
 *                             to its last query: causal, per-document, sliding window),
 *   P = softmax(S) row by row with the mask, lse = the rows' log-sum-exp,
 *   O_block = P V.
 * A thread holds one block's scores, [ATTENTION_QUERY_BLOCK, T] at most: memory grows with
 * T, never T^2. OpenBLAS's sgemm runs single-threaded inside the parallel loop, and every
 * output element is computed by one thread in a fixed order, so the result does not depend
 * on the thread count. */
#include <cblas.h>
#include <glib.h>

#include "attention.h"
#include "cpu_ops.h"

/* Block `block` of query head h (KV head kv_head): out and lse of its queries. */
static void forward_block(float *out, float *lse, const float *q, const float *k,
                          const float *v, const attention_shape *a, const attention_block *block,
                          int h, float *scores /* [rows, keys] */)
{
    int HD = a->HD, kv_head = h / a->group, b = block->b;
    int q_stride = a->NH * HD, kv_stride = a->NKV * HD;
    const float *q_block = q + attention_row(a, b, block->t0, a->NH, h);
    const float *k_seen = k + attention_row(a, b, block->first, a->NKV, kv_head);
    const float *v_seen = v + attention_row(a, b, block->first, a->NKV, kv_head);
    /* scores[rows, keys] = scale * q_block[rows, HD] @ k_seen[keys, HD]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, block->rows, block->keys, HD, a->scale,
                q_block, q_stride, k_seen, kv_stride, 0.0f, scores, block->keys);
    for (int r = 0; r < block->rows; r++)
        lse[attention_lse_index(a, b, h, block->t0 + r)] = hn_cpu_attention_softmax_row(
            scores + (size_t)r * block->keys, block->visible_from[r], block->visible_to[r],
            block->keys);
    /* out rows[rows, HD] = probabilities[rows, keys] @ v_seen[keys, HD] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, block->rows, HD, block->keys, 1.0f,
                scores, block->keys, v_seen, kv_stride, 0.0f,
                out + attention_row(a, b, block->t0, a->NH, h), q_stride);
}

void hn_cpu_attention_forward(float *out, float *lse, const float *q, const float *k,
                              const float *v, const int32_t *doc_start, float scale, int window,
                              int B, int T, int NH, int NKV, int HD)
{
    attention_shape a = attention_make_shape(doc_start, scale, window, B, T, NH, NKV, HD);
    int blocks = (T + ATTENTION_QUERY_BLOCK - 1) / ATTENTION_QUERY_BLOCK;
    /* tasks (b, h, block), the block fastest and last first: blocks late in the sequence see
     * more keys, and the dynamic schedule balances best when the long tasks go out first */
    size_t tasks = (size_t)B * NH * blocks;
#pragma omp parallel
    {
        float *scores = g_new(float, (size_t)ATTENTION_QUERY_BLOCK * T);
#pragma omp for schedule(dynamic, 1)
        for (size_t task = 0; task < tasks; task++) {
            int b = (int)(task / ((size_t)NH * blocks)), h = (int)(task / blocks % (size_t)NH);
            int t0 = (blocks - 1 - (int)(task % (size_t)blocks)) * ATTENTION_QUERY_BLOCK;
            attention_block block = attention_make_block(&a, b, t0);
            forward_block(out, lse, q, k, v, &a, &block, h, scores);
        }
        g_free(scores);
    }
}
