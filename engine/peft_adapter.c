/* The in-memory PEFT LoRA adapter: construction, lookup, scaling and the consistency check
 * that writing relies on. Reading and writing live in peft_read.c and peft_write.c. */
#include "peft_adapter.h"

#include <math.h>
#include <string.h>

void hn_peft_adapter_init(hn_peft_adapter *adapter)
{
    memset(adapter, 0, sizeof *adapter);
    hn_lora_config *c = &adapter->config;
    c->r = 8; /* LoraConfig's defaults */
    c->lora_alpha = 8;
    c->base_model_name_or_path = g_strdup("");
    c->init_lora_weights = g_strdup("true");
    c->peft_version = g_strdup(HN_PEFT_FORMAT_VERSION);
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_free(list[i]);
    g_free(list);
}

void hn_peft_adapter_free(hn_peft_adapter *adapter)
{
    hn_lora_config *c = &adapter->config;
    free_list(c->target_modules, c->n_target_modules);
    free_list(c->modules_to_save, c->n_modules_to_save);
    g_free(c->target_modules_regex);
    g_free(c->base_model_name_or_path);
    g_free(c->init_lora_weights);
    g_free(c->peft_version);
    for (size_t i = 0; i < adapter->n_modules; i++) {
        hn_lora_module *m = &adapter->modules[i];
        g_free(m->name);
        g_free(m->lora_a);
        g_free(m->lora_b);
        g_free(m->magnitude);
    }
    g_free(adapter->modules);
    for (size_t i = 0; i < adapter->n_saved; i++) {
        g_free(adapter->saved[i].name);
        g_free(adapter->saved[i].data);
    }
    g_free(adapter->saved);
    memset(adapter, 0, sizeof *adapter);
}

double hn_peft_scaling(const hn_lora_config *config)
{
    return config->use_rslora ? config->lora_alpha / sqrt((double)config->r)
                              : config->lora_alpha / (double)config->r;
}

static char **copy_list(const char *const *names, size_t n)
{
    char **list = g_new0(char *, n + 1);
    for (size_t i = 0; i < n; i++)
        list[i] = g_strdup(names[i]);
    return list;
}

void hn_peft_set_targets(hn_lora_config *config, const char *const *names, size_t n)
{
    free_list(config->target_modules, config->n_target_modules);
    g_clear_pointer(&config->target_modules_regex, g_free);
    config->target_modules = copy_list(names, n);
    config->n_target_modules = n;
}

void hn_peft_set_modules_to_save(hn_lora_config *config, const char *const *names, size_t n)
{
    free_list(config->modules_to_save, config->n_modules_to_save);
    config->modules_to_save = (names == NULL && n == 0) ? NULL : copy_list(names, n);
    config->n_modules_to_save = n;
}

hn_lora_module *hn_peft_add_module(hn_peft_adapter *adapter, const char *name,
                                   int64_t in_features, int64_t out_features)
{
    adapter->modules = g_renew(hn_lora_module, adapter->modules, adapter->n_modules + 1);
    hn_lora_module *m = &adapter->modules[adapter->n_modules++];
    size_t r = (size_t)adapter->config.r;
    m->name = g_strdup(name);
    m->in_features = in_features;
    m->out_features = out_features;
    m->lora_a = g_new0(float, r * (size_t)in_features);
    m->lora_b = g_new0(float, (size_t)out_features * r);
    m->magnitude = adapter->config.use_dora ? g_new0(float, (size_t)out_features) : NULL;
    return m;
}

hn_saved_tensor *hn_peft_add_saved(hn_peft_adapter *adapter, const char *name, int ndim,
                                   const int64_t *shape)
{
    adapter->saved = g_renew(hn_saved_tensor, adapter->saved, adapter->n_saved + 1);
    hn_saved_tensor *t = &adapter->saved[adapter->n_saved++];
    memset(t, 0, sizeof *t);
    t->name = g_strdup(name);
    t->ndim = ndim;
    t->numel = 1;
    for (int d = 0; d < ndim; d++) {
        t->shape[d] = shape[d];
        t->numel *= shape[d];
    }
    t->data = g_new0(float, (size_t)t->numel);
    return t;
}

const hn_lora_module *hn_peft_find_module(const hn_peft_adapter *adapter, const char *name)
{
    for (size_t i = 0; i < adapter->n_modules; i++)
        if (strcmp(adapter->modules[i].name, name) == 0)
            return &adapter->modules[i];
    return NULL;
}

const hn_saved_tensor *hn_peft_find_saved(const hn_peft_adapter *adapter, const char *name)
{
    for (size_t i = 0; i < adapter->n_saved; i++)
        if (strcmp(adapter->saved[i].name, name) == 0)
            return &adapter->saved[i];
    return NULL;
}

bool hn_peft_init_changes_base(const char *init)
{
    return g_str_has_prefix(init, "pissa") || g_str_has_prefix(init, "corda") ||
           g_ascii_strcasecmp(init, "olora") == 0 || strcmp(init, "loftq") == 0;
}

bool hn_peft_targets_module(const hn_lora_config *config, const char *module)
{
    if (config->target_modules_regex != NULL) {
        char *anchored = g_strdup_printf("(?:%s)\\z", config->target_modules_regex);
        GRegex *regex = g_regex_new(anchored, G_REGEX_ANCHORED, 0, NULL);
        g_free(anchored);
        bool match = regex != NULL && g_regex_match(regex, module, 0, NULL);
        if (regex != NULL)
            g_regex_unref(regex);
        return match;
    }
    size_t n = strlen(module);
    for (size_t i = 0; i < config->n_target_modules; i++) {
        const char *t = config->target_modules[i];
        size_t m = strlen(t);
        if (strcmp(module, t) == 0 ||
            (m < n && module[n - m - 1] == '.' && strcmp(module + n - m, t) == 0))
            return true;
    }
    return false;
}

/* The module of `param` (everything before its last '.') ends with a modules_to_save entry. */
static bool module_listed(const hn_lora_config *config, const char *param)
{
    const char *dot = strrchr(param, '.');
    if (dot == NULL || config->modules_to_save == NULL)
        return false;
    size_t length = (size_t)(dot - param);
    for (size_t i = 0; i < config->n_modules_to_save; i++) {
        size_t m = strlen(config->modules_to_save[i]);
        if (m <= length && memcmp(param + length - m, config->modules_to_save[i], m) == 0)
            return true;
    }
    return false;
}

bool hn_peft_saves_param(const hn_lora_config *config, const char *param)
{
    if (module_listed(config, param))
        return true;
    /* With ensure_weight_tying, peft wraps (and saves) the tied partner of a listed embedding
     * or lm_head too (peft/utils/other.py, _set_trainable with tied weights). */
    static const char *const tied[2] = {"lm_head.weight", "model.embed_tokens.weight"};
    for (int i = 0; config->ensure_weight_tying && i < 2; i++)
        if (strcmp(param, tied[i]) == 0)
            return module_listed(config, tied[1 - i]);
    return false;
}

hn_status hn_peft_check(const hn_peft_adapter *adapter, hn_error *err)
{
    const hn_lora_config *c = &adapter->config;
    if (c->r <= 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: r must be positive, not %d", c->r);
    if (!isfinite(c->lora_alpha) || !isfinite(c->lora_dropout) || c->lora_dropout < 0 ||
        c->lora_dropout >= 1)
        return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: lora_alpha must be finite and "
                       "lora_dropout in [0, 1), not %g and %g", c->lora_alpha, c->lora_dropout);
    if (hn_peft_init_changes_base(c->init_lora_weights))
        return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: init_lora_weights \"%s\" would make "
                       "peft recompute the base weights on loading; write a plain LoRA adapter "
                       "(init_lora_weights true) converted from it", c->init_lora_weights);
    if (adapter->n_modules == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: no LoRA modules to write");
    if (c->n_target_modules == 0 && c->target_modules_regex == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: target_modules is empty");
    for (size_t i = 0; i < adapter->n_modules; i++) {
        const hn_lora_module *m = &adapter->modules[i];
        if (m->name == NULL || m->name[0] == '\0' || m->in_features <= 0 ||
            m->out_features <= 0 || m->lora_a == NULL || m->lora_b == NULL)
            return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: module %zu (\"%s\") needs a name, "
                           "positive sizes and lora_A/lora_B data", i, m->name ? m->name : "");
        if ((m->magnitude != NULL) != c->use_dora)
            return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: module \"%s\" %s a DoRA magnitude "
                           "but use_dora is %s", m->name, m->magnitude ? "has" : "lacks",
                           c->use_dora ? "true" : "false");
        if (!hn_peft_targets_module(c, m->name))
            return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: module \"%s\" matches no entry "
                           "of target_modules, so peft would not load it", m->name);
    }
    for (size_t i = 0; i < adapter->n_saved; i++) {
        const hn_saved_tensor *t = &adapter->saved[i];
        if (t->name == NULL || t->name[0] == '\0' || t->data == NULL || t->ndim < 1)
            return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: saved tensor %zu (\"%s\") needs "
                           "a name, a shape and data", i, t->name ? t->name : "");
        if (!hn_peft_saves_param(c, t->name))
            return hn_fail(err, HN_ERR_ARGUMENT, "PEFT adapter: the full tensor \"%s\" belongs "
                           "to no module in modules_to_save", t->name);
    }
    return HN_OK;
}
