/* Pre-training (stage pt) examples from dataset rows, as LLaMA-Factory 0.9.5's
 * PretrainDatasetProcessor.preprocess_dataset (llamafactory/data/processor/pretrain.py):
 * each row's text is its first prompt message (the `prompt` column of an alpaca entry such as
 * c4_demo's `text`) followed by the eos token's text, tokenized without special tokens.
 *
 * packing on (upstream's default for pt): the rows' ids concatenated in order and cut into
 * blocks of cutoff_len; the tail shorter than a block is dropped. With a tokenizer whose
 * add_bos_token is true, each block's first id is replaced by the bos id. (Upstream's
 * DataArguments lowers cutoff_len by one when `packing: true` is set explicitly, not when pt
 * turns packing on by default; train_data.c passes cutoff_len accordingly.)
 * packing off: each row on its own, truncated to cutoff_len; with add_bos_token, the bos
 * token's text goes before the row's text.
 *
 * The eos text is the eos token of the tokenizer as the template leaves it (replace_eos makes
 * it the template's first stop word, hn_chat_template_eos), except with the llama3 template,
 * where upstream appends the text "<|end_of_text|>". Labels equal the input ids (the loss is on
 * every token); position_ids and doc_start stay NULL: plain causal attention over each row,
 * positions 0 .. n-1 (upstream passes no position ids and an all-ones attention mask). */
#pragma once

#include <stdbool.h>

#include "sft_data.h"

typedef struct {
    int cutoff_len; /* > 0: the block size with packing, the truncation length without */
    bool packing;
} hn_pt_options;

/* Builds the examples of the rows into *out (cleared with hn_sft_data_clear). Upstream packs
 * each batch of its dataset.map on its own (see train_data.h), so callers pass one batch of
 * rows at a time; a batch shorter than one block gives no examples. A row without a prompt (a
 * broken sharegpt row, where upstream fails with an IndexError) is an error naming it. */
hn_status hn_pt_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                           const hn_tokenizer *tok, const hn_pt_options *options,
                           hn_sft_data *out, hn_error *err);
