/* Dataset rows to pre-training examples (see pt_data.h). */
#include "pt_data.h"

#include <string.h>

/* The text upstream appends to every row (pretrain.py: eos_token). */
static hn_status eos_text(const hn_sft_template *tmpl, const hn_tokenizer *tok,
                          const char **text, hn_error *err)
{
    if (tmpl->named != NULL && strcmp(tmpl->named->name, "llama3") == 0) {
        *text = "<|end_of_text|>";
        return HN_OK;
    }
    int32_t eos = hn_tokenizer_get_config(tok)->eos_id;
    if (tmpl->named != NULL)
        HN_TRY(hn_chat_template_eos(tmpl->named, tok, &eos, err));
    *text = eos >= 0 ? hn_tokenizer_id_to_token(tok, eos) : NULL;
    if (*text == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "stage pt: the tokenizer has no eos token to end "
                       "each text with");
    return HN_OK;
}

static hn_status bos_token(const hn_tokenizer *tok, int32_t *id, const char **text,
                           hn_error *err)
{
    *id = hn_tokenizer_get_config(tok)->bos_id;
    *text = *id >= 0 ? hn_tokenizer_id_to_token(tok, *id) : NULL;
    if (*text == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "stage pt: the tokenizer sets add_bos_token but "
                       "has no bos token");
    return HN_OK;
}

/* One row's ids: [bos_text] + first prompt message + eos_text, no special tokens added. */
static hn_status encode_row(const hn_dataset_row *row, size_t index, const hn_tokenizer *tok,
                            const char *bos, const char *eos, int32_t **ids, size_t *n,
                            hn_error *err)
{
    if (row->n_prompt == 0)
        return hn_fail(err, HN_ERR_FORMAT, "dataset row %zu: no prompt text for stage pt "
                       "(expected a first prompt message, e.g. the `prompt` column)", index);
    char *text = g_strconcat(bos != NULL ? bos : "", row->prompt[0].content, eos, NULL);
    hn_status s = hn_tokenizer_encode(tok, text, strlen(text), false, ids, n, err);
    g_free(text);
    if (s != HN_OK)
        hn_error_prefix(err, "dataset row %zu", index);
    return s;
}

static void add_example(hn_sft_data *out, const int32_t *ids, size_t n)
{
    hn_sft_example *e = &out->examples[out->n_examples++];
    *e = (hn_sft_example){g_memdup2(ids, n * sizeof *ids), g_memdup2(ids, n * sizeof *ids), n,
                          NULL, NULL};
    out->n_tokens += (int64_t)n;
    out->n_label_tokens += (int64_t)n;
}

static hn_status build_unpacked(const hn_dataset *dataset, const hn_tokenizer *tok,
                                const char *bos, const char *eos, size_t cutoff,
                                hn_sft_data *out, hn_error *err)
{
    out->examples = g_new0(hn_sft_example, dataset->n_rows > 0 ? dataset->n_rows : 1);
    for (size_t i = 0; i < dataset->n_rows; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        HN_TRY(encode_row(&dataset->rows[i], i, tok, bos, eos, &ids, &n, err));
        add_example(out, ids, n < cutoff ? n : cutoff); /* truncation=True, max_length */
        g_free(ids);
    }
    return HN_OK;
}

static hn_status build_packed(const hn_dataset *dataset, const hn_tokenizer *tok,
                              const char *eos, size_t block, int32_t bos_id, hn_sft_data *out,
                              hn_error *err)
{
    GArray *all = g_array_new(FALSE, FALSE, sizeof(int32_t));
    hn_status s = HN_OK;
    for (size_t i = 0; i < dataset->n_rows && s == HN_OK; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        s = encode_row(&dataset->rows[i], i, tok, NULL, eos, &ids, &n, err);
        if (s == HN_OK)
            g_array_append_vals(all, ids, (guint)n);
        g_free(ids);
    }
    size_t n_blocks = s == HN_OK ? all->len / block : 0; /* the tail is dropped */
    out->examples = g_new0(hn_sft_example, n_blocks > 0 ? n_blocks : 1);
    for (size_t b = 0; b < n_blocks; b++) {
        int32_t *ids = &g_array_index(all, int32_t, b * block);
        if (bos_id >= 0)
            ids[0] = bos_id;
        add_example(out, ids, block);
    }
    g_array_free(all, TRUE);
    return s;
}

hn_status hn_pt_data_build(const hn_dataset *dataset, const hn_sft_template *tmpl,
                           const hn_tokenizer *tok, const hn_pt_options *options,
                           hn_sft_data *out, hn_error *err)
{
    *out = (hn_sft_data){0};
    if (options->cutoff_len < 1)
        return hn_fail(err, HN_ERR_ARGUMENT, "cutoff_len: expected at least 1 for stage pt, "
                       "found %d", options->cutoff_len);
    const char *eos = NULL, *bos = NULL;
    int32_t bos_id = -1;
    HN_TRY(eos_text(tmpl, tok, &eos, err));
    if (hn_tokenizer_get_config(tok)->add_bos_token)
        HN_TRY(bos_token(tok, &bos_id, &bos, err));
    hn_status s = options->packing
                      ? build_packed(dataset, tok, eos, (size_t)options->cutoff_len, bos_id, out,
                                     err)
                      : build_unpacked(dataset, tok, bos, eos, (size_t)options->cutoff_len, out,
                                       err);
    if (s != HN_OK)
        hn_sft_data_clear(out);
    return s;
}
