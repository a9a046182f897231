/* The BPE model: a word's characters become vocabulary ids (or byte tokens, or unk), then
 * adjacent pairs merge in order of merge rank, lowest first and leftmost among equals, until
 * no pair has a merge (Sennrich et al., arXiv:1508.07909; the order as in HF tokenizers). */
#include <string.h>

#include "tokenizer_internal.h"

/* One symbol of the word being merged; a merged-away symbol has length 0. */
typedef struct {
    int32_t id;
    int prev, next;
    size_t length;
} symbol;

/* A candidate merge of the symbol at pos with its next one. */
typedef struct {
    int32_t rank;
    int pos;
    int32_t merged;
} candidate;

static const hn_merge_slot *find_merge(const hn_bpe *bpe, int32_t left, int32_t right)
{
    uint64_t key = ((uint64_t)(uint32_t)(left + 1) << 32) | (uint32_t)(right + 1);
    size_t mask = bpe->merge_capacity - 1;
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & mask;
    while (bpe->merges[i].key != 0) {
        if (bpe->merges[i].key == key)
            return &bpe->merges[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

static bool candidate_before(const candidate *a, const candidate *b)
{
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(GArray *heap, candidate c)
{
    g_array_append_val(heap, c);
    candidate *h = (candidate *)heap->data;
    guint i = heap->len - 1;
    while (i > 0 && candidate_before(&h[i], &h[(i - 1) / 2])) {
        candidate t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static candidate heap_pop(GArray *heap)
{
    candidate *h = (candidate *)heap->data;
    candidate top = h[0];
    h[0] = h[heap->len - 1];
    g_array_set_size(heap, heap->len - 1);
    guint i = 0, n = heap->len;
    for (;;) {
        guint l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && candidate_before(&h[l], &h[m]))
            m = l;
        if (r < n && candidate_before(&h[r], &h[m]))
            m = r;
        if (m == i)
            break;
        candidate t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
    return top;
}

static void push_candidate(const hn_bpe *bpe, const symbol *symbols, int pos, GArray *heap)
{
    int next = symbols[pos].next;
    if (next < 0)
        return;
    const hn_merge_slot *m = find_merge(bpe, symbols[pos].id, symbols[next].id);
    if (m != NULL)
        heap_push(heap, (candidate){m->rank, pos, m->merged});
}

static int32_t vocab_id(const hn_bpe *bpe, const char *text, size_t length)
{
    if (length == 1 && bpe->char_ids[(unsigned char)text[0]] >= 0)
        return bpe->char_ids[(unsigned char)text[0]];
    char buffer[64];
    char *key = length < sizeof buffer ? buffer : g_malloc(length + 1);
    memcpy(key, text, length);
    key[length] = '\0';
    gpointer found = g_hash_table_lookup(bpe->vocab, key);
    if (key != buffer)
        g_free(key);
    return found != NULL ? GPOINTER_TO_INT(found) - 1 : -1;
}

/* Initial symbols: one per character; unknown characters become byte tokens or unk. */
static void initial_symbols(const hn_bpe *bpe, const char *word, size_t length, GArray *symbols)
{
    const char *p = word, *end = word + length;
    bool previous_unk = false;
    while (p < end) {
        const char *next = g_utf8_next_char(p);
        size_t n = (size_t)(next - p);
        int32_t id = vocab_id(bpe, p, n);
        if (id < 0 && bpe->byte_fallback) {
            bool all = true;
            for (size_t i = 0; i < n; i++)
                all = all && bpe->byte_tokens[(unsigned char)p[i]] >= 0;
            if (all) {
                for (size_t i = 0; i < n; i++) {
                    symbol s = {bpe->byte_tokens[(unsigned char)p[i]], 0, 0, 1};
                    g_array_append_val(symbols, s);
                }
                previous_unk = false;
                p = next;
                continue;
            }
        }
        if (id < 0) {
            if (bpe->unk_id >= 0) {
                if (bpe->fuse_unk && previous_unk) {
                    g_array_index(symbols, symbol, symbols->len - 1).length += n;
                } else {
                    symbol s = {bpe->unk_id, 0, 0, n};
                    g_array_append_val(symbols, s);
                }
                previous_unk = true;
            }
            p = next;
            continue; /* without an unk token the character is dropped, as upstream does */
        }
        symbol s = {id, 0, 0, n};
        g_array_append_val(symbols, s);
        previous_unk = false;
        p = next;
    }
    for (guint i = 0; i < symbols->len; i++) {
        symbol *s = &g_array_index(symbols, symbol, i);
        s->prev = (int)i - 1;
        s->next = i + 1 < symbols->len ? (int)i + 1 : -1;
    }
}

void hn_bpe_encode_word(const hn_bpe *bpe, const char *word, size_t length, GArray *ids)
{
    if (length == 0)
        return;
    if (bpe->ignore_merges) {
        int32_t whole = vocab_id(bpe, word, length);
        if (whole >= 0) {
            g_array_append_val(ids, whole);
            return;
        }
    }
    GArray *symbols = g_array_sized_new(FALSE, FALSE, sizeof(symbol), length);
    initial_symbols(bpe, word, length, symbols);
    symbol *s = (symbol *)symbols->data;
    GArray *heap = g_array_sized_new(FALSE, FALSE, sizeof(candidate), symbols->len);
    for (guint i = 0; i < symbols->len; i++)
        push_candidate(bpe, s, (int)i, heap);
    while (heap->len > 0) {
        candidate top = heap_pop(heap);
        symbol *left = &s[top.pos];
        if (left->length == 0 || left->next < 0)
            continue;
        symbol *right = &s[left->next];
        const hn_merge_slot *m = find_merge(bpe, left->id, right->id);
        if (m == NULL || m->merged != top.merged)
            continue; /* stale: one side changed since this candidate was queued */
        left->id = top.merged;
        left->length += right->length;
        right->length = 0;
        left->next = right->next;
        if (right->next >= 0)
            s[right->next].prev = top.pos;
        if (left->prev >= 0)
            push_candidate(bpe, s, left->prev, heap);
        push_candidate(bpe, s, top.pos, heap);
    }
    for (int i = symbols->len > 0 ? 0 : -1; i >= 0; i = s[i].next)
        g_array_append_val(ids, s[i].id);
    g_array_free(heap, TRUE);
    g_array_free(symbols, TRUE);
}
