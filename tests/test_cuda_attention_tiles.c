/* The CUDA attention kernels' loop bounds (kernels/cuda/attention_tiles.h), checked on the
 * host: replaying the loops of products_attention.cu with the same tile sizes and the same
 * tests, every (query, key) pair that backend.h's mask allows must be visited exactly once and
 * no other pair at all, for the forward and dq kernels (a block of queries walking key tiles;
 * training and the key/value cache) and the dk/dv kernel (a block of keys walking query
 * tiles). The allowed pairs are written here from backend.h's words (doc_start[b, t] <= s <=
 * t, t - s < window; cache: s <= past + t, past + t - s < window), on random packed documents,
 * windows and lengths. */
#include <stdlib.h>

#include <glib.h>

#include "cuda/attention_tiles.h"

/* backend.h's mask, independently of attention_tiles.h. */
static bool allowed(const int32_t *doc_start, int T, int past, int window, int b, int t, int s)
{
    int position = past + t;
    if (s > position)
        return false;
    if (doc_start != NULL && s < doc_start[(size_t)b * T + t])
        return false;
    return window <= 0 || position - s < window;
}

/* Random packed documents: each token starts a new document with probability 1/8. */
static int32_t *random_documents(GRand *rng, int B, int T)
{
    int32_t *doc_start = g_new(int32_t, (size_t)B * T);
    for (int b = 0; b < B; b++) {
        int start = 0;
        for (int t = 0; t < T; t++) {
            if (t > 0 && g_rand_int_range(rng, 0, 8) == 0)
                start = t;
            doc_start[(size_t)b * T + t] = start;
        }
    }
    return doc_start;
}

/* The forward / dq kernels' loops: per block of queries, key tiles over the block's keys, a
 * lane per key, the lane's key loaded when inside the block's range, counted when visible. */
static void replay_query_blocks(const hn_attention_mask *m, int b, int *count /* [T, keys] */)
{
    int keys = m->past + m->T;
    for (int t0 = 0; t0 < m->T; t0 += HN_ATTENTION_QUERIES) {
        int rows = MIN(HN_ATTENTION_QUERIES, m->T - t0), begin, end;
        hn_attention_block_keys(m, b, t0, rows, &begin, &end);
        g_assert_cmpint(begin, >=, 0);
        g_assert_cmpint(end, <, keys);
        for (int s0 = begin; s0 <= end; s0 += HN_ATTENTION_KEYS)
            for (int lane = 0; lane < HN_ATTENTION_KEYS; lane++) {
                int s = s0 + lane;
                for (int r = 0; r < rows; r++) {
                    int t = t0 + r;
                    int from = hn_attention_first_key(m, b, t), to = m->past + t;
                    if (s >= from && s <= to) {
                        g_assert_cmpint(s, <=, end); /* loaded (not a zero row) */
                        count[(size_t)t * keys + s]++;
                    }
                }
            }
    }
}

/* The dk/dv kernel's loops (training): per block of keys, query tiles while needed, a lane
 * per query. */
static void replay_key_blocks(const hn_attention_mask *m, int b, int *count /* [T, T] */)
{
    for (int k0 = 0; k0 < m->T; k0 += HN_ATTENTION_KEY_ROWS) {
        int keys = MIN(HN_ATTENTION_KEY_ROWS, m->T - k0), key_last = k0 + keys - 1;
        for (int t0 = k0; hn_attention_query_tile_needed(m, b, t0, key_last);
             t0 += HN_ATTENTION_QUERY_TILE) {
            int queries = MIN(HN_ATTENTION_QUERY_TILE, m->T - t0);
            for (int lane = 0; lane < queries; lane++) {
                int t = t0 + lane, from = hn_attention_first_key(m, b, t);
                for (int j = 0; j < keys; j++) {
                    int s = k0 + j;
                    if (from <= s && s <= t)
                        count[(size_t)t * m->T + s]++;
                }
            }
        }
    }
}

static void check_counts(const int *count, const hn_attention_mask *m, int b, const char *what)
{
    int keys = m->past + m->T;
    for (int t = 0; t < m->T; t++)
        for (int s = 0; s < keys; s++) {
            int expected = allowed(m->doc_start, m->T, m->past, m->window, b, t, s) ? 1 : 0;
            if (count[(size_t)t * keys + s] != expected)
                g_error("%s, T %d past %d window %d: pair (t %d, s %d) visited %d times, "
                        "expected %d",
                        what, m->T, m->past, m->window, t, s, count[(size_t)t * keys + s],
                        expected);
        }
}

static int random_window(GRand *rng)
{
    switch (g_rand_int_range(rng, 0, 4)) {
    case 0: return 0;
    case 1: return 1;
    default: return g_rand_int_range(rng, 2, 60);
    }
}

static void test_training(void)
{
    GRand *rng = g_rand_new_with_seed(23);
    int pairs = 0;
    for (int round = 0; round < 300; round++) {
        int B = 2, T = g_rand_int_range(rng, 1, 160);
        int32_t *doc_start = round % 3 == 0 ? NULL : random_documents(rng, B, T);
        hn_attention_mask m = {.doc_start = doc_start, .T = T, .past = 0,
                               .window = random_window(rng)};
        int *count = g_new(int, (size_t)T * T);
        for (int b = 0; b < B; b++) {
            memset(count, 0, (size_t)T * T * sizeof *count);
            replay_query_blocks(&m, b, count);
            check_counts(count, &m, b, "forward / dq");
            memset(count, 0, (size_t)T * T * sizeof *count);
            replay_key_blocks(&m, b, count);
            check_counts(count, &m, b, "dk / dv");
            pairs += T * T;
        }
        g_free(count);
        g_free(doc_start);
    }
    g_test_message("300 random masks, %d (query, key) pairs checked in both kernels' loops",
                   pairs);
    g_rand_free(rng);
}

static void test_cached(void)
{
    GRand *rng = g_rand_new_with_seed(29);
    for (int round = 0; round < 300; round++) {
        int T = round % 2 == 0 ? 1 : g_rand_int_range(rng, 1, 80);
        hn_attention_mask m = {.doc_start = NULL, .T = T, .past = g_rand_int_range(rng, 0, 120),
                               .window = random_window(rng)};
        int keys = m.past + T;
        int *count = g_new0(int, (size_t)T * keys);
        replay_query_blocks(&m, 0, count);
        check_counts(count, &m, 0, "cached forward");
        g_free(count);
    }
    g_rand_free(rng);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernels/cuda/attention_tiles/training", test_training);
    g_test_add_func("/kernels/cuda/attention_tiles/cached", test_cached);
    return g_test_run();
}
