/* LoRA adapters merged into their base weights, one after the other, each as peft's
 * LoraLayer.merge computes it (peft/tuners/lora/layer.py, Linear.merge, get_delta_weight,
 * _get_weight_norm):
 *   plain LoRA  W' = W + s B A
 *   DoRA        W' = (m / ||W + s B A||_row) * (W + s B A), the norm over each output row,
 * with s the adapter's scaling (lora_alpha / r, or / sqrt(r) with rsLoRA). A modules_to_save
 * tensor replaces its base weight whole. Everything is computed in fp32 (double sums for the
 * norms), the adapter's own precision in Hone. */
#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "export.h"

/* "model.layers.0.self_attn.q_proj.weight" -> "model.layers.0.self_attn.q_proj", or NULL when
 * the name does not end with ".weight". */
static char *module_of_weight(const char *name)
{
    size_t n = strlen(name), suffix = strlen(".weight");
    if (n <= suffix || strcmp(name + n - suffix, ".weight") != 0)
        return NULL;
    return g_strndup(name, n - suffix);
}

hn_status hn_export_check_adapter(const hn_model_dir *dir, const hn_peft_adapter *adapter,
                                  hn_error *err)
{
    for (size_t i = 0; i < adapter->n_modules; i++) {
        const hn_lora_module *m = &adapter->modules[i];
        char *name = g_strconcat(m->name, ".weight", NULL);
        const hn_model_weight *w = hn_model_dir_find_weight(dir, name);
        hn_status s = HN_OK;
        if (w == NULL && strcmp(name, "lm_head.weight") == 0 && dir->config.tie_word_embeddings)
            s = hn_fail(err, HN_ERR_UNSUPPORTED,
                        "the adapter has a LoRA module on lm_head, but %s ties lm_head to the "
                        "embedding: merging it would change the embedding too (not built)",
                        dir->path);
        else if (w == NULL)
            s = hn_fail(err, HN_ERR_ARGUMENT,
                        "the adapter has a LoRA module %s, but the model %s has no weight %s",
                        m->name, dir->path, name);
        else if (w->ndim != 2 || w->shape[0] != m->out_features || w->shape[1] != m->in_features)
            s = hn_fail(err, HN_ERR_ARGUMENT,
                        "the adapter's module %s is %lld x %lld (out x in), but the model's %s "
                        "is not a matrix of that shape",
                        m->name, (long long)m->out_features, (long long)m->in_features, name);
        g_free(name);
        HN_TRY(s);
    }
    for (size_t i = 0; i < adapter->n_saved; i++) {
        const hn_saved_tensor *t = &adapter->saved[i];
        const hn_model_weight *w = hn_model_dir_find_weight(dir, t->name);
        if (w == NULL && strcmp(t->name, "lm_head.weight") == 0 &&
            dir->config.tie_word_embeddings) {
            /* peft's tied copy of a saved embedding (ensure_weight_tying): the embedding is
             * written, as transformers saves tied weights once */
            if (hn_peft_find_saved(adapter, "model.embed_tokens.weight") != NULL)
                continue;
            return hn_fail(err, HN_ERR_UNSUPPORTED,
                           "the adapter saves lm_head.weight apart, but %s ties lm_head to the "
                           "embedding: an untied head cannot be written into this config "
                           "(not built)",
                           dir->path);
        }
        if (w == NULL)
            return hn_fail(err, HN_ERR_ARGUMENT,
                           "the adapter saves %s (modules_to_save), but the model %s has no "
                           "such weight",
                           t->name, dir->path);
        bool same = w->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++)
            same = w->shape[d] == t->shape[d];
        if (!same)
            return hn_fail(err, HN_ERR_ARGUMENT,
                           "the adapter's saved %s does not have the model's shape for it",
                           t->name);
    }
    return HN_OK;
}

/* W += s B A, then DoRA's row scaling. */
static void merge_module(const hn_lora_module *m, int r, float scaling, float *w)
{
    int64_t out = m->out_features, in = m->in_features;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)out, (int)in, r, scaling,
                m->lora_b, r, m->lora_a, (int)in, 1.0f, w, (int)in);
    if (m->magnitude == NULL)
        return;
    for (int64_t o = 0; o < out; o++) {
        float *row = w + o * in;
        double sum = 0.0;
        for (int64_t j = 0; j < in; j++)
            sum += (double)row[j] * row[j];
        float factor = (float)(m->magnitude[o] / sqrt(sum));
        for (int64_t j = 0; j < in; j++)
            row[j] *= factor;
    }
}

hn_status hn_export_merged_weight(const hn_model_dir *dir, const hn_peft_adapter *adapters,
                                  size_t n_adapters, const hn_model_weight *weight, float *dst,
                                  hn_error *err)
{
    HN_TRY(hn_model_dir_weight_f32(dir, weight, dst, err));
    char *module = module_of_weight(weight->name);
    for (size_t a = 0; a < n_adapters; a++) {
        const hn_peft_adapter *adapter = &adapters[a];
        const hn_saved_tensor *saved = hn_peft_find_saved(adapter, weight->name);
        if (saved != NULL)
            memcpy(dst, saved->data, (size_t)weight->numel * sizeof(float));
        const hn_lora_module *m = module != NULL ? hn_peft_find_module(adapter, module) : NULL;
        if (m != NULL)
            merge_module(m, adapter->config.r, (float)hn_peft_scaling(&adapter->config), dst);
    }
    g_free(module);
    return HN_OK;
}
