/* Pairwise (rm, dpo) and feedback (kto) examples from dataset rows (see pref_data.h). */
#include "pref_data.h"

#include <string.h>

#include "map_batches.h"

/* The processors' filter (pairwise.py, feedback.py): an odd number of prompt turns and at
 * least two answers; broken rows (empty) fail it too. */
static bool well_formed(const hn_dataset_row *row)
{
    return !row->broken && row->n_prompt % 2 == 1 && row->n_response >= 2;
}

/* Counts a row the processors drop, keeping why the first one was dropped. */
static void count_dropped(size_t i, const hn_dataset_row *row, size_t *n_dropped,
                          char **first_dropped)
{
    if (*first_dropped == NULL)
        *first_dropped = g_strdup_printf("row %zu: %zu prompt turns and %zu answers (expected "
                                         "an odd number and 2)", i, row->n_prompt,
                                         row->n_response);
    (*n_dropped)++;
}

/* The eos that efficient_eos templates append to each answer (the tokenizer's eos after the
 * template's fix_special_tokens); -1 when the template does not. */
static hn_status answer_eos(const hn_sft_template *tmpl, const hn_tokenizer *tok, int32_t *eos,
                            hn_error *err)
{
    *eos = -1;
    if (tmpl->named != NULL && tmpl->named->efficient_eos)
        return hn_chat_template_eos(tmpl->named, tok, eos, err);
    return HN_OK;
}

/* A row's prompt with one answer, as encode_oneturn splits it, the eos appended (eos >= 0). */
static hn_status encode_answer(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                               const hn_dataset_row *row, const hn_chat_message *answer,
                               const hn_chat_encode_options *options, int32_t eos,
                               hn_chat_oneturn *out, hn_error *err)
{
    HN_TRY(hn_sft_encode_row_oneturn(tmpl, tok, row, answer, options, out, err));
    if (eos >= 0) {
        out->response = g_renew(int32_t, out->response, out->n_response + 1);
        out->response[out->n_response++] = eos;
    }
    return HN_OK;
}

/* infer_seqlen's share of cutoff_len (no limit when cutoff_len <= 0). */
static void fit(const hn_chat_encode_options *options, size_t source, size_t target,
                size_t *new_source, size_t *new_target)
{
    size_t budget = options->cutoff_len > 0 ? (size_t)options->cutoff_len : source + target;
    hn_infer_seqlen(source, target, budget, new_source, new_target);
}

/* prompt[:n_prompt] + answer[:n_answer] and its labels (prompt masked). */
static void join(const int32_t *prompt, size_t n_prompt, const int32_t *answer, size_t n_answer,
                 int32_t **ids, int32_t **labels)
{
    size_t n = n_prompt + n_answer;
    *ids = g_new(int32_t, n + 1);
    *labels = g_new(int32_t, n + 1);
    for (size_t k = 0; k < n_prompt; k++) {
        (*ids)[k] = prompt[k];
        (*labels)[k] = HN_IGNORE_INDEX;
    }
    for (size_t k = 0; k < n_answer; k++)
        (*ids)[n_prompt + k] = (*labels)[n_prompt + k] = answer[k];
}

hn_status hn_pref_encode_answer(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                                const hn_dataset_row *row, const hn_chat_message *answer,
                                const hn_chat_encode_options *options, int32_t **ids, size_t *n,
                                hn_error *err)
{
    int32_t eos;
    HN_TRY(answer_eos(tmpl, tok, &eos, err));
    hn_chat_oneturn one = {0};
    hn_status s = encode_answer(tmpl, tok, row, answer, options, eos, &one, err);
    if (s == HN_OK) {
        int32_t *labels;
        join(one.prompt, one.n_prompt, one.response, one.n_response, ids, &labels);
        g_free(labels);
        *n = one.n_prompt + one.n_response;
    }
    hn_chat_oneturn_clear(&one);
    return s;
}

/* Upstream stops when a stage gets no example ("Cannot find valid samples"); Hone says what
 * the rows lacked. */
static hn_status none_valid(size_t n_rows, const char *first_dropped, const char *expected,
                            hn_error *err)
{
    return hn_fail(err, HN_ERR_ARGUMENT, "none of the %zu dataset rows is %s (the first: "
                   "%s); LLaMA-Factory drops such rows too and stops with \"Cannot find valid "
                   "samples\"", n_rows, expected, first_dropped);
}

/* PairwiseDatasetProcessor._encode_data_example: the chosen conversation's prompt for both;
 * prompt and the longer answer share cutoff_len, both answers cut to the same length. */
static hn_status encode_pair(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                             const hn_dataset_row *row, const hn_chat_encode_options *options,
                             int32_t eos, hn_pair_example *out, hn_error *err)
{
    hn_chat_oneturn chosen = {0}, rejected = {0};
    hn_status s = encode_answer(tmpl, tok, row, &row->response[0], options, eos, &chosen, err);
    if (s == HN_OK)
        s = encode_answer(tmpl, tok, row, &row->response[1], options, eos, &rejected, err);
    if (s == HN_OK) {
        size_t n_prompt, n_answer;
        fit(options, chosen.n_prompt, MAX(chosen.n_response, rejected.n_response), &n_prompt,
            &n_answer);
        size_t n_chosen = MIN(n_answer, chosen.n_response);
        size_t n_rejected = MIN(n_answer, rejected.n_response);
        join(chosen.prompt, n_prompt, chosen.response, n_chosen, &out->chosen_input_ids,
             &out->chosen_labels);
        join(chosen.prompt, n_prompt, rejected.response, n_rejected, &out->rejected_input_ids,
             &out->rejected_labels);
        out->n_chosen = n_prompt + n_chosen;
        out->n_rejected = n_prompt + n_rejected;
        out->n_prompt = n_prompt;
    }
    hn_chat_oneturn_clear(&chosen);
    hn_chat_oneturn_clear(&rejected);
    return s;
}

hn_status hn_pair_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                             const hn_tokenizer *tok, const hn_chat_encode_options *options,
                             hn_pair_data *out, hn_error *err)
{
    *out = (hn_pair_data){0};
    int32_t eos;
    HN_TRY(answer_eos(tmpl, tok, &eos, err));
    out->examples = g_new0(hn_pair_example, dataset->n_rows + 1);
    for (size_t i = 0; i < dataset->n_rows; i++) {
        const hn_dataset_row *row = &dataset->rows[i];
        if (!well_formed(row)) {
            count_dropped(i, row, &out->n_dropped, &out->first_dropped);
            continue;
        }
        hn_pair_example *e = &out->examples[out->n_examples];
        hn_status s = encode_pair(tmpl, tok, row, options, eos, e, err);
        if (s != HN_OK) {
            hn_error_prefix(err, "dataset row %zu", i);
            hn_pair_data_clear(out);
            return s;
        }
        out->n_examples++;
        out->n_tokens += (int64_t)(e->n_chosen + e->n_rejected);
    }
    if (dataset->n_rows > 0 && out->n_examples == 0) {
        hn_status s = none_valid(dataset->n_rows, out->first_dropped, "a preference pair (a "
                                 "ranking row with a prompt, a chosen and a rejected answer)",
                                 err);
        hn_pair_data_clear(out);
        return s;
    }
    return HN_OK;
}

void hn_pair_data_clear(hn_pair_data *data)
{
    for (size_t i = 0; i < data->n_examples; i++) {
        hn_pair_example *e = &data->examples[i];
        g_free(e->chosen_input_ids);
        g_free(e->chosen_labels);
        g_free(e->rejected_input_ids);
        g_free(e->rejected_labels);
    }
    g_free(data->examples);
    g_free(data->first_dropped);
    *data = (hn_pair_data){0};
}

/* The answer of a KTO response: the first when its text is not empty, else the second
 * (feedback.py's `if response[0]["content"]`); NULL where upstream would index past the
 * end. */
static const hn_chat_message *kto_answer(const hn_dataset_row *row)
{
    if (row->n_response >= 1 && row->response[0].content != NULL &&
        row->response[0].content[0] != '\0')
        return &row->response[0];
    return row->n_response >= 2 ? &row->response[1] : NULL;
}

/* prompt + answer, both cut by infer_seqlen, into ids and labels. */
static hn_status encode_feedback(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                                 const hn_dataset_row *row, const hn_chat_message *answer,
                                 const hn_chat_encode_options *options, int32_t eos,
                                 int32_t **ids, int32_t **labels, size_t *n, hn_error *err)
{
    hn_chat_oneturn encoded;
    HN_TRY(encode_answer(tmpl, tok, row, answer, options, eos, &encoded, err));
    size_t n_prompt, n_answer;
    fit(options, encoded.n_prompt, encoded.n_response, &n_prompt, &n_answer);
    join(encoded.prompt, n_prompt, encoded.response, n_answer, ids, labels);
    *n = n_prompt + n_answer;
    hn_chat_oneturn_clear(&encoded);
    return HN_OK;
}

/* FeedbackDatasetProcessor._encode_data_example for row i, whose KL answer comes from row
 * kl_row. */
static hn_status encode_kto(const hn_dataset *dataset, size_t i, size_t kl_row,
                            const hn_sft_template *tmpl, const hn_tokenizer *tok,
                            const hn_chat_encode_options *options, int32_t eos,
                            hn_kto_example *e, hn_error *err)
{
    const hn_dataset_row *row = &dataset->rows[i];
    const hn_chat_message *kl = kto_answer(&dataset->rows[kl_row]);
    if (kl == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "its KL pair takes the answer of row %zu (each "
                       "row borrows the previous row's answer within a batch of "
                       "preprocessing_batch_size rows), which has %zu answer%s and no text to "
                       "borrow; expected a KTO row there (LLaMA-Factory fails on this with an "
                       "IndexError); remove that row or give it a kto_tag", kl_row,
                       dataset->rows[kl_row].n_response,
                       dataset->rows[kl_row].n_response == 1 ? "" : "s");
    const hn_chat_message *answer = kto_answer(row);
    e->kto_tag = answer == &row->response[0];
    e->row = i;
    e->kl_row = kl_row;
    HN_TRY(encode_feedback(tmpl, tok, row, answer, options, eos, &e->input_ids, &e->labels,
                           &e->n, err));
    return encode_feedback(tmpl, tok, row, kl, options, eos, &e->kl_input_ids, &e->kl_labels,
                           &e->n_kl, err);
}

static void kto_example_clear(hn_kto_example *e)
{
    g_free(e->input_ids);
    g_free(e->labels);
    g_free(e->kl_input_ids);
    g_free(e->kl_labels);
    *e = (hn_kto_example){0};
}

hn_status hn_kto_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                            const hn_tokenizer *tok, const hn_chat_encode_options *options,
                            int batch_size, int num_workers, hn_kto_data *out, hn_error *err)
{
    *out = (hn_kto_data){0};
    int32_t eos;
    HN_TRY(answer_eos(tmpl, tok, &eos, err));
    out->examples = g_new0(hn_kto_example, dataset->n_rows + 1);
    hn_map_batches batches;
    hn_map_batches_init(&batches, dataset->n_rows, batch_size, num_workers);
    size_t first, n;
    while (hn_map_batches_next(&batches, &first, &n)) {
        for (size_t i = first; i < first + n; i++) {
            const hn_dataset_row *row = &dataset->rows[i];
            if (!well_formed(row)) {
                count_dropped(i, row, &out->n_dropped, &out->first_dropped);
                continue;
            }
            hn_kto_example *e = &out->examples[out->n_examples];
            hn_status s = encode_kto(dataset, i, i > first ? i - 1 : first + n - 1, tmpl, tok,
                                     options, eos, e, err);
            if (s != HN_OK) {
                kto_example_clear(e);
                hn_error_prefix(err, "dataset row %zu", i);
                hn_kto_data_clear(out);
                return s;
            }
            out->n_examples++;
            out->n_tokens += (int64_t)e->n;
            if (e->kto_tag)
                out->n_desirable++;
            else
                out->n_undesirable++;
        }
    }
    if (dataset->n_rows > 0 && out->n_examples == 0) {
        hn_status s = none_valid(dataset->n_rows, out->first_dropped, "a KTO row (a prompt and "
                                 "an answer with a kto_tag of true or false)", err);
        hn_kto_data_clear(out);
        return s;
    }
    return HN_OK;
}

/* One sequence as a plain example, counting its trained labels. */
static hn_sft_example take_sequence(int32_t *ids, int32_t *labels, size_t n, int64_t *n_labels)
{
    for (size_t t = 0; t < n; t++)
        *n_labels += labels[t] != HN_IGNORE_INDEX;
    return (hn_sft_example){.input_ids = ids, .labels = labels, .n = n};
}

void hn_pair_data_move_to(hn_pair_data *data, hn_sft_data *out)
{
    *out = (hn_sft_data){.examples = g_new0(hn_sft_example, 2 * data->n_examples + 1),
                         .n_examples = 2 * data->n_examples, .n_dropped = data->n_dropped,
                         .first_dropped = data->first_dropped, .n_tokens = data->n_tokens,
                         .group = 2};
    for (size_t i = 0; i < data->n_examples; i++) {
        hn_pair_example *e = &data->examples[i];
        out->examples[2 * i] = take_sequence(e->chosen_input_ids, e->chosen_labels, e->n_chosen,
                                             &out->n_label_tokens);
        out->examples[2 * i + 1] = take_sequence(e->rejected_input_ids, e->rejected_labels,
                                                 e->n_rejected, &out->n_label_tokens);
    }
    g_free(data->examples);
    *data = (hn_pair_data){0};
}

void hn_kto_data_move_to(hn_kto_data *data, hn_sft_data *out)
{
    size_t n = data->n_examples;
    *out = (hn_sft_data){.examples = g_new0(hn_sft_example, 2 * n + 1), .n_examples = 2 * n,
                         .n_dropped = data->n_dropped, .first_dropped = data->first_dropped,
                         .n_tokens = data->n_tokens, .group = 2,
                         .desirable = g_new0(uint8_t, n + 1)};
    for (size_t i = 0; i < n; i++) {
        hn_kto_example *e = &data->examples[i];
        out->examples[2 * i] = take_sequence(e->input_ids, e->labels, e->n, &out->n_label_tokens);
        int64_t kl_labels = 0; /* the KL pairs train nothing */
        out->examples[2 * i + 1] = take_sequence(e->kl_input_ids, e->kl_labels, e->n_kl,
                                                 &kl_labels);
        out->desirable[i] = e->kto_tag;
    }
    g_free(data->examples);
    *data = (hn_kto_data){0};
}

void hn_kto_data_clear(hn_kto_data *data)
{
    for (size_t i = 0; i < data->n_examples; i++)
        kto_example_clear(&data->examples[i]);
    g_free(data->examples);
    g_free(data->first_dropped);
    *data = (hn_kto_data){0};
}
