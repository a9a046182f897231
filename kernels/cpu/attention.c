/* Causal self-attention with grouped KV heads, per-document masks (packed sequences) and an
 * optional sliding window, without ever holding a [T, T] matrix. Work goes in tiles: a block
 * of query tokens (with every query head of one KV head) against a block of keys, the keys
 * transposed once per tile so that the inner loops run over contiguous keys or channels and
 * vectorise without horizontal sums.
 * Forward: an online softmax over the key blocks (Milakov & Gimelshein, arXiv:1805.02867;
 * FlashAttention, Dao et al., arXiv:2205.14135), keeping each row's log-sum-exp.
 * Backward, recomputing the probabilities from it (FlashAttention-2, arXiv:2307.08691):
 *   p = exp(q.k * scale - lse),  D = dout . out,  ds = p * (dout . v - D),
 *   dq += scale * sum_s ds k,  dk += scale * sum_t ds q,  dv += sum_t p dout,
 * in two passes, one over query tiles (dq) and one over key tiles (dk, dv), so no two threads
 * ever add into the same row and the result does not depend on the thread count. */
#include <glib.h>
#include <math.h>

#include "cpu_ops.h"

enum {
    QUERY_BLOCK = 32, /* query tokens per tile (times the query heads of one KV head) */
    KEY_BLOCK = 64,   /* key tokens per tile */
};

/* The sizes, the mask and the layout shared by the passes. */
typedef struct {
    int B, T, NH, NKV, HD, window, group; /* group: query heads per KV head */
    const int32_t *doc_start;             /* [B, T] or NULL */
    float scale;
} attention_shape;

/* The first key token t may see in row b; it never decreases along t. */
static int first_key(const attention_shape *a, int b, int t)
{
    int first = a->doc_start != NULL ? a->doc_start[(size_t)b * a->T + t] : 0;
    if (a->window > 0 && t - a->window + 1 > first)
        first = t - a->window + 1;
    return first;
}

/* Row (b, t, head) of a [B, T, heads, HD] tensor. */
static inline size_t row_offset(const attention_shape *a, int b, int t, int heads, int head)
{
    return (((size_t)b * a->T + t) * heads + head) * a->HD;
}

/* Row of lse [B, NH, T]. */
static inline size_t lse_offset(const attention_shape *a, int b, int h, int t)
{
    return ((size_t)b * a->NH + h) * a->T + t;
}

/* y[HD] += alpha * x[HD] */
static inline void axpy(float *restrict y, float alpha, const float *restrict x, int n)
{
#pragma omp simd
    for (int i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

/* transposed[HD, KEY_BLOCK] = rows first..first+count of KV head kv_head of x [B, T, NKV, HD]. */
static void transpose_keys(float *restrict transposed, const float *x, const attention_shape *a,
                           int b, int first, int count, int kv_head)
{
    for (int j = 0; j < count; j++) {
        const float *row = x + row_offset(a, b, first + j, a->NKV, kv_head);
        for (int d = 0; d < a->HD; d++)
            transposed[(size_t)d * KEY_BLOCK + j] = row[d];
    }
}

/* out[j] = factor * (x . column j of transposed) for j in [lo, hi]. */
static void dot_columns(float *restrict out, const float *restrict x,
                        const float *restrict transposed, float factor, int lo, int hi, int HD)
{
    for (int j = lo; j <= hi; j++)
        out[j] = 0.0f;
    for (int d = 0; d < HD; d++) {
        float xd = x[d] * factor;
        const float *column = transposed + (size_t)d * KEY_BLOCK;
#pragma omp simd
        for (int j = lo; j <= hi; j++)
            out[j] += xd * column[j];
    }
}

/* A query tile: tokens t0..t1-1, every query head of KV head kv_head of row b. Query row r of
 * the tile is token t0 + r / group, head kv_head * group + r % group. */
typedef struct {
    int b, kv_head, t0, t1, rows;
} query_tile;

static query_tile make_query_tile(const attention_shape *a, size_t index)
{
    int blocks = (a->T + QUERY_BLOCK - 1) / QUERY_BLOCK;
    query_tile tile = {.b = (int)(index / ((size_t)a->NKV * blocks))};
    tile.kv_head = (int)(index / blocks % (size_t)a->NKV);
    tile.t0 = (int)(index % (size_t)blocks) * QUERY_BLOCK;
    tile.t1 = tile.t0 + QUERY_BLOCK < a->T ? tile.t0 + QUERY_BLOCK : a->T;
    tile.rows = (tile.t1 - tile.t0) * a->group;
    return tile;
}

static inline int tile_token(const attention_shape *a, const query_tile *tile, int r)
{
    return tile->t0 + r / a->group;
}

static inline int tile_head(const attention_shape *a, const query_tile *tile, int r)
{
    return tile->kv_head * a->group + r % a->group;
}

/* The keys of block first..first+count-1 that query token t sees, as [lo, hi] within the
 * block; false when none. */
static bool visible_keys(const attention_shape *a, int b, int t, int first, int count, int *lo,
                         int *hi)
{
    int from = first_key(a, b, t) - first, to = t - first;
    *lo = from > 0 ? from : 0;
    *hi = to < count - 1 ? to : count - 1;
    return *lo <= *hi;
}

static void forward_tile(float *out, float *lse, const float *q, const float *k, const float *v,
                         const attention_shape *a, const query_tile *tile)
{
    int HD = a->HD;
    float *acc = g_new0(float, (size_t)tile->rows * HD);
    float *running_max = g_new(float, tile->rows), *running_sum = g_new0(float, tile->rows);
    float *keys = g_new(float, (size_t)HD * KEY_BLOCK);
    float scores[KEY_BLOCK];
    for (int r = 0; r < tile->rows; r++)
        running_max[r] = -INFINITY;
    for (int first = first_key(a, tile->b, tile->t0); first < tile->t1; first += KEY_BLOCK) {
        int count = tile->t1 - first < KEY_BLOCK ? tile->t1 - first : KEY_BLOCK;
        transpose_keys(keys, k, a, tile->b, first, count, tile->kv_head);
        for (int r = 0; r < tile->rows; r++) {
            int t = tile_token(a, tile, r), h = tile_head(a, tile, r), lo, hi;
            if (!visible_keys(a, tile->b, t, first, count, &lo, &hi))
                continue;
            dot_columns(scores, q + row_offset(a, tile->b, t, a->NH, h), keys, a->scale, lo, hi,
                        HD);
            float new_max = running_max[r];
            for (int j = lo; j <= hi; j++)
                new_max = hn_cpu_max(new_max, scores[j]);
            float rescale = expf(running_max[r] - new_max); /* 0 on the first block */
            float *row = acc + (size_t)r * HD;
            for (int d = 0; d < HD; d++)
                row[d] *= rescale;
            float sum = running_sum[r] * rescale;
            for (int j = lo; j <= hi; j++) {
                float p = expf(scores[j] - new_max);
                sum += p;
                axpy(row, p, v + row_offset(a, tile->b, first + j, a->NKV, tile->kv_head), HD);
            }
            running_max[r] = new_max;
            running_sum[r] = sum;
        }
    }
    for (int r = 0; r < tile->rows; r++) {
        int t = tile_token(a, tile, r), h = tile_head(a, tile, r);
        float *dst = out + row_offset(a, tile->b, t, a->NH, h);
        for (int d = 0; d < HD; d++)
            dst[d] = acc[(size_t)r * HD + d] / running_sum[r];
        lse[lse_offset(a, tile->b, h, t)] = running_max[r] + logf(running_sum[r]);
    }
    g_free(acc);
    g_free(running_max);
    g_free(running_sum);
    g_free(keys);
}

static attention_shape make_shape(const int32_t *doc_start, float scale, int window, int B,
                                  int T, int NH, int NKV, int HD)
{
    attention_shape a = {.B = B, .T = T, .NH = NH, .NKV = NKV, .HD = HD, .window = window,
                         .group = NH / NKV, .doc_start = doc_start, .scale = scale};
    return a;
}

static size_t query_tiles(const attention_shape *a)
{
    return (size_t)a->B * a->NKV * ((a->T + QUERY_BLOCK - 1) / QUERY_BLOCK);
}

void hn_cpu_attention_forward(float *out, float *lse, const float *q, const float *k,
                              const float *v, const int32_t *doc_start, float scale, int window,
                              int B, int T, int NH, int NKV, int HD)
{
    attention_shape a = make_shape(doc_start, scale, window, B, T, NH, NKV, HD);
    size_t tiles = query_tiles(&a);
    /* dynamic: tiles late in a sequence see more keys */
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t index = 0; index < tiles; index++) {
        query_tile tile = make_query_tile(&a, index);
        forward_tile(out, lse, q, k, v, &a, &tile);
    }
}

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
        dots[lse_offset(a, b, h, t)] = sum;
    }
    return dots;
}

/* The probabilities and score gradients of one query row against keys [lo, hi] of a block:
 * p[j] = exp(q.k_j * scale - lse), ds[j] = p[j] * (dout . v_j - D). */
static void row_gradients(float *restrict p, float *restrict ds, const float *q_row,
                          const float *dout_row, const float *keys, const float *values,
                          float lse, float D, const attention_shape *a, int lo, int hi)
{
    dot_columns(p, q_row, keys, a->scale, lo, hi, a->HD);
    dot_columns(ds, dout_row, values, 1.0f, lo, hi, a->HD);
    for (int j = lo; j <= hi; j++) {
        p[j] = expf(p[j] - lse);
        ds[j] = p[j] * (ds[j] - D);
    }
}

/* dq for a query tile: scale * sum over the visible keys of ds * k. */
static void query_gradient_tile(float *dq, const float *q, const float *k, const float *v,
                                const float *dout, const float *lse, const float *dots,
                                const attention_shape *a, const query_tile *tile)
{
    int HD = a->HD, b = tile->b;
    float *keys = g_new(float, (size_t)HD * KEY_BLOCK);
    float *values = g_new(float, (size_t)HD * KEY_BLOCK);
    float p[KEY_BLOCK], ds[KEY_BLOCK];
    for (int first = first_key(a, b, tile->t0); first < tile->t1; first += KEY_BLOCK) {
        int count = tile->t1 - first < KEY_BLOCK ? tile->t1 - first : KEY_BLOCK;
        transpose_keys(keys, k, a, b, first, count, tile->kv_head);
        transpose_keys(values, v, a, b, first, count, tile->kv_head);
        for (int r = 0; r < tile->rows; r++) {
            int t = tile_token(a, tile, r), h = tile_head(a, tile, r), lo, hi;
            if (!visible_keys(a, b, t, first, count, &lo, &hi))
                continue;
            size_t at = row_offset(a, b, t, a->NH, h), stat = lse_offset(a, b, h, t);
            row_gradients(p, ds, q + at, dout + at, keys, values, lse[stat], dots[stat], a, lo,
                          hi);
            for (int j = lo; j <= hi; j++)
                axpy(dq + at, ds[j] * a->scale,
                     k + row_offset(a, b, first + j, a->NKV, tile->kv_head), HD);
        }
    }
    g_free(keys);
    g_free(values);
}

/* dk, dv for the keys first..first+count-1 of one KV head: sums over the queries (of every
 * head in the group) that see them. */
static void key_gradient_tile(float *dk, float *dv, const float *q, const float *k,
                              const float *v, const float *dout, const float *lse,
                              const float *dots, const attention_shape *a, int b, int kv_head,
                              int first, int count)
{
    int HD = a->HD;
    float *keys = g_new(float, (size_t)HD * KEY_BLOCK);
    float *values = g_new(float, (size_t)HD * KEY_BLOCK);
    float *dk_tile = g_new0(float, (size_t)count * HD); /* [count, HD] */
    float *dv_tile = g_new0(float, (size_t)count * HD);
    float p[KEY_BLOCK], ds[KEY_BLOCK];
    transpose_keys(keys, k, a, b, first, count, kv_head);
    transpose_keys(values, v, a, b, first, count, kv_head);
    /* queries from the block's first key on, until they see none of it (first_key grows) */
    for (int t = first; t < a->T && first_key(a, b, t) < first + count; t++) {
        int lo, hi;
        if (!visible_keys(a, b, t, first, count, &lo, &hi))
            continue;
        for (int h = kv_head * a->group; h < (kv_head + 1) * a->group; h++) {
            size_t at = row_offset(a, b, t, a->NH, h), stat = lse_offset(a, b, h, t);
            row_gradients(p, ds, q + at, dout + at, keys, values, lse[stat], dots[stat], a, lo,
                          hi);
            for (int j = lo; j <= hi; j++) {
                axpy(dv_tile + (size_t)j * HD, p[j], dout + at, HD);
                axpy(dk_tile + (size_t)j * HD, ds[j] * a->scale, q + at, HD);
            }
        }
    }
    for (int j = 0; j < count; j++) {
        size_t at = row_offset(a, b, first + j, a->NKV, kv_head);
        axpy(dk + at, 1.0f, dk_tile + (size_t)j * HD, HD);
        axpy(dv + at, 1.0f, dv_tile + (size_t)j * HD, HD);
    }
    g_free(keys);
    g_free(values);
    g_free(dk_tile);
    g_free(dv_tile);
}

void hn_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                               const float *q, const float *k, const float *v, const float *out,
                               const float *lse, const int32_t *doc_start, float scale,
                               int window, int B, int T, int NH, int NKV, int HD)
{
    attention_shape a = make_shape(doc_start, scale, window, B, T, NH, NKV, HD);
    float *dots = output_dots(dout, out, &a);
    size_t tiles = query_tiles(&a);
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t index = 0; index < tiles; index++) {
        query_tile tile = make_query_tile(&a, index);
        query_gradient_tile(dq, q, k, v, dout, lse, dots, &a, &tile);
    }
    int key_blocks = (T + KEY_BLOCK - 1) / KEY_BLOCK;
    size_t key_tiles = (size_t)B * NKV * key_blocks;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t index = 0; index < key_tiles; index++) {
        int b = (int)(index / ((size_t)NKV * key_blocks));
        int kv_head = (int)(index / key_blocks % (size_t)NKV);
        int first = (int)(index % (size_t)key_blocks) * KEY_BLOCK;
        int count = T - first < KEY_BLOCK ? T - first : KEY_BLOCK;
        key_gradient_tile(dk, dv, q, k, v, dout, lse, dots, &a, b, kv_head, first, count);
    }
    g_free(dots);
}
