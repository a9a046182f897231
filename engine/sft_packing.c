/* Packing supervised examples into rows (see sft_packing.h). */
#include "sft_packing.h"

#include <string.h>

/* Example indexes grouped by length: seg[len] .. seg[len + 1] in order of appearance; the
 * knapsack takes from the end of a length's group (upstream's list.pop()). */
void hn_greedy_knapsack(const size_t *lengths, size_t n, size_t capacity, hn_knapsack *out)
{
    *out = (hn_knapsack){0};
    size_t *seg = g_new0(size_t, capacity + 2);
    size_t *left = g_new0(size_t, capacity + 1); /* how many of each length remain */
    for (size_t i = 0; i < n; i++) {
        if (lengths[i] > capacity)
            out->n_too_long++;
        else
            left[lengths[i]]++;
    }
    for (size_t len = 0; len <= capacity; len++)
        seg[len + 1] = seg[len] + left[len];
    size_t total = seg[capacity + 1];
    size_t *by_length = g_new(size_t, total > 0 ? total : 1);
    size_t *fill = g_memdup2(seg, (capacity + 1) * sizeof *seg);
    for (size_t i = 0; i < n; i++)
        if (lengths[i] <= capacity)
            by_length[fill[lengths[i]]++] = i;
    out->items = g_new(size_t, total > 0 ? total : 1);
    out->bin_start = g_new(size_t, total + 1);
    out->bin_start[0] = 0;
    /* The largest remaining length is tracked so that each search starts at min(room, it). */
    size_t largest = capacity;
    while (out->n_items < total) {
        size_t room = capacity;
        for (;;) {
            while (largest > 0 && left[largest] == 0)
                largest--;
            size_t len = room < largest ? room : largest;
            while (len > 0 && left[len] == 0)
                len--;
            if (left[len] == 0)
                break; /* len is 0 here: nothing fits */
            room -= len;
            left[len]--;
            out->items[out->n_items++] = by_length[seg[len] + left[len]];
        }
        out->bin_start[++out->n_bins] = out->n_items;
    }
    g_free(seg);
    g_free(left);
    g_free(fill);
    g_free(by_length);
}

void hn_knapsack_clear(hn_knapsack *knapsack)
{
    g_free(knapsack->items);
    g_free(knapsack->bin_start);
    *knapsack = (hn_knapsack){0};
}

/* One packed row of cutoff_len tokens from the examples of bin b. */
static void pack_row(const hn_sft_data *in, const hn_knapsack *k, size_t b, size_t row_len,
                     bool neat, int32_t pad_id, const size_t *valid, hn_sft_example *row)
{
    *row = (hn_sft_example){g_new(int32_t, row_len), g_new(int32_t, row_len), row_len,
                            g_new(int32_t, row_len), neat ? g_new(int32_t, row_len) : NULL};
    size_t at = 0;
    for (size_t i = k->bin_start[b]; i < k->bin_start[b + 1]; i++) {
        const hn_sft_example *e = &in->examples[valid[k->items[i]]];
        memcpy(row->input_ids + at, e->input_ids, e->n * sizeof(int32_t));
        memcpy(row->labels + at, e->labels, e->n * sizeof(int32_t));
        for (size_t t = 0; t < e->n; t++) {
            row->position_ids[at + t] = (int32_t)t;
            if (neat)
                row->doc_start[at + t] = (int32_t)at;
        }
        at += e->n;
    }
    for (size_t t = at; t < row_len; t++) { /* at < row_len: the bin holds at most row_len - 1 */
        row->input_ids[t] = pad_id;
        row->labels[t] = HN_IGNORE_INDEX;
        row->position_ids[t] = 0;
        if (neat)
            row->doc_start[t] = (int32_t)at;
    }
}

hn_status hn_sft_pack(const hn_sft_data *in, int cutoff_len, bool neat, int32_t pad_id,
                      hn_sft_data *out, hn_error *err)
{
    *out = (hn_sft_data){0};
    if (cutoff_len < 2)
        return hn_fail(err, HN_ERR_ARGUMENT, "cutoff_len: expected at least 2 with packing, "
                       "found %d", cutoff_len);
    if (pad_id < 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "packing: the tokenizer has no pad or eos token to "
                       "pad rows with");
    size_t capacity = (size_t)cutoff_len - 1;
    /* Upstream drops lengthy examples first, then numbers the rest (valid_num). */
    size_t *valid = g_new(size_t, in->n_examples > 0 ? in->n_examples : 1);
    size_t *lengths = g_new(size_t, in->n_examples > 0 ? in->n_examples : 1);
    size_t n_valid = 0;
    out->n_dropped = in->n_dropped;
    out->first_dropped = g_strdup(in->first_dropped);
    for (size_t i = 0; i < in->n_examples; i++) {
        if (in->examples[i].n > capacity) {
            if (out->first_dropped == NULL)
                out->first_dropped = g_strdup_printf("example %zu: length %zu > cutoff_len - 1 = "
                                                     "%zu", i, in->examples[i].n, capacity);
            out->n_dropped++;
            continue;
        }
        valid[n_valid] = i;
        lengths[n_valid++] = in->examples[i].n;
    }
    hn_knapsack k;
    hn_greedy_knapsack(lengths, n_valid, capacity, &k);
    out->examples = g_new0(hn_sft_example, k.n_bins > 0 ? k.n_bins : 1);
    for (size_t b = 0; b < k.n_bins; b++) {
        hn_sft_example *row = &out->examples[out->n_examples++];
        pack_row(in, &k, b, (size_t)cutoff_len, neat, pad_id, valid, row);
        out->n_tokens += (int64_t)row->n;
        for (size_t t = 0; t < row->n; t++)
            out->n_label_tokens += row->labels[t] != HN_IGNORE_INDEX;
    }
    hn_knapsack_clear(&k);
    g_free(valid);
    g_free(lengths);
    return HN_OK;
}
