/* Dataset rows to supervised examples (see sft_data.h). */
#include "sft_data.h"

#include <string.h>

/* Upstream's filter before encoding (supervised.py): an odd number of prompt turns and one
 * answer; broken rows (empty prompt and answer) fail it too. */
static bool well_formed(const hn_dataset_row *row)
{
    return !row->broken && row->n_prompt % 2 == 1 && row->n_response == 1;
}

/* Named templates: prompt + answer as one message list, the row's system and tools in the
 * options (g_free the list). */
static hn_chat_message *row_messages(const hn_dataset_row *row, const hn_chat_message *answer,
                                     const hn_chat_encode_options *base,
                                     hn_chat_encode_options *options)
{
    hn_chat_message *messages = g_new(hn_chat_message, row->n_prompt + 1);
    if (row->n_prompt > 0)
        memcpy(messages, row->prompt, row->n_prompt * sizeof *messages);
    messages[row->n_prompt] = *answer;
    *options = *base;
    options->system = row->system; /* "" or NULL: the template's default */
    options->tools = row->tools != NULL && row->tools[0] != '\0' ? row->tools : NULL;
    return messages;
}

static hn_status encode_named(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                              const hn_dataset_row *row, const hn_chat_message *answer,
                              const hn_chat_encode_options *base, hn_chat_encoded *out,
                              hn_error *err)
{
    hn_chat_encode_options options;
    hn_chat_message *messages = row_messages(row, answer, base, &options);
    hn_status s = hn_chat_encode(tmpl, tok, messages, row->n_prompt + 1, &options, out, err);
    g_free(messages);
    return s;
}

static const char *jinja_role(hn_chat_role role)
{
    switch (role) {
    case HN_ROLE_USER:
        return "user";
    case HN_ROLE_ASSISTANT:
        return "assistant";
    case HN_ROLE_SYSTEM:
        return "system";
    case HN_ROLE_OBSERVATION:
        return "tool";
    case HN_ROLE_FUNCTION:
        break;
    }
    return NULL;
}

static void add_message(cJSON *list, const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", content);
    cJSON_AddItemToArray(list, m);
}

/* The model's Jinja template: the whole conversation rendered and tokenized, then cut to
 * cutoff_len from the end (LLaMA-Factory would instead derive a slot template from the Jinja
 * text and cut turn by turn; see chat_jinja.h for why Hone renders the model's own). */
static hn_status encode_jinja(const hn_chat_jinja *jinja, const hn_dataset_row *row,
                              const hn_chat_message *answer, const hn_chat_encode_options *base,
                              hn_chat_encoded *out, hn_error *err)
{
    cJSON *messages = cJSON_CreateArray();
    hn_status s = HN_OK;
    if (row->system != NULL && row->system[0] != '\0')
        add_message(messages, "system", row->system);
    for (size_t i = 0; i <= row->n_prompt && s == HN_OK; i++) {
        const hn_chat_message *m = i < row->n_prompt ? &row->prompt[i] : answer;
        const char *role = jinja_role(m->role);
        if (role == NULL)
            s = hn_fail(err, HN_ERR_UNSUPPORTED, "message %zu: function calls are not supported "
                        "with the model's own template yet", i);
        else
            add_message(messages, role, m->content);
    }
    hn_chat_encode_options options = *base;
    options.system = NULL;
    options.tools = row->tools != NULL && row->tools[0] != '\0' ? row->tools : NULL;
    if (s == HN_OK)
        s = hn_chat_jinja_encode(jinja, messages, &options, NULL, out, err);
    if (s == HN_OK && base->cutoff_len > 0 && out->n > (size_t)base->cutoff_len)
        out->n = (size_t)base->cutoff_len;
    cJSON_Delete(messages);
    return s;
}

hn_status hn_sft_encode_row(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                            const hn_dataset_row *row, const hn_chat_message *answer,
                            const hn_chat_encode_options *options, hn_chat_encoded *out,
                            hn_error *err)
{
    return tmpl->named != NULL ? encode_named(tmpl->named, tok, row, answer, options, out, err)
                               : encode_jinja(tmpl->jinja, row, answer, options, out, err);
}

/* ids[from..to) as a new array that is never NULL. */
static int32_t *copy_ids(const int32_t *ids, size_t from, size_t to)
{
    int32_t *copy = g_new(int32_t, to - from + 1);
    if (to > from)
        memcpy(copy, ids + from, (to - from) * sizeof *copy);
    return copy;
}

hn_status hn_sft_encode_row_oneturn(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                                    const hn_dataset_row *row, const hn_chat_message *answer,
                                    const hn_chat_encode_options *base, hn_chat_oneturn *out,
                                    hn_error *err)
{
    *out = (hn_chat_oneturn){0};
    if (tmpl->named != NULL) {
        hn_chat_encode_options options;
        hn_chat_message *messages = row_messages(row, answer, base, &options);
        hn_status s = hn_chat_encode_oneturn(tmpl->named, tok, messages, row->n_prompt + 1,
                                             &options, out, err);
        g_free(messages);
        return s;
    }
    /* The model's own template: the conversation rendered with only the last answer
     * labelled and not cut; the prompt is every id before that answer, the answer the rest. */
    hn_chat_encode_options options = *base;
    options.cutoff_len = 0;
    options.mask_history = true;
    options.train_on_prompt = false;
    hn_chat_encoded encoded;
    HN_TRY(encode_jinja(tmpl->jinja, row, answer, &options, &encoded, err));
    size_t k = 0;
    while (k < encoded.n && encoded.labels[k] == HN_IGNORE_INDEX)
        k++;
    *out = (hn_chat_oneturn){copy_ids(encoded.input_ids, 0, k), k,
                             copy_ids(encoded.input_ids, k, encoded.n), encoded.n - k};
    hn_chat_encoded_clear(&encoded);
    return HN_OK;
}

hn_status hn_sft_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                            const hn_tokenizer *tok, const hn_chat_encode_options *options,
                            hn_sft_data *out, hn_error *err)
{
    *out = (hn_sft_data){0};
    out->examples = g_new0(hn_sft_example, dataset->n_rows > 0 ? dataset->n_rows : 1);
    int64_t targets = 0; /* labels after the first token (the shifted targets) */
    for (size_t i = 0; i < dataset->n_rows; i++) {
        const hn_dataset_row *row = &dataset->rows[i];
        if (!well_formed(row)) {
            if (out->first_dropped == NULL)
                out->first_dropped = g_strdup_printf("row %zu: %zu prompt turns and %zu "
                                                     "answers (expected an odd number and 1)",
                                                     i, row->n_prompt, row->n_response);
            out->n_dropped++;
            continue;
        }
        hn_chat_encoded encoded = {0};
        hn_status s = hn_sft_encode_row(tmpl, tok, row, &row->response[0], options, &encoded,
                                        err);
        if (s != HN_OK) {
            hn_error_prefix(err, "dataset row %zu", i);
            hn_sft_data_clear(out);
            return s;
        }
        out->examples[out->n_examples++] =
            (hn_sft_example){encoded.input_ids, encoded.labels, encoded.n, NULL, NULL};
        out->n_tokens += (int64_t)encoded.n;
        for (size_t k = 0; k < encoded.n; k++) {
            out->n_label_tokens += encoded.labels[k] != HN_IGNORE_INDEX;
            targets += k > 0 && encoded.labels[k] != HN_IGNORE_INDEX;
        }
    }
    if (out->n_examples > 0 && targets == 0) {
        /* Upstream trains on such data and logs a NaN loss (0 / 0 tokens); nothing would learn. */
        size_t n = out->n_examples;
        hn_sft_data_clear(out);
        if (options->cutoff_len <= 0)
            return hn_fail(err, HN_ERR_ARGUMENT, "none of the %zu examples has a response "
                           "token to train on", n);
        return hn_fail(err, HN_ERR_ARGUMENT, "cutoff_len %d leaves none of the %zu examples a "
                       "token to train on (each is cut inside its prompt: LLaMA-Factory shares "
                       "cutoff_len between prompt and response by their lengths); raise "
                       "cutoff_len", options->cutoff_len, n);
    }
    return HN_OK;
}

void hn_sft_data_clear(hn_sft_data *data)
{
    for (size_t i = 0; i < data->n_examples; i++) {
        g_free(data->examples[i].input_ids);
        g_free(data->examples[i].labels);
        g_free(data->examples[i].position_ids);
        g_free(data->examples[i].doc_start);
    }
    g_free(data->examples);
    g_free(data->first_dropped);
    g_free(data->desirable);
    *data = (hn_sft_data){0};
}

size_t hn_sft_data_group(const hn_sft_data *data)
{
    return data->group > 1 ? (size_t)data->group : 1;
}

size_t hn_sft_data_items(const hn_sft_data *data)
{
    return data->n_examples / hn_sft_data_group(data);
}

hn_status hn_sft_template_open(const char *template_name, const hn_tokenizer *tok,
                               hn_chat_template *named, hn_chat_jinja **jinja,
                               hn_sft_template *which, hn_error *err)
{
    if (template_name != NULL && strcmp(template_name, "auto") != 0) {
        HN_TRY(hn_chat_template_get(template_name, named, err));
        *which = (hn_sft_template){named, NULL};
        return HN_OK;
    }
    HN_TRY(hn_chat_jinja_new(tok, jinja, err));
    *which = (hn_sft_template){NULL, *jinja};
    return HN_OK;
}
