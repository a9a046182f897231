/* Building a BPE model: the vocabulary (token -> id, last one wins as in a Python dict) and
 * the merges table (pair of ids -> rank and merged id), from tokenizer.json or a GGUF file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

void hn_bpe_begin(hn_bpe *bpe)
{
    bpe->vocab = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    bpe->unk_id = -1;
}

void hn_bpe_set_token(hn_bpe *bpe, const char *token, int32_t id)
{
    g_hash_table_insert(bpe->vocab, g_strdup(token), GINT_TO_POINTER(id + 1));
}

int32_t hn_bpe_lookup(const hn_bpe *bpe, const char *token)
{
    gpointer found = g_hash_table_lookup(bpe->vocab, token);
    return found != NULL ? GPOINTER_TO_INT(found) - 1 : -1;
}

void hn_bpe_end_vocab(hn_bpe *bpe, const char *unk_token)
{
    int32_t max_id = -1;
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, bpe->vocab);
    while (g_hash_table_iter_next(&it, &key, &value))
        max_id = MAX(max_id, GPOINTER_TO_INT(value) - 1);
    bpe->n_ids = max_id + 1;
    bpe->id_to_token = g_new0(char *, bpe->n_ids > 0 ? bpe->n_ids : 1);
    g_hash_table_iter_init(&it, bpe->vocab);
    while (g_hash_table_iter_next(&it, &key, &value))
        bpe->id_to_token[GPOINTER_TO_INT(value) - 1] = key;
    bpe->unk_id = unk_token != NULL ? hn_bpe_lookup(bpe, unk_token) : -1;
    for (int b = 0; b < 256; b++) {
        char name[8], one[2] = {(char)b, 0};
        snprintf(name, sizeof name, "<0x%02X>", b);
        bpe->byte_tokens[b] = hn_bpe_lookup(bpe, name);
        bpe->char_ids[b] = b > 0 && b < 128 ? hn_bpe_lookup(bpe, one) : -1;
    }
}

void hn_bpe_begin_merges(hn_bpe *bpe, size_t n)
{
    bpe->merge_capacity = 1024;
    while (bpe->merge_capacity < n * 2 + 2)
        bpe->merge_capacity *= 2;
    g_free(bpe->merges);
    bpe->merges = g_new0(hn_merge_slot, bpe->merge_capacity);
}

static void insert_merge(hn_bpe *bpe, int32_t left, int32_t right, int32_t rank, int32_t merged)
{
    uint64_t key = ((uint64_t)(uint32_t)(left + 1) << 32) | (uint32_t)(right + 1);
    size_t mask = bpe->merge_capacity - 1;
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & mask;
    while (bpe->merges[i].key != 0 && bpe->merges[i].key != key)
        i = (i + 1) & mask;
    if (bpe->merges[i].key == key)
        return; /* a repeated merge keeps its first (best) rank */
    bpe->merges[i] = (hn_merge_slot){key, rank, merged};
}

hn_status hn_bpe_add_merge(hn_bpe *bpe, const char *left, const char *right, int32_t rank,
                           const char *label, const char *where, hn_error *err)
{
    char *joined = g_strconcat(left, right, NULL);
    int32_t a = hn_bpe_lookup(bpe, left), b = hn_bpe_lookup(bpe, right);
    int32_t merged = hn_bpe_lookup(bpe, joined);
    const char *missing = a < 0 ? left : b < 0 ? right : merged < 0 ? joined : NULL;
    hn_status status = HN_OK;
    if (missing != NULL)
        status = hn_fail(err, HN_ERR_FORMAT,
                         "%s: %s: the merge \"%s\" + \"%s\" needs token \"%s\", which is not "
                         "in the vocabulary",
                         label, where, left, right, missing);
    else
        insert_merge(bpe, a, b, rank, merged);
    g_free(joined);
    return status;
}

static int compare_rank(const void *a, const void *b)
{
    const hn_merge_slot *x = a, *y = b;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

cJSON *hn_bpe_model_json(const hn_bpe *bpe)
{
    cJSON *model = cJSON_CreateObject();
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    const char *unk = bpe->unk_id >= 0 ? bpe->id_to_token[bpe->unk_id] : NULL;
    if (unk != NULL)
        cJSON_AddStringToObject(model, "unk_token", unk);
    else
        cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddNullToObject(model, "continuing_subword_prefix");
    cJSON_AddNullToObject(model, "end_of_word_suffix");
    cJSON_AddBoolToObject(model, "fuse_unk", bpe->fuse_unk);
    cJSON_AddBoolToObject(model, "byte_fallback", bpe->byte_fallback);
    cJSON_AddBoolToObject(model, "ignore_merges", bpe->ignore_merges);
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int32_t id = 0; id < bpe->n_ids; id++)
        if (bpe->id_to_token[id] != NULL)
            cJSON_AddItemToObject(vocab, bpe->id_to_token[id], cJSON_CreateNumber(id));
    size_t n = 0;
    hn_merge_slot *slots = g_new(hn_merge_slot, bpe->merge_capacity + 1);
    for (size_t i = 0; i < bpe->merge_capacity; i++)
        if (bpe->merges[i].key != 0)
            slots[n++] = bpe->merges[i];
    qsort(slots, n, sizeof *slots, compare_rank);
    cJSON *merges = cJSON_AddArrayToObject(model, "merges");
    for (size_t i = 0; i < n; i++) {
        int32_t left = (int32_t)(slots[i].key >> 32) - 1;
        int32_t right = (int32_t)(uint32_t)slots[i].key - 1;
        const char *pair[2] = {bpe->id_to_token[left], bpe->id_to_token[right]};
        cJSON_AddItemToArray(merges, cJSON_CreateStringArray(pair, 2));
    }
    g_free(slots);
    return model;
}
