/* Added tokens: a byte trie for leftmost-longest matching, and splitting text around the
 * matches with the lstrip / rstrip / single_word rules of HF tokenizers' AddedVocabulary. */
#include <string.h>

#include "tokenizer_internal.h"

typedef struct {
    int value;        /* index into the added tokens, or -1 */
    int first_child;  /* -1 when none */
    int next_sibling; /* -1 when last */
    unsigned char byte;
} trie_node;

struct hn_trie {
    GArray *nodes;         /* trie_node; node 0 is the root */
    int root_children[256];
};

hn_trie *hn_trie_new(void)
{
    hn_trie *trie = g_new0(hn_trie, 1);
    trie->nodes = g_array_new(FALSE, FALSE, sizeof(trie_node));
    trie_node root = {-1, -1, -1, 0};
    g_array_append_val(trie->nodes, root);
    for (int b = 0; b < 256; b++)
        trie->root_children[b] = -1;
    return trie;
}

void hn_trie_free(hn_trie *trie)
{
    if (trie == NULL)
        return;
    g_array_free(trie->nodes, TRUE);
    g_free(trie);
}

static int find_child(const hn_trie *trie, int node, unsigned char byte)
{
    if (node == 0)
        return trie->root_children[byte];
    for (int c = g_array_index(trie->nodes, trie_node, node).first_child; c >= 0;
         c = g_array_index(trie->nodes, trie_node, c).next_sibling)
        if (g_array_index(trie->nodes, trie_node, c).byte == byte)
            return c;
    return -1;
}

void hn_trie_insert(hn_trie *trie, const char *key, size_t length, int value)
{
    int node = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)key[i];
        int child = find_child(trie, node, byte);
        if (child < 0) {
            trie_node fresh = {-1, -1, -1, byte};
            child = (int)trie->nodes->len;
            if (node == 0) {
                trie->root_children[byte] = child;
            } else {
                trie_node *parent = &g_array_index(trie->nodes, trie_node, node);
                fresh.next_sibling = parent->first_child;
                parent->first_child = child;
            }
            g_array_append_val(trie->nodes, fresh);
        }
        node = child;
    }
    if (length > 0)
        g_array_index(trie->nodes, trie_node, node).value = value;
}

int hn_trie_longest(const hn_trie *trie, const char *text, size_t length, size_t *match_length)
{
    int best = -1, node = 0;
    for (size_t i = 0; i < length; i++) {
        node = find_child(trie, node, (unsigned char)text[i]);
        if (node < 0)
            break;
        int value = g_array_index(trie->nodes, trie_node, node).value;
        if (value >= 0) {
            best = value;
            *match_length = i + 1;
        }
    }
    return best;
}

static bool is_word_char(gunichar c)
{
    return g_unichar_isalnum(c) || c == '_';
}

void hn_split_added(const hn_trie *trie, const hn_added_token *added, const char *text,
                    size_t length, bool at_start, hn_piece_list *out)
{
    size_t start_offset = 0, pos = 0;
    while (pos < length) {
        size_t match_length = 0;
        int index = trie->root_children[(unsigned char)text[pos]] >= 0
                        ? hn_trie_longest(trie, text + pos, length - pos, &match_length)
                        : -1;
        if (index < 0) {
            pos++;
            continue;
        }
        const hn_added_token *token = &added[index];
        size_t start = pos, stop = pos + match_length;
        pos = stop; /* matches never overlap; a skipped one is not searched inside */
        if (token->single_word) {
            bool word_before = start > 0 && is_word_char(g_utf8_get_char(
                                                g_utf8_find_prev_char(text, text + start)));
            bool word_after = stop < length && is_word_char(g_utf8_get_char(text + stop));
            if (word_before || word_after)
                continue;
        }
        if (token->lstrip) {
            size_t s = start;
            while (s > 0) {
                const char *prev = g_utf8_find_prev_char(text, text + s);
                if (!hn_unichar_is_white_space(g_utf8_get_char(prev)))
                    break;
                s = (size_t)(prev - text);
            }
            start = s > start_offset ? s : start_offset;
        }
        if (token->rstrip) {
            /* the search goes on from the match's own end, as upstream's does */
            while (stop < length && hn_unichar_is_white_space(g_utf8_get_char(text + stop)))
                stop = (size_t)(g_utf8_next_char(text + stop) - text);
        }
        if (start_offset < start)
            hn_pieces_add(out, text + start_offset, start - start_offset, -1,
                          at_start && start_offset == 0);
        hn_pieces_add(out, text + start, stop - start, token->id, at_start && start == 0);
        start_offset = stop;
    }
    if (start_offset < length || length == 0)
        hn_pieces_add(out, text + start_offset, length - start_offset, -1,
                      at_start && start_offset == 0);
}
