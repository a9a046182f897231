/* PEFT LoRA adapters on a model: the model options that give it the adapter's layout (rank,
 * alpha, rsLoRA, DoRA, targets, modules_to_save), and copying the adapter's weights (with
 * DoRA's magnitudes) into its LoRA parameters. Regex targets are refused until the model
 * applies them. */
#include <string.h>

#include "model_internal.h"

static char *join(char *const *items, size_t n)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%s%s", i > 0 ? "," : "", items[i]);
    return g_string_free(s, FALSE);
}

hn_status hn_model_options_for_adapter(hn_model_options *options, const hn_peft_adapter *adapter,
                                       char **targets, char **saved, hn_error *err)
{
    *targets = *saved = NULL;
    const hn_lora_config *c = &adapter->config;
    if (c->target_modules_regex != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "adapter names its target_modules by a regular "
                       "expression, which Hone does not apply yet; list the modules instead");
    options->method = HN_METHOD_LORA;
    options->lora_rank = c->r;
    options->lora_alpha = c->lora_alpha;
    options->use_rslora = c->use_rslora;
    options->use_dora = c->use_dora;
    options->lora_dropout = (float)c->lora_dropout;
    *targets = join(c->target_modules, c->n_target_modules);
    options->targets.lora_target = *targets;
    if (c->modules_to_save != NULL && c->n_modules_to_save > 0) {
        *saved = join(c->modules_to_save, c->n_modules_to_save);
        options->targets.additional_target = *saved;
    }
    return HN_OK;
}

static hn_status copy_into(hn_model *m, const char *name, const float *values, size_t numel,
                           hn_error *err)
{
    ptrdiff_t index = hn_model_param_find(m, name);
    if (index < 0)
        return hn_fail(err, HN_ERR_FORMAT, "the model has no parameter %s for the adapter's "
                       "weights", name);
    hn_param *p = g_ptr_array_index(m->params, index);
    if (p->numel != numel || p->type != HN_WEIGHT_F32)
        return hn_fail(err, HN_ERR_FORMAT, "%s: the adapter has %zu values, the model %zu", name,
                       numel, p->numel);
    m->be->copy_to_device(p->data, values, numel * sizeof(float));
    return HN_OK;
}

hn_status hn_model_load_adapter(hn_model *m, const hn_peft_adapter *adapter, hn_error *err)
{
    size_t covered = 0;
    for (size_t i = 0; i < adapter->n_modules; i++) {
        const hn_lora_module *mod = &adapter->modules[i];
        if ((mod->magnitude != NULL) != m->options.use_dora)
            return hn_fail(err, HN_ERR_FORMAT, "%s: the adapter %s DoRA magnitudes but the model "
                           "was built %s use_dora", mod->name,
                           mod->magnitude != NULL ? "has" : "lacks",
                           m->options.use_dora ? "with" : "without");
        size_t r = (size_t)adapter->config.r;
        char *a = g_strdup_printf("%s.lora_A.weight", mod->name);
        char *b = g_strdup_printf("%s.lora_B.weight", mod->name);
        char *magnitude = g_strdup_printf("%s.lora_magnitude_vector", mod->name);
        hn_status s = copy_into(m, a, mod->lora_a, r * (size_t)mod->in_features, err);
        if (s == HN_OK)
            s = copy_into(m, b, mod->lora_b, (size_t)mod->out_features * r, err);
        if (s == HN_OK && mod->magnitude != NULL)
            s = copy_into(m, magnitude, mod->magnitude, (size_t)mod->out_features, err);
        g_free(a);
        g_free(b);
        g_free(magnitude);
        HN_TRY(s);
        covered++;
    }
    if (covered != m->loras->len)
        return hn_fail(err, HN_ERR_FORMAT, "the adapter has weights for %zu modules but its "
                       "target_modules put LoRA on %u of this model's", covered, m->loras->len);
    for (size_t i = 0; i < adapter->n_saved; i++) {
        const hn_saved_tensor *t = &adapter->saved[i];
        HN_TRY(copy_into(m, t->name, t->data, (size_t)t->numel, err));
    }
    return HN_OK;
}
