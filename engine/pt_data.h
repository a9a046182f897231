/* Pre-training (stage pt) examples from dataset rows, as LLaMA-Factory 0.9.5's
 * PretrainDatasetProcessor.preprocess_dataset (llamafactory/data/processor/pretrain.py):
 * each row's text is its first prompt message (the `prompt` column of an alpaca entry such as
 * c4_demo's `text`) followed by the eos token's text, tokenized without special tokens.
 *
 * packing on (upstream's default for pt): the rows' ids concatenated in order and cut into
 * blocks of cutoff_len - 1 (upstream's DataArguments lowers cutoff_len by one whenever packing
 * is on); the tail shorter than a block is dropped. With a tokenizer whose add_bos_token is
 * true, each block's first id is replaced by the bos id.
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
    int cutoff_len; /* > 0, as the user gave it */
    bool packing;
} hn_pt_options;

/* Builds the examples into *out (cleared with hn_sft_data_clear). A row without a prompt (a
 * broken sharegpt row, where upstream fails with an IndexError) is an error naming it, and so
 * is packed data too short for one block (upstream: "Cannot find sufficient samples"). */
hn_status hn_pt_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                           const hn_tokenizer *tok, const hn_pt_options *options,
                           hn_sft_data *out, hn_error *err);
