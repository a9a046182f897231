/* Causal self-attention backward on the CPU with GEMMs, recomputing the probabilities from
 * the forward's log-sum-exp (FlashAttention-2, Dao, arXiv:2307.08691, Algorithm 2): with
 * D = rowsum(dO * O), per (batch row, query head) and per block of queries, over the keys the
 * block sees,
 *   P  = exp(scale * Q_block K^T - lse)     (0 where masked)
 *   dP = dO_block V^T
 *   dS = P * (dP - D)
 *   dQ_block += scale * dS K,   dK += scale * dS^T Q_block,   dV += P^T dO_block.
 * One thread does all the blocks of one query head, so dQ has one writer per row; dK and dV
 * of the head go to the thread's own [T, HD] accumulators, added into dk, dv in head order
 * (an ordered section), since the query heads that share a KV head (grouped-query attention)
 * add into the same rows. A thread holds two [ATTENTION_QUERY_BLOCK, T] tiles and the two
 * accumulators: memory grows with T, never T^2. Every sum runs in a fixed order, so the
 * result does not depend on the thread count (OpenBLAS's sgemm is single-threaded inside the
 * parallel loop). */
#include <cblas.h>
#include <glib.h>

#include "attention.h"
#include "cpu_ops.h"

/* D[b, h, t] = dout . out per query row, laid out as lse. */
static float *output_dots(const float *dout, const float *out, const attention_shape *a)
{
    size_t rows = (size_t)a->B * a->T * a->NH;
    float *dots = g_new(float, rows);
#pragma omp parallel for schedule(static)
    for (size_t row = 0; row < rows; row++) { /* row walks [B, T, NH] */
        int h = (int)(row % (size_t)a->NH), t = (int)(row / a->NH % (size_t)a->T);
        int b = (int)(row / a->NH / a->T);
        const float *x = dout + row * a->HD, *y = out + row * a->HD;
        float sum = 0.0f;
        for (int d = 0; d < a->HD; d++)
            sum += x[d] * y[d];
        dots[attention_lse_index(a, b, h, t)] = sum;
    }
    return dots;
}

/* What one thread works in: the tiles of one block, probabilities and score gradients
 * ([rows, keys] each), and one query head's key and value gradients ([T, HD] each). */
typedef struct {
    float *p, *dscores, *dk, *dv;
} thread_buffers;

/* The gradients that block `block` of query head h contributes. */
static void backward_block(float *dq, const float *dout, const float *q, const float *k,
                           const float *v, const float *lse, const float *dots,
                           const attention_shape *a, const attention_block *block, int h,
                           const thread_buffers *buffers)
{
    int HD = a->HD, kv_head = h / a->group, b = block->b, rows = block->rows;
    int keys = block->keys, q_stride = a->NH * HD, kv_stride = a->NKV * HD;
    size_t q_at = attention_row(a, b, block->t0, a->NH, h);
    const float *k_seen = k + attention_row(a, b, block->first, a->NKV, kv_head);
    const float *v_seen = v + attention_row(a, b, block->first, a->NKV, kv_head);
    size_t grad_at = (size_t)block->first * HD; /* rows of the thread's [T, HD] */
    /* p = scale * q_block @ k_seen^T;  dscores = dout_block @ v_seen^T  ([rows, keys]) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, HD, a->scale, q + q_at,
                q_stride, k_seen, kv_stride, 0.0f, buffers->p, keys);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, HD, 1.0f, dout + q_at,
                q_stride, v_seen, kv_stride, 0.0f, buffers->dscores, keys);
    for (int r = 0; r < rows; r++) {
        size_t stat = attention_lse_index(a, b, h, block->t0 + r);
        hn_cpu_attention_gradient_row(buffers->p + (size_t)r * keys,
                                      buffers->dscores + (size_t)r * keys, lse[stat], dots[stat],
                                      block->visible_from[r], block->visible_to[r], keys);
    }
    /* dv[keys, HD] += p^T @ dout_block;  dk[keys, HD] += scale * dscores^T @ q_block */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, HD, rows, 1.0f, buffers->p, keys,
                dout + q_at, q_stride, 1.0f, buffers->dv + grad_at, HD);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, HD, rows, a->scale,
                buffers->dscores, keys, q + q_at, q_stride, 1.0f, buffers->dk + grad_at, HD);
    /* dq_block[rows, HD] += scale * dscores @ k_seen */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, HD, keys, a->scale,
                buffers->dscores, keys, k_seen, kv_stride, 1.0f, dq + q_at, q_stride);
}

/* dst rows (b, t, kv_head) of [B, T, NKV, HD] += head_rows[t] for t in [0, T). */
static void add_head_gradients(float *dst, const float *head_rows, const attention_shape *a,
                               int b, int kv_head)
{
    for (int t = 0; t < a->T; t++) {
        float *row = dst + attention_row(a, b, t, a->NKV, kv_head);
        const float *from = head_rows + (size_t)t * a->HD;
        for (int d = 0; d < a->HD; d++)
            row[d] += from[d];
    }
}

void hn_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                               const float *q, const float *k, const float *v, const float *out,
                               const float *lse, const int32_t *doc_start, float scale,
                               int window, int B, int T, int NH, int NKV, int HD)
{
    attention_shape a = attention_make_shape(doc_start, scale, window, B, T, NH, NKV, HD);
    float *dots = output_dots(dout, out, &a);
    int blocks = (T + ATTENTION_QUERY_BLOCK - 1) / ATTENTION_QUERY_BLOCK;
    int tasks = B * NH; /* (b, h): one thread does every block of a query head */
#pragma omp parallel
    {
        size_t tile = (size_t)ATTENTION_QUERY_BLOCK * T, rows = (size_t)T * HD;
        thread_buffers buffers = {g_new(float, tile), g_new(float, tile), g_new(float, rows),
                                  g_new(float, rows)};
#pragma omp for schedule(dynamic, 1) ordered
        for (int task = 0; task < tasks; task++) {
            int b = task / NH, h = task % NH;
            memset(buffers.dk, 0, rows * sizeof *buffers.dk);
            memset(buffers.dv, 0, rows * sizeof *buffers.dv);
            for (int block_index = 0; block_index < blocks; block_index++) {
                attention_block block =
                    attention_make_block(&a, b, block_index * ATTENTION_QUERY_BLOCK);
                backward_block(dq, dout, q, k, v, lse, dots, &a, &block, h, &buffers);
            }
            /* in task order: head h's sums go into its KV head's rows after head h - 1's */
#pragma omp ordered
            {
                add_head_gradients(dk, buffers.dk, &a, b, h / a.group);
                add_head_gradients(dv, buffers.dv, &a, b, h / a.group);
            }
        }
        g_free(buffers.p);
        g_free(buffers.dscores);
        g_free(buffers.dk);
        g_free(buffers.dv);
    }
    g_free(dots);
}
