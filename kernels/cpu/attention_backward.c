/* Causal self-attention backward on the CPU with GEMMs, recomputing the probabilities from
 * the forward's log-sum-exp (FlashAttention-2, Dao, arXiv:2307.08691, Algorithm 2): with
 * D = rowsum(dO * O), per (batch row, query head) and per block of queries, over the keys the
 * block sees,
 *   P  = exp(scale * Q_block K^T - lse)     (0 where masked)
 *   dP = dO_block V^T
 *   dS = P * (dP - D)
 *   dQ_block += scale * dS K,   dK += scale * dS^T Q_block,   dV += P^T dO_block.
 * A thread holds two [ATTENTION_QUERY_BLOCK, T] tiles at most. One thread does all the blocks
 * of one query head, so dQ has one writer per row; the query heads that share a KV head
 * (grouped-query attention) each sum into their own dK, dV rows, added together in head order
 * at the end. Every sum runs in a fixed order, so the result does not depend on the thread
 * count (OpenBLAS's sgemm is single-threaded inside the parallel loop). */
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

/* Where one query head's key and value gradients go: rows of [B, T, heads, HD] tensors. */
typedef struct {
    float *dk, *dv;
    int heads, head;
} key_gradients;

/* Per-thread tiles of one block: probabilities and score gradients, [rows, keys] each. */
typedef struct {
    float *p, *dscores;
} block_tiles;

/* The gradients that block `block` of query head h contributes. */
static void backward_block(float *dq, const key_gradients *to, const float *dout,
                           const float *q, const float *k, const float *v, const float *lse,
                           const float *dots, const attention_shape *a,
                           const attention_block *block, int h, const block_tiles *tiles)
{
    int HD = a->HD, kv_head = h / a->group, b = block->b, rows = block->rows;
    int keys = block->keys, q_stride = a->NH * HD, kv_stride = a->NKV * HD;
    int grad_stride = to->heads * HD;
    size_t q_at = attention_row(a, b, block->t0, a->NH, h);
    const float *k_seen = k + attention_row(a, b, block->first, a->NKV, kv_head);
    const float *v_seen = v + attention_row(a, b, block->first, a->NKV, kv_head);
    size_t grad_at = attention_row(a, b, block->first, to->heads, to->head);
    /* p = scale * q_block @ k_seen^T;  dscores = dout_block @ v_seen^T  ([rows, keys]) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, HD, a->scale, q + q_at,
                q_stride, k_seen, kv_stride, 0.0f, tiles->p, keys);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, HD, 1.0f, dout + q_at,
                q_stride, v_seen, kv_stride, 0.0f, tiles->dscores, keys);
    for (int r = 0; r < rows; r++) {
        size_t stat = attention_lse_index(a, b, h, block->t0 + r);
        hn_cpu_attention_gradient_row(tiles->p + (size_t)r * keys,
                                      tiles->dscores + (size_t)r * keys, lse[stat], dots[stat],
                                      block->visible_from[r], block->visible_to[r], keys);
    }
    /* dv[keys, HD] += p^T @ dout_block;  dk[keys, HD] += scale * dscores^T @ q_block */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, HD, rows, 1.0f, tiles->p, keys,
                dout + q_at, q_stride, 1.0f, to->dv + grad_at, grad_stride);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, HD, rows, a->scale,
                tiles->dscores, keys, q + q_at, q_stride, 1.0f, to->dk + grad_at, grad_stride);
    /* dq_block[rows, HD] += scale * dscores @ k_seen */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, HD, keys, a->scale,
                tiles->dscores, keys, k_seen, kv_stride, 1.0f, dq + q_at, q_stride);
}

/* dst[b, t, kv] += sum over the group's query heads g of per_head[b, t, kv * group + g], in
 * head order. */
static void add_group_sums(float *dst, const float *per_head, const attention_shape *a)
{
    size_t rows = (size_t)a->B * a->T * a->NKV; /* walks [B, T, NKV] */
    int HD = a->HD;
#pragma omp parallel for schedule(static)
    for (size_t row = 0; row < rows; row++) {
        float *out = dst + row * HD;
        const float *in = per_head + row * a->group * HD; /* [group, HD] */
        for (int g = 0; g < a->group; g++)
            for (int d = 0; d < HD; d++)
                out[d] += in[(size_t)g * HD + d];
    }
}

void hn_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                               const float *q, const float *k, const float *v, const float *out,
                               const float *lse, const int32_t *doc_start, float scale,
                               int window, int B, int T, int NH, int NKV, int HD)
{
    attention_shape a = attention_make_shape(doc_start, scale, window, B, T, NH, NKV, HD);
    float *dots = output_dots(dout, out, &a);
    /* With one query head per KV head the gradients go straight into dk, dv; otherwise each
     * query head has its own [B, T, NH, HD] rows, summed into them at the end. */
    float *dk_heads = NULL, *dv_heads = NULL;
    if (a.group > 1) {
        dk_heads = g_new0(float, (size_t)B * T * NH * HD);
        dv_heads = g_new0(float, (size_t)B * T * NH * HD);
    }
    int blocks = (T + ATTENTION_QUERY_BLOCK - 1) / ATTENTION_QUERY_BLOCK;
    int tasks = B * NH; /* (b, h): one thread does every block of a query head */
#pragma omp parallel
    {
        block_tiles tiles = {g_new(float, (size_t)ATTENTION_QUERY_BLOCK * T),
                             g_new(float, (size_t)ATTENTION_QUERY_BLOCK * T)};
#pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < tasks; task++) {
            int b = task / NH, h = task % NH;
            key_gradients to = {dk, dv, NKV, h};
            if (a.group > 1)
                to = (key_gradients){dk_heads, dv_heads, NH, h};
            for (int block_index = 0; block_index < blocks; block_index++) {
                attention_block block =
                    attention_make_block(&a, b, block_index * ATTENTION_QUERY_BLOCK);
                backward_block(dq, &to, dout, q, k, v, lse, dots, &a, &block, h, &tiles);
            }
        }
        g_free(tiles.p);
        g_free(tiles.dscores);
    }
    if (a.group > 1) {
        add_group_sums(dk, dk_heads, &a);
        add_group_sums(dv, dv_heads, &a);
    }
    g_free(dk_heads);
    g_free(dv_heads);
    g_free(dots);
}
