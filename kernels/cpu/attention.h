/* What the CPU attention forward (attention_forward.c) and backward (attention_backward.c)
 * share: the sizes and mask of one call, where a row of each tensor lives, which keys a
 * block of queries sees, and the row kernels between their GEMMs (attention_rows.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum {
    /* Query tokens per block: a block's scores are [ATTENTION_QUERY_BLOCK, keys seen]. */
    ATTENTION_QUERY_BLOCK = 64,
};

/* The sizes and the mask of one call. */
typedef struct {
    int B, T, NH, NKV, HD, window, group; /* group: query heads per KV head */
    const int32_t *doc_start;             /* [B, T] or NULL */
    float scale;
} attention_shape;

static inline attention_shape attention_make_shape(const int32_t *doc_start, float scale,
                                                   int window, int B, int T, int NH, int NKV,
                                                   int HD)
{
    attention_shape a = {.B = B, .T = T, .NH = NH, .NKV = NKV, .HD = HD, .window = window,
                         .group = NH / NKV, .doc_start = doc_start, .scale = scale};
    return a;
}

/* The first key token t of row b sees (its document's start, or the window's); it never
 * decreases along t, so a block of queries sees keys from its first token's first key on. */
static inline int attention_first_key(const attention_shape *a, int b, int t)
{
    int first = a->doc_start != NULL ? a->doc_start[(size_t)b * a->T + t] : 0;
    if (a->window > 0 && t - a->window + 1 > first)
        first = t - a->window + 1;
    return first;
}

/* Row (b, t, head) of a [B, T, heads, HD] tensor. */
static inline size_t attention_row(const attention_shape *a, int b, int t, int heads, int head)
{
    return (((size_t)b * a->T + t) * heads + head) * a->HD;
}

/* Entry (b, h, t) of lse [B, NH, T]. */
static inline size_t attention_lse_index(const attention_shape *a, int b, int h, int t)
{
    return ((size_t)b * a->NH + h) * a->T + t;
}

/* Query tokens t0 .. t0 + rows - 1 of row b against keys first .. first + keys - 1: query
 * token t0 + r sees the block's keys [visible_from[r], visible_to[r]] (always at least key
 * t0 + r itself). */
typedef struct {
    int b, t0, rows, first, keys;
    int visible_from[ATTENTION_QUERY_BLOCK], visible_to[ATTENTION_QUERY_BLOCK];
} attention_block;

static inline attention_block attention_make_block(const attention_shape *a, int b, int t0)
{
    attention_block block = {.b = b, .t0 = t0};
    block.rows = a->T - t0 < ATTENTION_QUERY_BLOCK ? a->T - t0 : ATTENTION_QUERY_BLOCK;
    block.first = attention_first_key(a, b, t0);
    block.keys = t0 + block.rows - block.first; /* causal: nothing after the last query */
    for (int r = 0; r < block.rows; r++) {
        block.visible_from[r] = attention_first_key(a, b, t0 + r) - block.first;
        block.visible_to[r] = t0 + r - block.first;
    }
    return block;
}

/* Forward, one row of scores[n] (already scaled) seen in [from, to]: overwrites it with the
 * softmax probabilities (0 outside [from, to]) and returns the row's log-sum-exp. */
float hn_cpu_attention_softmax_row(float *scores, int from, int to, int n);

/* Backward, one row: p[j] = exp(scores[j] - lse) and dscores[j] = p[j] * (dscores[j] - D)
 * in [from, to] (on entry dscores holds dout . v_j), both 0 outside. */
void hn_cpu_attention_gradient_row(float *p, float *dscores, float lse, float D, int from,
                                   int to, int n);

/* One decoded query per head (q [NH, HD]) against `keys` cached key rows [keys, NKV, HD] (a
 * cache's rows from the first key the query sees), every row read once, in order, for all the
 * heads (GQA: head h reads KV head h / (NH / NKV)): scores[h * keys + j] = scale * q_h . k_j.
 * Then, with p the probabilities laid out as the scores, out[h * HD + c] = sum over j of
 * p[h * keys + j] * v_j[c] over the value rows [keys, NKV, HD]. */
void hn_cpu_attention_query_scores(float *scores, const float *q, const float *k, int keys,
                                   int NH, int NKV, int HD, float scale);
void hn_cpu_attention_query_values(float *out, const float *p, const float *v, int keys, int NH,
                                   int NKV, int HD);
