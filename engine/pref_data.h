/* Preference examples from dataset rows, for stages rm and dpo (pairs) and kto (feedback), as
 * LLaMA-Factory's PairwiseDatasetProcessor (llamafactory/data/processor/pairwise.py) and
 * FeedbackDatasetProcessor (feedback.py) build them. Each conversation is encoded once as a
 * prompt and an answer (Template.encode_oneturn: hn_sft_encode_row_oneturn), the answer gets
 * the eos with efficient_eos templates, then prompt and answer are cut to cutoff_len by
 * infer_seqlen and the prompt masked. train_on_prompt and mask_history play no part here
 * (upstream's processors do not read them). Rows upstream drops (a prompt that is not an odd
 * number of turns, or fewer than two answers: plain, unsupervised and broken rows) are
 * counted in n_dropped, as hn_sft_data does; when every row is dropped the build is an error
 * saying what the rows lack (upstream: "Cannot find valid samples"). */
#pragma once

#include <stdbool.h>

#include "sft_data.h"

/* One ranking row: the prompt with the chosen answer and with the rejected one. Both start
 * with the same n_prompt prompt ids, labelled HN_IGNORE_INDEX; the answers' labels are their
 * ids. */
typedef struct {
    int32_t *chosen_input_ids;   /* [n_chosen] */
    int32_t *chosen_labels;      /* [n_chosen] */
    size_t n_chosen;
    int32_t *rejected_input_ids; /* [n_rejected] */
    int32_t *rejected_labels;    /* [n_rejected] */
    size_t n_rejected;
    size_t n_prompt;             /* ids both share at their start */
} hn_pair_example;

typedef struct {
    hn_pair_example *examples; /* [n_examples], in row order */
    size_t n_examples;
    size_t n_dropped;    /* rows upstream drops ("Dropped invalid example") */
    char *first_dropped; /* why the first one was dropped, or NULL */
    int64_t n_tokens;    /* chosen and rejected input ids over all examples */
} hn_pair_data;

/* Encodes every row of dataset (stage rm and dpo: upstream's get_dataset(stage="rm")). options:
 * cutoff_len, enable_thinking, preserve_thinking; each row has its own system. Errors name the
 * row. */
hn_status hn_pair_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                             const hn_tokenizer *tok, const hn_chat_encode_options *options,
                             hn_pair_data *out, hn_error *err);
void hn_pair_data_clear(hn_pair_data *data);

/* One KTO row: its prompt with its answer, and the same prompt with another row's answer for
 * the KL term (upstream's "mismatched pairs"): within each batch of rows that datasets' map
 * hands the processor (map_batches.h), row i borrows the answer of row i - 1 and the batch's
 * first row that of the batch's last row, counting every row of the batch, dropped ones too. */
typedef struct {
    int32_t *input_ids;    /* [n]: prompt (labelled HN_IGNORE_INDEX) + answer */
    int32_t *labels;       /* [n] */
    size_t n;
    int32_t *kl_input_ids; /* [n_kl]: the same prompt + the borrowed answer */
    int32_t *kl_labels;    /* [n_kl] */
    size_t n_kl;
    bool kto_tag;          /* true: a desirable answer; false: undesirable */
    size_t row;            /* the dataset row of the example */
    size_t kl_row;         /* the dataset row whose answer the KL pair borrows */
} hn_kto_example;

typedef struct {
    hn_kto_example *examples; /* [n_examples], in row order */
    size_t n_examples;
    size_t n_dropped;    /* rows upstream drops ("Dropped invalid example") */
    char *first_dropped; /* why the first one was dropped, or NULL */
    size_t n_desirable, n_undesirable; /* kto_tag true / false (upstream warns when one is 0) */
    int64_t n_tokens;    /* input ids over all examples (KL pairs not counted) */
} hn_kto_data;

/* Encodes every row (stage kto). batch_size and num_workers are the run's
 * preprocessing_batch_size and preprocessing_num_workers: they decide the KL pairs. A row
 * whose KL answer would come from a row without two answers is an error (upstream fails
 * there with an IndexError). */
hn_status hn_kto_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                            const hn_tokenizer *tok, const hn_chat_encode_options *options,
                            int batch_size, int num_workers, hn_kto_data *out, hn_error *err);
void hn_kto_data_clear(hn_kto_data *data);

/* One conversation as stage rm encodes a chosen sequence: the row's prompt, then answer, then
 * the eos with efficient_eos templates; not cut (what `hone score --reward` scores). g_free
 * *ids. */
hn_status hn_pref_encode_answer(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                                const hn_dataset_row *row, const hn_chat_message *answer,
                                const hn_chat_encode_options *options, int32_t **ids, size_t *n,
                                hn_error *err);

/* Moves the examples into the trainer's grouped examples (hn_sft_data with group 2): each pair
 * as its chosen then its rejected sequence, each KTO example as itself then its KL pair with
 * its tag in desirable[]. The source is left empty. */
void hn_pair_data_move_to(hn_pair_data *data, hn_sft_data *out);
void hn_kto_data_move_to(hn_kto_data *data, hn_sft_data *out);
