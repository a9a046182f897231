/* The training examples of a run, for stage pt or sft, packed or not, or for rm, dpo and kto
 * (grouped: pref_data.h), from the tokenized-data cache when it holds them, else built
 * (dataset_read -> identity -> pt_data / sft_data [-> sft_packing] / pref_data) and stored
 * there. This is what the trainer calls.
 *
 * The cache key (SHA-256) covers everything that changes the examples: Hone's cache format
 * version; stage, packing (as resolved), neat_packing, with packing or for kto (its KL pairs)
 * preprocessing_batch_size and preprocessing_num_workers, cutoff_len, train_on_prompt,
 * mask_history, enable_thinking, max_samples, seed, the identity name and author; the
 * dataset names and, for each, its resolved dataset_info.json entry (file_name, formatting,
 * ranking, split, num_samples, columns, tags) and the bytes of its files (every file of a
 * folder, with their names); the template's name, or with the model's own template its Jinja
 * text; the tokenizer: the bytes of tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, chat_template.jinja and chat_template.json beside it, or for a
 * GGUF file its path, size and modification time (hashing a whole model file would cost
 * seconds at every start). */
#pragma once

#include <stdbool.h>

#include "data_cache.h"
#include "sft_data.h"
#include "train_args.h"

typedef enum {
    HN_TRAIN_STAGE_PT,
    HN_TRAIN_STAGE_SFT,
    HN_TRAIN_STAGE_PAIRWISE, /* rm and dpo: chosen/rejected pairs (pref_data.h) */
    HN_TRAIN_STAGE_KTO,      /* kto: examples with their KL pairs */
} hn_train_stage;

typedef struct {
    const char *dataset_dir; /* holds dataset_info.json */
    const char *dataset;     /* names, separated by commas */
    int64_t max_samples;     /* -1: all */
    uint32_t seed;           /* num_samples draws */
    const char *identity_name, *identity_author; /* {{name}} / {{author}}; NULL: left */
    hn_train_stage stage;
    /* cutoff_len, train_on_prompt, mask_history, enable_thinking (sft; pt uses cutoff_len) */
    hn_chat_encode_options encode;
    /* -1: not set: upstream's default (on for pt, off for sft); 0; 1. As in LLaMA-Factory,
     * packing set to true (or neat_packing) lowers cutoff_len by one (DataArguments'
     * __post_init__), while pt's default packing, decided later by its parser, does not:
     * pt blocks are cutoff_len - 1 long with `packing: true`, cutoff_len when not set. */
    int packing;
    bool neat_packing; /* sft only; turns packing on (upstream's DataArguments) */
    /* Upstream preprocesses with datasets' map: the rows split into num_workers contiguous
     * shards (datasets' Dataset.shard(contiguous=True); fewer when there are fewer rows),
     * each in batches of batch_size rows, and packing works within one batch (the tail of a
     * pt batch shorter than a block is dropped; sft's knapsack groups one batch's examples).
     * Hone does the same, so packed data equals upstream's for the same two settings. */
    int preprocessing_batch_size;  /* default 1000; <= 0: all rows in one batch */
    int preprocessing_num_workers; /* default 0: upstream's None, one shard */
    const char *tokenizer_path; /* the model folder or file the tokenizer was loaded from */
    const char *cache_dir;      /* NULL: hn_data_cache_default_dir(); "": no cache */
    bool overwrite_cache;       /* rebuild and rewrite even when the cache holds the key */
} hn_train_data_options;

void hn_train_data_options_init(hn_train_data_options *options);
/* The options a run's keys give for datasets (a comma list): stage, cutoff_len, packing,
 * max_samples, seed, identity, preprocessing, the tokenizer's path, overwrite_cache. */
void hn_train_data_options_from_args(hn_train_data_options *options, const hn_train_args *args,
                                     const char *datasets);

typedef struct {
    bool cache_hit;   /* the examples came from the cache file */
    char *cache_path; /* the file read or written, NULL without a cache */
    char *warning;    /* one line to show, or NULL: a cache file that was unreadable, corrupt
                         or not writable (the examples were built anyway) */
    uint8_t key[HN_DATA_CACHE_KEY_SIZE];
} hn_train_data_info;

void hn_train_data_info_clear(hn_train_data_info *info);

/* Fills *out with the run's examples (hn_sft_data_clear it) and *info with where they came
 * from (hn_train_data_info_clear it). tmpl is the run's template, tok its tokenizer. */
hn_status hn_train_data_load(const hn_train_data_options *options, const hn_tokenizer *tok,
                             const hn_sft_template *tmpl, hn_sft_data *out,
                             hn_train_data_info *info, hn_error *err);

/* Only the key (exposed for tests and `hone` diagnostics). */
hn_status hn_train_data_key(const hn_train_data_options *options, const hn_tokenizer *tok,
                            const hn_sft_template *tmpl, uint8_t key[HN_DATA_CACHE_KEY_SIZE],
                            hn_error *err);
