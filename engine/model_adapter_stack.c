/* Several PEFT LoRA adapters on one model at once, unmerged, as PEFT computes them when they
 * are all active (LoraLayer.forward adds each active adapter's term): out = W x + sum_k s_k
 * B_k A_k x. The sum is one LoRA of rank R = sum_k r_k, A = [A_1; A_2; ...] stacked by rows
 * and B = [s_1 B_1 | s_2 B_2 | ...] side by side with scaling 1, so the model needs nothing
 * new: a module that an adapter does not adapt gets zero rows in its slice. Plain LoRA only
 * (DoRA's scale depends on the weight it multiplies, so DoRA adapters do not add up), at most
 * one adapter with modules_to_save weights. */
#include <string.h>

#include "model_internal.h"

static hn_status check_adapters(const hn_peft_adapter *adapters, const char *const *paths,
                                size_t n, hn_error *err)
{
    size_t with_saved = 0;
    for (size_t k = 0; k < n; k++) {
        const hn_lora_config *c = &adapters[k].config;
        if (c->use_dora)
            return hn_fail(err, HN_ERR_UNSUPPORTED, "adapter %s uses DoRA: several adapters at "
                           "once are applied unmerged for plain LoRA only (DoRA's scale depends "
                           "on the weight it multiplies); merge them with hone export", paths[k]);
        if (c->target_modules_regex != NULL)
            return hn_fail(err, HN_ERR_UNSUPPORTED, "adapter %s names its target_modules by a "
                           "regular expression, which Hone does not apply yet", paths[k]);
        with_saved += adapters[k].n_saved > 0;
    }
    if (with_saved > 1)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "%zu of the adapters replace whole weights "
                       "(modules_to_save); applied together one would hide the other: merge them "
                       "with hone export instead", with_saved);
    return HN_OK;
}

/* Appends the names of list that are not in seen yet. */
static void add_unique(GPtrArray *seen, char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (guint j = 0; j < seen->len && !found; j++)
            found = strcmp(g_ptr_array_index(seen, j), list[i]) == 0;
        if (!found)
            g_ptr_array_add(seen, list[i]);
    }
}

static char *join_names(const GPtrArray *names)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < names->len; i++)
        g_string_append_printf(s, "%s%s", i > 0 ? "," : "", (char *)g_ptr_array_index(names, i));
    return g_string_free(s, FALSE);
}

hn_status hn_model_options_for_adapters(hn_model_options *options,
                                        const hn_peft_adapter *adapters,
                                        const char *const *paths, size_t n, char **targets,
                                        char **saved, hn_error *err)
{
    *targets = *saved = NULL;
    HN_TRY(check_adapters(adapters, paths, n, err));
    int rank = 0;
    GPtrArray *names = g_ptr_array_new(), *kept = g_ptr_array_new();
    for (size_t k = 0; k < n; k++) {
        const hn_lora_config *c = &adapters[k].config;
        rank += c->r;
        add_unique(names, c->target_modules, c->n_target_modules);
        if (c->modules_to_save != NULL)
            add_unique(kept, c->modules_to_save, c->n_modules_to_save);
    }
    options->method = HN_METHOD_LORA;
    options->lora_rank = rank;
    options->lora_alpha = rank; /* scaling 1: each adapter's own is folded into its B */
    options->use_rslora = false;
    options->use_dora = false;
    options->lora_dropout = 0;
    *targets = join_names(names);
    options->targets.lora_target = *targets;
    if (kept->len > 0) {
        *saved = join_names(kept);
        options->targets.additional_target = *saved;
    }
    g_ptr_array_free(names, TRUE);
    g_ptr_array_free(kept, TRUE);
    return HN_OK;
}

static const hn_lora_module *find_module(const hn_peft_adapter *adapter, const char *name)
{
    for (size_t i = 0; i < adapter->n_modules; i++)
        if (strcmp(adapter->modules[i].name, name) == 0)
            return &adapter->modules[i];
    return NULL;
}

/* Fills one LoRA layer's stacked A [R, in] and B [out, R] from every adapter; counts the
 * modules each adapter gave. */
static hn_status stack_layer(hn_model *m, const hn_lora *lora, const hn_peft_adapter *adapters,
                             const char *const *paths, size_t n, size_t *used, hn_error *err)
{
    size_t in = (size_t)lora->A->shape[1], out = (size_t)lora->B->shape[0];
    size_t R = (size_t)lora->rank;
    char *module = g_strndup(lora->A->name, strlen(lora->A->name) - strlen(".lora_A.weight"));
    float *A = g_new0(float, R * in), *B = g_new0(float, out * R);
    size_t offset = 0;
    hn_status s = HN_OK;
    for (size_t k = 0; k < n && s == HN_OK; k++) {
        size_t r = (size_t)adapters[k].config.r;
        const hn_lora_module *mod = find_module(&adapters[k], module);
        if (mod != NULL && ((size_t)mod->in_features != in || (size_t)mod->out_features != out))
            s = hn_fail(err, HN_ERR_FORMAT, "adapter %s: %s is %lld x %lld (out x in), the "
                        "model's %zu x %zu", paths[k], module, (long long)mod->out_features,
                        (long long)mod->in_features, out, in);
        if (mod != NULL && s == HN_OK) {
            float scaling = (float)hn_peft_scaling(&adapters[k].config);
            memcpy(A + offset * in, mod->lora_a, r * in * sizeof(float));
            for (size_t o = 0; o < out; o++)
                for (size_t i = 0; i < r; i++)
                    B[o * R + offset + i] = scaling * mod->lora_b[o * r + i];
            used[k]++;
        }
        offset += r;
    }
    if (s == HN_OK) {
        m->be->copy_to_device(lora->A->data, A, R * in * sizeof(float));
        m->be->copy_to_device(lora->B->data, B, out * R * sizeof(float));
    }
    g_free(A);
    g_free(B);
    g_free(module);
    return s;
}

hn_status hn_model_load_adapters(hn_model *m, const hn_peft_adapter *adapters,
                                 const char *const *paths, size_t n, hn_error *err)
{
    size_t *used = g_new0(size_t, n);
    hn_status s = HN_OK;
    for (guint i = 0; i < m->loras->len && s == HN_OK; i++)
        s = stack_layer(m, g_ptr_array_index(m->loras, i), adapters, paths, n, used, err);
    for (size_t k = 0; k < n && s == HN_OK; k++) {
        if (used[k] != adapters[k].n_modules)
            s = hn_fail(err, HN_ERR_FORMAT, "adapter %s has weights for %zu modules, of which "
                        "%zu are among the model's adapted layers", paths[k],
                        adapters[k].n_modules, used[k]);
        for (size_t i = 0; i < adapters[k].n_saved && s == HN_OK; i++) {
            const hn_saved_tensor *t = &adapters[k].saved[i];
            ptrdiff_t index = hn_model_param_find(m, t->name);
            if (index < 0 || ((hn_param *)g_ptr_array_index(m->params, index))->numel !=
                                 (size_t)t->numel)
                s = hn_fail(err, HN_ERR_FORMAT, "adapter %s: the model has no parameter %s of "
                            "%lld values", paths[k], t->name, (long long)t->numel);
            else
                s = hn_model_param_write(m, (size_t)index, t->data, err);
        }
    }
    g_free(used);
    return s;
}
