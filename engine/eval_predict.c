/* Prediction examples from last-answer-labeled supervised examples (see eval_predict.h). The
 * prompt part of encode_oneturn is the same as the ids before the last answer in
 * encode_multiturn: both encode every message on its own, slot by slot. */
#include "eval_predict.h"

#include <glib.h>
#include <string.h>

hn_status hn_predict_data_from_sft(const hn_sft_data *masked, int cutoff_len,
                                   hn_predict_data *out, hn_error *err)
{
    *out = (hn_predict_data){g_new0(hn_predict_example, MAX(masked->n_examples, 1)), 0};
    for (size_t i = 0; i < masked->n_examples; i++) {
        const hn_sft_example *e = &masked->examples[i];
        size_t k = 0;
        while (k < e->n && e->labels[k] == HN_IGNORE_INDEX)
            k++;
        for (size_t t = k; t < e->n; t++)
            if (e->labels[t] == HN_IGNORE_INDEX) {
                hn_predict_data_clear(out);
                return hn_fail(err, HN_ERR_ARGUMENT, "example %zu: token %zu of the last answer "
                               "is not labeled; expected the answer to end the example", i, t);
            }
        size_t n_prompt = 0, n_label = 0;
        hn_infer_seqlen(k, e->n - k, cutoff_len > 0 ? (size_t)cutoff_len : e->n, &n_prompt,
                        &n_label);
        hn_predict_example *p = &out->examples[out->n++];
        p->prompt = g_new(int32_t, MAX(n_prompt, 1));
        memcpy(p->prompt, e->input_ids, n_prompt * sizeof(int32_t));
        p->n_prompt = n_prompt;
        p->label = g_new(int32_t, MAX(n_label, 1));
        memcpy(p->label, e->labels + k, n_label * sizeof(int32_t));
        p->n_label = n_label;
    }
    return HN_OK;
}

void hn_predict_data_clear(hn_predict_data *data)
{
    for (size_t i = 0; i < data->n; i++) {
        g_free(data->examples[i].prompt);
        g_free(data->examples[i].label);
    }
    g_free(data->examples);
    *data = (hn_predict_data){0};
}
