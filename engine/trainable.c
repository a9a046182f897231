/* Freeze and LoRA selection by parameter name (see trainable.h for the upstream code each
 * rule follows). Names are matched as plain strings the way upstream matches them: freeze
 * patterns as substrings, LoRA targets as whole trailing name parts, modules_to_save as name
 * endings. */
#include "trainable.h"

#include <glib.h>
#include <string.h>

void hn_freeze_options_init(hn_freeze_options *options)
{
    *options = (hn_freeze_options){2, "all", NULL};
}

void hn_lora_target_options_init(hn_lora_target_options *options)
{
    *options = (hn_lora_target_options){"all", NULL};
}

/* LLaMA-Factory's split_arg: comma-separated, each item stripped. NULL gives NULL. */
static char **split_list(const char *list)
{
    if (list == NULL)
        return NULL;
    char **items = g_strsplit(list, ",", -1);
    for (char **item = items; *item != NULL; item++)
        g_strstrip(*item);
    return items;
}

/* Adds text to a list of distinct strings (first-seen order). */
static void add_unique(GPtrArray *list, const char *text)
{
    for (guint i = 0; i < list->len; i++)
        if (strcmp(g_ptr_array_index(list, i), text) == 0)
            return;
    g_ptr_array_add(list, g_strdup(text));
}

static bool contains(const GPtrArray *list, const char *text)
{
    for (guint i = 0; i < list->len; i++)
        if (strcmp(g_ptr_array_index(list, i), text) == 0)
            return true;
    return false;
}

static char *join(const GPtrArray *list)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++)
        g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", (char *)g_ptr_array_index(list, i));
    return g_string_free(s, FALSE);
}

/* Python's name.split(sep)[-1].split(".")[0]: the first part after the last (non-overlapping)
 * occurrence of sep; NULL when sep does not occur. */
static char *part_after(const char *name, const char *sep)
{
    const char *after = NULL;
    for (const char *at = strstr(name, sep); at != NULL; at = strstr(at + strlen(sep), sep))
        after = at + strlen(sep);
    if (after == NULL)
        return NULL;
    return g_strndup(after, strcspn(after, "."));
}

/* re.search(r"\.\d+\.", name) */
static bool has_layer_index(const char *name)
{
    for (const char *p = strchr(name, '.'); p != NULL; p = strchr(p + 1, '.')) {
        const char *q = p + 1;
        while (g_ascii_isdigit(*q))
            q++;
        if (q > p + 1 && *q == '.')
            return true;
    }
    return false;
}

/* The layer parts (self_attn, mlp, ...) and the other modules (embed_tokens, norm, lm_head)
 * as _setup_freeze_tuning collects them. */
static void freeze_module_names(const char *const *names, size_t n, GPtrArray *hidden,
                                GPtrArray *other)
{
    for (size_t i = 0; i < n; i++) {
        char *part = part_after(names[i], ".0.");
        if (part == NULL)
            part = part_after(names[i], ".1.");
        if (part != NULL)
            add_unique(hidden, part);
        g_free(part);
        if (!has_layer_index(names[i])) {
            char **pieces = g_strsplit(names[i], ".", -1);
            guint count = g_strv_length(pieces);
            if (count >= 2)
                add_unique(other, pieces[count - 2]);
            g_strfreev(pieces);
        }
    }
}

static hn_status check_known(const char *key, const char *module, const GPtrArray *known,
                             hn_error *err)
{
    if (contains(known, module))
        return HN_OK;
    char *choices = join(known);
    hn_status s = hn_fail(err, HN_ERR_ARGUMENT, "%s: module \"%s\" is not in this model; choose "
                          "from %s", key, module, choices);
    g_free(choices);
    return s;
}

hn_status hn_select_freeze(const char *const *names, size_t n, int num_layers,
                           const hn_freeze_options *options, hn_train_kind *kinds,
                           hn_error *err)
{
    if (num_layers <= 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "freeze tuning: the model has no decoder layers");
    int count = options->freeze_trainable_layers, first, end;
    if (count > 0) { /* the last layers */
        first = MAX(0, num_layers - count);
        end = num_layers;
    } else { /* the first layers */
        first = 0;
        end = MIN(-count, num_layers);
    }
    GPtrArray *hidden = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *other = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *patterns = g_ptr_array_new_with_free_func(g_free);
    freeze_module_names(names, n, hidden, other);
    char **modules = split_list(options->freeze_trainable_modules);
    char **extra = split_list(options->freeze_extra_modules);
    hn_status s = HN_OK;
    for (char **m = modules; m != NULL && *m != NULL && s == HN_OK; m++) {
        bool all = strcmp(*m, "all") == 0;
        if (!all)
            s = check_known("freeze_trainable_modules", *m, hidden, err);
        for (int layer = first; layer < end && s == HN_OK; layer++)
            g_ptr_array_add(patterns, g_strdup_printf(".%d.%s", layer, all ? "" : *m));
    }
    for (char **m = extra; m != NULL && *m != NULL && s == HN_OK; m++) {
        s = check_known("freeze_extra_modules", *m, other, err);
        g_ptr_array_add(patterns, g_strdup(*m));
    }
    for (size_t i = 0; i < n && s == HN_OK; i++) {
        kinds[i] = HN_TRAIN_FROZEN;
        for (guint p = 0; p < patterns->len; p++)
            if (strstr(names[i], g_ptr_array_index(patterns, p)) != NULL)
                kinds[i] = HN_TRAIN_FULL;
    }
    g_strfreev(modules);
    g_strfreev(extra);
    g_ptr_array_free(patterns, TRUE);
    g_ptr_array_free(hidden, TRUE);
    g_ptr_array_free(other, TRUE);
    return s;
}

/* ---- LoRA ---- */

typedef enum { MODULE_BLOCK, MODULE_LINEAR, MODULE_EMBEDDING, MODULE_NORM } module_kind;

typedef struct {
    char *key;         /* "model.layers.0.self_attn.q_proj" */
    module_kind kind;
    ptrdiff_t weight;  /* index of key.weight in names, -1 for blocks and the tied lm_head */
} module_info;

static void module_clear(gpointer p)
{
    g_free(((module_info *)p)->key);
}

static module_kind leaf_kind(const char *key)
{
    const char *last = strrchr(key, '.');
    last = last != NULL ? last + 1 : key;
    if (strcmp(last, "embed_tokens") == 0)
        return MODULE_EMBEDDING;
    return strstr(last, "norm") != NULL ? MODULE_NORM : MODULE_LINEAR;
}

/* Every module of the model, as named_modules lists them: the proper dotted prefixes of the
 * parameter names; a prefix that owns a .weight is a layer, the rest are blocks. */
static GArray *list_modules(const char *const *names, size_t n, bool tied_lm_head)
{
    GArray *modules = g_array_new(FALSE, FALSE, sizeof(module_info));
    g_array_set_clear_func(modules, module_clear);
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < n; i++) {
        for (const char *dot = strchr(names[i], '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
            char *key = g_strndup(names[i], (size_t)(dot - names[i]));
            if (g_hash_table_contains(seen, key)) {
                g_free(key);
                continue;
            }
            module_info m = {key, MODULE_BLOCK, -1};
            g_array_append_val(modules, m);
            g_hash_table_add(seen, key);
        }
    }
    if (tied_lm_head && !g_hash_table_contains(seen, "lm_head")) {
        module_info m = {g_strdup("lm_head"), MODULE_LINEAR, -1};
        g_array_append_val(modules, m);
    }
    for (guint k = 0; k < modules->len; k++) {
        module_info *m = &g_array_index(modules, module_info, k);
        for (size_t i = 0; i < n; i++) {
            if (g_str_has_prefix(names[i], m->key) && strcmp(names[i] + strlen(m->key),
                                                             ".weight") == 0) {
                m->kind = leaf_kind(m->key);
                m->weight = (ptrdiff_t)i;
            }
        }
    }
    g_hash_table_destroy(seen);
    return modules;
}

/* find_all_linear_modules: the last name parts of the linear layers, lm_head excepted. */
static char **all_linear_targets(const GArray *modules)
{
    GPtrArray *targets = g_ptr_array_new();
    for (guint k = 0; k < modules->len; k++) {
        const module_info *m = &g_array_index(modules, module_info, k);
        if (m->kind != MODULE_LINEAR || strstr(m->key, "lm_head") != NULL)
            continue;
        const char *last = strrchr(m->key, '.');
        last = last != NULL ? last + 1 : m->key;
        add_unique(targets, last);
    }
    g_ptr_array_add(targets, NULL);
    return (char **)g_ptr_array_free(targets, FALSE);
}

/* check_target_module_exists for a list: key == target or key ends with "." + target. */
static const char *matching_target(const char *key, char **targets)
{
    for (char **t = targets; *t != NULL; t++) {
        size_t kl = strlen(key), tl = strlen(*t);
        if (strcmp(key, *t) == 0 ||
            (kl > tl && key[kl - tl - 1] == '.' && strcmp(key + kl - tl, *t) == 0))
            return *t;
    }
    return NULL;
}

static const char *kind_name(module_kind kind)
{
    switch (kind) {
    case MODULE_EMBEDDING:
        return "an embedding (LoRA on embeddings is not supported yet)";
    case MODULE_NORM:
        return "a norm layer (LoRA wraps linear layers only)";
    case MODULE_BLOCK:
        return "a block of layers, not one linear layer (name its projections, e.g. q_proj)";
    case MODULE_LINEAR:
        break;
    }
    return "a linear layer";
}

static void set_kind(const module_info *m, hn_train_kind kind, hn_train_kind *kinds,
                     hn_train_kind *lm_head_kind)
{
    if (m->weight >= 0)
        kinds[m->weight] = kind;
    else if (lm_head_kind != NULL)
        *lm_head_kind = kind;
}

static hn_status apply_lora_targets(const GArray *modules, char **targets, const char *list,
                                    hn_train_kind *kinds, hn_train_kind *lm_head_kind,
                                    hn_error *err)
{
    bool any = false;
    for (guint k = 0; k < modules->len; k++) {
        const module_info *m = &g_array_index(modules, module_info, k);
        const char *target = matching_target(m->key, targets);
        if (target == NULL)
            continue;
        if (m->kind != MODULE_LINEAR)
            return hn_fail(err, HN_ERR_ARGUMENT, "lora_target %s: %s is %s", target, m->key,
                           kind_name(m->kind));
        set_kind(m, HN_TRAIN_LORA, kinds, lm_head_kind);
        any = true;
    }
    if (any)
        return HN_OK;
    char **linear = all_linear_targets(modules);
    char *known = g_strjoinv(", ", linear);
    hn_status s = hn_fail(err, HN_ERR_ARGUMENT, "lora_target %s: matches no module of this model "
                          "(its linear layers: %s, lm_head; or all)", list, known);
    g_free(known);
    g_strfreev(linear);
    return s;
}

/* modules_to_save: every module whose name ends with a target is trained in full. */
static hn_status apply_additional_targets(const char *const *names, size_t n,
                                          const GArray *modules, char **targets,
                                          hn_train_kind *kinds, hn_train_kind *lm_head_kind,
                                          hn_error *err)
{
    for (char **t = targets; *t != NULL; t++) {
        bool found = false;
        for (guint k = 0; k < modules->len; k++) {
            const module_info *m = &g_array_index(modules, module_info, k);
            if (!g_str_has_suffix(m->key, *t))
                continue;
            found = true;
            if (m->weight < 0 && m->kind == MODULE_LINEAR) { /* the tied lm_head */
                if (lm_head_kind != NULL && *lm_head_kind == HN_TRAIN_LORA)
                    return hn_fail(err, HN_ERR_ARGUMENT, "additional_target %s: lm_head has a "
                                   "LoRA adapter already (lora_target)", *t);
                set_kind(m, HN_TRAIN_FULL, kinds, lm_head_kind);
                continue;
            }
            size_t kl = strlen(m->key);
            for (size_t i = 0; i < n; i++) {
                if (strncmp(names[i], m->key, kl) != 0 || names[i][kl] != '.')
                    continue;
                if (kinds[i] == HN_TRAIN_LORA)
                    return hn_fail(err, HN_ERR_ARGUMENT, "additional_target %s: %s has a LoRA "
                                   "adapter already (lora_target); a module is either adapted "
                                   "or trained in full", *t, m->key);
                kinds[i] = HN_TRAIN_FULL;
            }
        }
        if (!found)
            return hn_fail(err, HN_ERR_ARGUMENT, "additional_target %s: matches no module of "
                           "this model", *t);
    }
    return HN_OK;
}

hn_status hn_select_lora(const char *const *names, size_t n, bool tied_lm_head,
                         const hn_lora_target_options *options, hn_train_kind *kinds,
                         hn_train_kind *lm_head_kind, hn_error *err)
{
    for (size_t i = 0; i < n; i++)
        kinds[i] = HN_TRAIN_FROZEN;
    if (lm_head_kind != NULL)
        *lm_head_kind = HN_TRAIN_FROZEN;
    GArray *modules = list_modules(names, n, tied_lm_head);
    char **targets = split_list(options->lora_target != NULL ? options->lora_target : "all");
    if (g_strv_length(targets) == 1 && strcmp(targets[0], "all") == 0) {
        g_strfreev(targets);
        targets = all_linear_targets(modules);
    }
    hn_status s = apply_lora_targets(modules, targets,
                                     options->lora_target != NULL ? options->lora_target : "all",
                                     kinds, lm_head_kind, err);
    char **additional = split_list(options->additional_target);
    if (s == HN_OK && additional != NULL)
        s = apply_additional_targets(names, n, modules, additional, kinds, lm_head_kind, err);
    g_strfreev(additional);
    g_strfreev(targets);
    g_array_free(modules, TRUE);
    return s;
}
