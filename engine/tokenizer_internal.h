/* The inside of hn_tokenizer, shared by the tokenizer_*.c files (not for other users).
 * The pipeline, as in Hugging Face tokenizers: added tokens are split out of the raw text,
 * the rest is normalized, pre-tokenized into words, each word becomes ids through BPE, and
 * the post-processor adds special tokens. Decoding runs the decoder chain over token strings. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

#include "tokenizer.h"

/* ---- pieces of text flowing through the pipeline ---- */

/* A piece of text (or an added token already recognised). Text lives in the owning list's
 * arena at [offset, offset + length). */
typedef struct {
    size_t offset, length;
    int32_t token;  /* >= 0: an added token, the text is its content */
    bool at_start;  /* begins at offset 0 of the original text (Metaspace "first") */
} hn_piece;

typedef struct {
    GString *arena;
    GArray *pieces; /* hn_piece */
} hn_piece_list;

void hn_pieces_init(hn_piece_list *list);
void hn_pieces_clear(hn_piece_list *list);
void hn_pieces_reset(hn_piece_list *list);
/* Appends text as a new piece. */
void hn_pieces_add(hn_piece_list *list, const char *text, size_t length, int32_t token,
                   bool at_start);
static inline const char *hn_piece_text(const hn_piece_list *list, const hn_piece *p)
{
    return list->arena->str + p->offset;
}

/* ---- patterns (Split, Replace): a literal string or a regex ---- */
typedef struct {
    char *literal; /* NULL when regex */
    GRegex *regex;
} hn_pattern;

/* Calls on_span(start, end, is_match) for the spans of text, matches and gaps alternating, as
 * tokenizers' Pattern::find_matches gives them. */
typedef void (*hn_span_fn)(size_t start, size_t end, bool is_match, void *user);
void hn_pattern_spans(const hn_pattern *pattern, const char *text, size_t length,
                      hn_span_fn on_span, void *user);

/* Appends text to out with every match of pattern replaced by content. Returns false, leaving
 * out partly written, as soon as out would grow past limit bytes (Replace steps chained in a
 * Sequence can otherwise grow a short text exponentially). */
bool hn_pattern_replace(const hn_pattern *pattern, const char *text, size_t length,
                        const char *content, GString *out, size_t limit);

/* ---- normalizers ---- */
typedef enum {
    HN_NORM_NFC, HN_NORM_NFD, HN_NORM_NFKC, HN_NORM_NFKD, HN_NORM_LOWERCASE,
    HN_NORM_REPLACE, HN_NORM_PREPEND, HN_NORM_STRIP, HN_NORM_SEQUENCE,
} hn_norm_kind;

typedef struct hn_normalizer {
    hn_norm_kind kind;
    hn_pattern pattern;  /* Replace */
    char *content;       /* Replace: replacement; Prepend: prefix */
    bool left, right;    /* Strip */
    struct hn_normalizer **children; /* Sequence */
    int n_children;
} hn_normalizer;

/* Normalizes text into out (replacing its content). Returns false when the normalized text
 * would pass HN_NORMALIZED_LIMIT(length) bytes: a tokenizer that grows text that much is
 * refused rather than allowed to exhaust memory. */
#define HN_NORMALIZED_GROWTH 64
#define HN_NORMALIZED_LIMIT(length) (HN_NORMALIZED_GROWTH * (size_t)(length) + 4096)
bool hn_normalize(const hn_normalizer *norm, const char *text, size_t length, GString *out);

/* ---- pre-tokenizers ---- */
typedef enum {
    HN_SPLIT_REMOVED, HN_SPLIT_ISOLATED, HN_SPLIT_MERGED_WITH_PREVIOUS,
    HN_SPLIT_MERGED_WITH_NEXT, HN_SPLIT_CONTIGUOUS,
} hn_split_behavior;

typedef enum { HN_PREPEND_ALWAYS, HN_PREPEND_FIRST, HN_PREPEND_NEVER } hn_prepend_scheme;

typedef enum {
    HN_PRE_BYTE_LEVEL, HN_PRE_SPLIT, HN_PRE_METASPACE, HN_PRE_DIGITS, HN_PRE_SEQUENCE,
} hn_pre_kind;

typedef struct hn_pretokenizer {
    hn_pre_kind kind;
    bool add_prefix_space, use_regex;    /* ByteLevel */
    hn_pattern pattern;                  /* Split */
    hn_split_behavior behavior;          /* Split */
    bool invert;                         /* Split */
    char *replacement;                   /* Metaspace (one character, UTF-8) */
    hn_prepend_scheme prepend_scheme;    /* Metaspace */
    bool split;                          /* Metaspace */
    bool individual_digits;              /* Digits */
    struct hn_pretokenizer **children;   /* Sequence */
    int n_children;
} hn_pretokenizer;

/* Splits every text piece of `in` (tokens pass through) into `out`. */
void hn_pretokenize(const hn_pretokenizer *pre, const hn_piece_list *in, hn_piece_list *out);
/* The GPT-2 byte-to-character map: byte b is written as the UTF-8 of this code point. */
gunichar hn_byte_to_unichar(unsigned char b);
/* The inverse; -1 for a character that stands for no byte. */
int hn_unichar_to_byte(gunichar c);
/* Unicode's White_Space property (what Rust's char::is_whitespace tests). */
bool hn_unichar_is_white_space(gunichar c);

/* ---- the BPE model ---- */
typedef struct {
    uint64_t key;     /* (left id << 32) | right id; 0 marks an empty slot (ids + 1 used) */
    int32_t rank;
    int32_t merged;
} hn_merge_slot;

typedef struct {
    GHashTable *vocab;      /* token string -> id + 1 (GINT_TO_POINTER) */
    char **id_to_token;     /* [n_ids]; NULL for ids without a vocabulary entry */
    int32_t n_ids;
    hn_merge_slot *merges;  /* open addressing, capacity a power of two */
    size_t merge_capacity;
    int32_t unk_id;         /* -1 when no unk_token */
    bool byte_fallback, fuse_unk, ignore_merges;
    int32_t byte_tokens[256]; /* "<0xXX>" ids for byte_fallback, -1 when absent */
    int32_t char_ids[256];    /* ids of single ASCII/byte-level characters, -1 when absent */
} hn_bpe;

/* Building the model (tokenizer_bpe_build.c). */
void hn_bpe_begin(hn_bpe *bpe);
void hn_bpe_set_token(hn_bpe *bpe, const char *token, int32_t id);
int32_t hn_bpe_lookup(const hn_bpe *bpe, const char *token);
/* After the last token: the id table, unk, byte-fallback and single-character ids. */
void hn_bpe_end_vocab(hn_bpe *bpe, const char *unk_token);
/* The model as tokenizer.json's "model" object: type BPE, the flags, the vocabulary and the
 * merges best first (as [left, right] pairs, which tokenizers reads since 0.20 and which stay
 * unambiguous for tokens holding spaces). */
cJSON *hn_bpe_model_json(const hn_bpe *bpe);
void hn_bpe_begin_merges(hn_bpe *bpe, size_t n);
/* Adds merge number `rank`; a token it needs that is not in the vocabulary is an error
 * naming `label` and `where`. */
hn_status hn_bpe_add_merge(hn_bpe *bpe, const char *left, const char *right, int32_t rank,
                           const char *label, const char *where, hn_error *err);

/* Appends the ids of one word to ids. */
void hn_bpe_encode_word(const hn_bpe *bpe, const char *word, size_t length, GArray *ids);

/* ---- added tokens ---- */
typedef struct {
    char *content;
    int32_t id;
    bool single_word, lstrip, rstrip, normalized, special;
} hn_added_token;

/* A byte trie over added-token contents for leftmost-longest matching. */
typedef struct hn_trie hn_trie;
hn_trie *hn_trie_new(void);
void hn_trie_free(hn_trie *trie);
void hn_trie_insert(hn_trie *trie, const char *key, size_t length, int value);
/* The value of the longest key starting at text, or -1; *match_length gets its length. */
int hn_trie_longest(const hn_trie *trie, const char *text, size_t length, size_t *match_length);

/* Splits `text` around added tokens (those in `trie`; values index `added`). */
void hn_split_added(const hn_trie *trie, const hn_added_token *added, const char *text,
                    size_t length, bool at_start, hn_piece_list *out);

/* ---- post-processor ---- */
typedef struct {
    bool is_sequence;   /* the encoded sequence itself */
    int32_t *ids;       /* the special token's ids otherwise */
    int n_ids;
} hn_template_item;

typedef struct {
    hn_template_item *single;
    int n_single;
} hn_post_processor;

/* ---- decoders ---- */
typedef enum {
    HN_DEC_BYTE_LEVEL, HN_DEC_BYTE_FALLBACK, HN_DEC_FUSE, HN_DEC_STRIP, HN_DEC_REPLACE,
    HN_DEC_METASPACE, HN_DEC_SEQUENCE,
} hn_dec_kind;

typedef struct hn_decoder {
    hn_dec_kind kind;
    hn_pattern pattern;             /* Replace */
    char *content;                  /* Replace: replacement; Strip: the character */
    int start, stop;                /* Strip */
    char *replacement;              /* Metaspace */
    hn_prepend_scheme prepend_scheme;
    struct hn_decoder **children;   /* Sequence */
    int n_children;
} hn_decoder;

/* Runs the decoder over tokens (GPtrArray of g_malloc'ed strings, replaced in place). */
/* Returns false when a Replace step would make one token longer than HN_DECODED_TOKEN_LIMIT
 * bytes (real decoders never come near it). */
#define HN_DECODED_TOKEN_LIMIT 65536
bool hn_decode_chain(const hn_decoder *dec, GPtrArray *tokens);
/* Appends bytes to out as UTF-8, each maximal invalid subpart as U+FFFD (Rust's
 * String::from_utf8_lossy). */
void hn_append_utf8_lossy(GString *out, const unsigned char *bytes, size_t length);

/* ---- the whole tokenizer ---- */
struct hn_tokenizer {
    char *label;
    hn_bpe bpe;
    hn_added_token *added;      /* [n_added] */
    int n_added;
    GHashTable *added_by_id;    /* id -> hn_added_token* */
    hn_trie *raw_trie;          /* added tokens with normalized=false */
    hn_trie *normalized_trie;   /* added tokens with normalized=true (contents normalized) */
    hn_normalizer *normalizer;  /* NULL for none */
    hn_pretokenizer *pre;       /* NULL for none */
    hn_post_processor post;
    hn_decoder *decoder;        /* NULL: tokens joined with spaces */
    hn_tokenizer_config config;
};

/* A tokenizer with its label and no model yet. */
hn_tokenizer *hn_tokenizer_new(const char *label);
/* Reads added_tokens, normalizer, pre_tokenizer, post_processor and decoder from a
 * tokenizer.json object (the model must already be built), then prepares the tries. */
hn_status hn_tokenizer_read_components(hn_tokenizer *tok, const cJSON *root, hn_error *err);

void hn_normalizer_free(hn_normalizer *norm);
void hn_pretokenizer_free(hn_pretokenizer *pre);
void hn_decoder_free(hn_decoder *dec);
void hn_pattern_clear(hn_pattern *pattern);
