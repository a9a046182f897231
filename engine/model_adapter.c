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

/* The module name of a LoRA layer from its A parameter's name ("X.lora_A.weight" -> "X"). */
static char *module_of(const hn_lora *lora)
{
    return g_strndup(lora->A->name, strlen(lora->A->name) - strlen(".lora_A.weight"));
}

static hn_status read_into(const hn_model *m, const hn_param *p, float *dst, hn_error *err)
{
    return hn_model_param_read(m, (size_t)hn_model_param_find(m, p->name), dst, err);
}

hn_status hn_model_to_adapter(const hn_model *m, const char *base_model, hn_peft_adapter *adapter,
                              hn_error *err)
{
    hn_peft_adapter_init(adapter);
    hn_lora_config *c = &adapter->config;
    const hn_model_options *o = &m->options;
    c->r = o->lora_rank;
    c->lora_alpha = o->lora_alpha > 0 ? o->lora_alpha : 2.0 * o->lora_rank;
    c->use_rslora = o->use_rslora;
    c->use_dora = o->use_dora;
    c->lora_dropout = o->lora_dropout;
    g_free(c->base_model_name_or_path);
    c->base_model_name_or_path = g_strdup(base_model != NULL ? base_model : "");
    /* target_modules: the last name parts of the adapted layers, as LLaMA-Factory resolves
     * lora_target (find_all_linear_modules for "all") */
    GPtrArray *targets = g_ptr_array_new_with_free_func(g_free);
    hn_status s = HN_OK;
    for (guint i = 0; i < m->loras->len && s == HN_OK; i++) {
        const hn_lora *lora = g_ptr_array_index(m->loras, i);
        char *module = module_of(lora);
        const char *last = strrchr(module, '.') != NULL ? strrchr(module, '.') + 1 : module;
        bool seen = false;
        for (guint t = 0; t < targets->len; t++)
            seen |= strcmp(g_ptr_array_index(targets, t), last) == 0;
        if (!seen)
            g_ptr_array_add(targets, g_strdup(last));
        hn_lora_module *mod = hn_peft_add_module(adapter, module, lora->A->shape[1],
                                                 lora->B->shape[0]);
        s = read_into(m, lora->A, mod->lora_a, err);
        if (s == HN_OK)
            s = read_into(m, lora->B, mod->lora_b, err);
        if (s == HN_OK && lora->magnitude != NULL) {
            mod->magnitude = g_new(float, lora->B->shape[0]);
            s = read_into(m, lora->magnitude, mod->magnitude, err);
        }
        g_free(module);
    }
    hn_peft_set_targets(c, (const char *const *)targets->pdata, targets->len);
    g_ptr_array_free(targets, TRUE);
    /* base weights trained in full beside LoRA: modules_to_save */
    GPtrArray *saved = g_ptr_array_new_with_free_func(g_free);
    size_t n_base = m->params->len;
    for (size_t i = 0; i < n_base && s == HN_OK; i++) {
        const hn_param *p = g_ptr_array_index(m->params, i);
        if (p->grad == NULL || strstr(p->name, ".lora_") != NULL ||
            hn_param_is_value_head(p->name))
            continue;
        char *module = g_strndup(p->name, (size_t)(strrchr(p->name, '.') - p->name));
        g_ptr_array_add(saved, module);
        int64_t shape[2] = {p->shape[0], p->shape[1]};
        hn_saved_tensor *t = hn_peft_add_saved(adapter, p->name, p->ndim, shape);
        s = read_into(m, p, t->data, err);
    }
    if (saved->len > 0)
        hn_peft_set_modules_to_save(c, (const char *const *)saved->pdata, saved->len);
    g_ptr_array_free(saved, TRUE);
    if (s != HN_OK)
        hn_peft_adapter_free(adapter);
    return s;
}
