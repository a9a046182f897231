/* Supervised (sft) examples from dataset rows: each row's system, prompt turns and answer
 * encoded with the run's chat template into input ids and labels, as LLaMA-Factory's
 * SupervisedDatasetProcessor.preprocess_dataset does (llamafactory/data/processor/
 * supervised.py): rows whose prompt is not an odd number of turns or that do not have exactly
 * one answer are dropped (upstream: "Dropped invalid example"), the rest truncated to
 * cutoff_len. The template is a named one (hn_chat_template) or the model's own Jinja one
 * (hn_chat_jinja, `template: auto`). */
#pragma once

#include "chat_encode.h"
#include "chat_jinja.h"
#include "dataset_read.h"

typedef struct {
    int32_t *input_ids; /* [n] */
    int32_t *labels;    /* [n] */
    size_t n;
    /* Packed rows only (sft_packing.h); NULL otherwise. position_ids: NULL means 0 .. n-1;
     * doc_start: NULL means one causal document over the whole row. They go to hn_batch's
     * fields of the same names. */
    int32_t *position_ids; /* [n] or NULL */
    int32_t *doc_start;    /* [n] or NULL */
} hn_sft_example;

typedef struct {
    hn_sft_example *examples; /* [n_examples], in row order */
    size_t n_examples;
    size_t n_dropped;         /* rows upstream drops (broken or not prompt/answer shaped) */
    char *first_dropped;      /* why the first one was dropped, or NULL */
    int64_t n_tokens;         /* input ids over all examples */
    int64_t n_label_tokens;   /* labels that train (not -100) */
    /* Examples per training item: 0 or 1 for pt and sft; 2 for rm and dpo (the chosen answer,
     * then the rejected one) and for kto (the example, then its KL pair: the same prompt with
     * another row's answer). Items are what batches count, shuffle and split. */
    int group;
    uint8_t *desirable;       /* kto: [n_examples / 2] each item's kto_tag (1: desirable) */
} hn_sft_data;

/* The number of training items (examples / group). */
size_t hn_sft_data_items(const hn_sft_data *data);
/* The examples per item (1 when group is 0). */
size_t hn_sft_data_group(const hn_sft_data *data);

/* The template: exactly one of named and jinja is set. */
typedef struct {
    const hn_chat_template *named;
    const hn_chat_jinja *jinja;
} hn_sft_template;

/* The template a run names: a LLaMA-Factory template name (filled into *named), or NULL or
 * "auto" for the model's own Jinja template (*jinja, hn_chat_jinja_free it). */
hn_status hn_sft_template_open(const char *template_name, const hn_tokenizer *tok,
                               hn_chat_template *named, hn_chat_jinja **jinja,
                               hn_sft_template *which, hn_error *err);

/* One row's conversation, [system] + prompt + answer (any of its answers: ranking and KTO rows
 * have two), with the row's system and tools: as the supervised processor encodes it
 * (labels, cutoff_len from options). */
hn_status hn_sft_encode_row(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                            const hn_dataset_row *row, const hn_chat_message *answer,
                            const hn_chat_encode_options *options, hn_chat_encoded *out,
                            hn_error *err);
/* The same conversation as Template.encode_oneturn splits it: the prompt (everything before
 * the answer) and the answer's ids, uncut (hn_chat_encode_oneturn). With the model's own
 * Jinja template the answer is what hn_chat_jinja_encode labels as the last answer and
 * everything after it. */
hn_status hn_sft_encode_row_oneturn(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                                    const hn_dataset_row *row, const hn_chat_message *answer,
                                    const hn_chat_encode_options *options, hn_chat_oneturn *out,
                                    hn_error *err);

/* Encodes every row. options carries cutoff_len, train_on_prompt, mask_history and
 * enable_thinking (its system is ignored: each row has its own). Errors name the row. */
hn_status hn_sft_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                            const hn_tokenizer *tok, const hn_chat_encode_options *options,
                            hn_sft_data *out, hn_error *err);
void hn_sft_data_clear(hn_sft_data *data);
