/* Reading a PEFT LoRA adapter folder: adapter_config.json through peft_config, then every tensor
 * of adapter_model.safetensors sorted into lora_A / lora_B / DoRA magnitude of a module or a
 * modules_to_save weight, with its shape checked against the config and converted to fp32. */
#include <stdio.h>
#include <string.h>

#include "json_read.h"
#include "peft_adapter.h"
#include "peft_config.h"

typedef enum { PART_A, PART_B, PART_MAGNITUDE, N_PARTS } lora_part;

static const char *const part_suffix[N_PARTS] = {HN_PEFT_LORA_A, HN_PEFT_LORA_B,
                                                  HN_PEFT_MAGNITUDE};

/* The tensors found for one module. */
typedef struct {
    char *module;
    const hn_st_tensor *part[N_PARTS];
} module_tensors;

static void module_tensors_clear(gpointer p)
{
    g_free(((module_tensors *)p)->module);
}

static bool has_suffix(const char *s, const char *suffix, size_t *stem_length)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n <= m || strcmp(s + n - m, suffix) != 0)
        return false;
    *stem_length = n - m;
    return true;
}

static hn_status check_targeted(const hn_lora_config *c, const char *path, const char *module,
                                hn_error *err)
{
    if (hn_peft_targets_module(c, module))
        return HN_OK;
    return hn_fail(err, HN_ERR_FORMAT, "%s: the module \"%s\" has LoRA tensors but matches no "
                   "entry of target_modules in " HN_PEFT_CONFIG_FILE ", so peft would not load "
                   "them", path, module);
}

static bool is_float_dtype(hn_dtype dtype)
{
    return dtype == HN_DTYPE_F32 || dtype == HN_DTYPE_F16 || dtype == HN_DTYPE_BF16;
}

static hn_status check_dtype(const char *path, const hn_st_tensor *t, hn_error *err)
{
    if (!is_float_dtype(t->dtype))
        return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: tensor \"%s\": dtype %s; expected F32, F16 "
                       "or BF16", path, t->name, hn_dtype_name(t->dtype));
    return HN_OK;
}

static char *shape_text(const hn_st_tensor *t)
{
    GString *s = g_string_new("[");
    for (int d = 0; d < t->ndim; d++)
        g_string_append_printf(s, "%s%" G_GINT64_FORMAT, d > 0 ? ", " : "", t->shape[d]);
    g_string_append_c(s, ']');
    return g_string_free(s, FALSE);
}

static hn_status shape_error(const char *path, const hn_st_tensor *t, const char *expected,
                             hn_error *err)
{
    char *shape = shape_text(t);
    hn_status s = hn_fail(err, HN_ERR_FORMAT, "%s: tensor \"%s\": shape %s; expected %s", path,
                          t->name, shape, expected);
    g_free(shape);
    return s;
}

/* Checks one module's tensors against each other and r, then copies them in as fp32. */
static hn_status add_module(hn_peft_adapter *adapter, const char *path, const module_tensors *mt,
                            hn_error *err)
{
    const hn_lora_config *c = &adapter->config;
    const hn_st_tensor *a = mt->part[PART_A], *b = mt->part[PART_B];
    const hn_st_tensor *magnitude = mt->part[PART_MAGNITUDE];
    if (a == NULL || b == NULL)
        return hn_fail(err, HN_ERR_FORMAT, "%s: module \"%s\" has %s but no %s (expected a "
                       "tensor \"" HN_PEFT_PREFIX "%s%s\")", path, mt->module,
                       a ? "lora_A" : "lora_B", a ? "lora_B" : "lora_A", mt->module,
                       part_suffix[a ? PART_B : PART_A]);
    HN_TRY(check_dtype(path, a, err));
    HN_TRY(check_dtype(path, b, err));
    char expected[160];
    if (a->ndim != 2 || a->shape[0] != c->r || a->shape[1] <= 0) {
        snprintf(expected, sizeof expected, "[r, in_features] with r = %d from "
                 HN_PEFT_CONFIG_FILE, c->r);
        return shape_error(path, a, expected, err);
    }
    if (b->ndim != 2 || b->shape[1] != a->shape[0] || b->shape[0] <= 0) {
        snprintf(expected, sizeof expected, "[out_features, %" G_GINT64_FORMAT "]: lora_B's "
                 "in-dimension must equal lora_A's out-dimension (the rank)", a->shape[0]);
        return shape_error(path, b, expected, err);
    }
    if (c->use_dora && magnitude == NULL)
        return hn_fail(err, HN_ERR_FORMAT, "%s: module \"%s\" has no %s%s%s, which use_dora "
                       "needs", path, mt->module, HN_PEFT_PREFIX, mt->module,
                       part_suffix[PART_MAGNITUDE]);
    if (magnitude != NULL) {
        HN_TRY(check_dtype(path, magnitude, err));
        if (magnitude->ndim != 1 || magnitude->shape[0] != b->shape[0]) {
            snprintf(expected, sizeof expected, "[%" G_GINT64_FORMAT "] (lora_B's out_features)",
                     b->shape[0]);
            return shape_error(path, magnitude, expected, err);
        }
    }
    HN_TRY(check_targeted(c, path, mt->module, err));
    hn_lora_module *m = hn_peft_add_module(adapter, mt->module, a->shape[1], b->shape[0]);
    hn_convert_to_f32(m->lora_a, a->data, a->dtype, (size_t)a->numel);
    hn_convert_to_f32(m->lora_b, b->data, b->dtype, (size_t)b->numel);
    if (magnitude != NULL)
        hn_convert_to_f32(m->magnitude, magnitude->data, magnitude->dtype,
                          (size_t)magnitude->numel);
    return HN_OK;
}

static hn_status add_saved(hn_peft_adapter *adapter, const char *path, const hn_st_tensor *t,
                           const char *param, hn_error *err)
{
    HN_TRY(check_dtype(path, t, err));
    if (t->ndim < 1)
        return shape_error(path, t, "at least one dimension", err);
    hn_saved_tensor *saved = hn_peft_add_saved(adapter, param, t->ndim, t->shape);
    hn_convert_to_f32(saved->data, t->data, t->dtype, (size_t)t->numel);
    return HN_OK;
}

/* Sorts tensor `t` into its module's slot (adding the module to `modules` on first sight) or
 * adds it as a modules_to_save weight. */
static hn_status classify(hn_peft_adapter *adapter, const char *path, const hn_st_tensor *t,
                          GArray *modules, GHashTable *index, hn_error *err)
{
    const hn_lora_config *c = &adapter->config;
    if (!g_str_has_prefix(t->name, HN_PEFT_PREFIX))
        return hn_fail(err, HN_ERR_FORMAT, "%s: tensor \"%s\": expected a name starting with \""
                       HN_PEFT_PREFIX "\" (PEFT's names)", path, t->name);
    const char *rest = t->name + strlen(HN_PEFT_PREFIX);
    if (strstr(rest, "lora_embedding_") != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: tensor \"%s\": LoRA on an embedding layer; "
                       "Hone supports LoRA on linear layers only", path, t->name);
    for (int part = 0; part < N_PARTS; part++) {
        size_t stem = 0;
        if (!has_suffix(rest, part_suffix[part], &stem))
            continue;
        if (part == PART_MAGNITUDE && !c->use_dora)
            return hn_fail(err, HN_ERR_FORMAT, "%s: tensor \"%s\": a DoRA magnitude, but "
                           HN_PEFT_CONFIG_FILE " has use_dora false", path, t->name);
        char *module = g_strndup(rest, stem);
        gpointer found;
        guint at;
        if (g_hash_table_lookup_extended(index, module, NULL, &found)) {
            at = GPOINTER_TO_UINT(found);
            g_free(module);
        } else {
            module_tensors fresh = {.module = module};
            at = modules->len;
            g_array_append_val(modules, fresh);
            g_hash_table_insert(index, module, GUINT_TO_POINTER(at));
        }
        g_array_index(modules, module_tensors, at).part[part] = t;
        return HN_OK;
    }
    if (hn_peft_saves_param(c, rest))
        return add_saved(adapter, path, t, rest, err);
    /* peft also saves embeddings on its own when the vocabulary was resized */
    bool embedding = g_str_has_suffix(rest, "embed_tokens.weight") ||
                     g_str_has_suffix(rest, "lm_head.weight");
    return hn_fail(err, HN_ERR_FORMAT, "%s: tensor \"%s\" is not one Hone knows: expected "
                   HN_PEFT_PREFIX "MODULE followed by .lora_A.weight, .lora_B.weight or "
                   ".lora_magnitude_vector, or the weight of a module in modules_to_save%s",
                   path, t->name, embedding ? " (peft saves an embedding not in modules_to_save "
                   "when the vocabulary was resized, which Hone does not support)" : "");
}

static hn_status read_tensors(hn_peft_adapter *adapter, const hn_st_file *file, hn_error *err)
{
    const char *path = hn_st_path(file);
    GArray *modules = g_array_new(FALSE, TRUE, sizeof(module_tensors));
    g_array_set_clear_func(modules, module_tensors_clear);
    GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal); /* keys owned by modules */
    hn_status status = HN_OK;
    for (size_t i = 0; i < hn_st_count(file) && status == HN_OK; i++)
        status = classify(adapter, path, hn_st_get(file, i), modules, index, err);
    for (guint i = 0; i < modules->len && status == HN_OK; i++)
        status = add_module(adapter, path, &g_array_index(modules, module_tensors, i), err);
    if (status == HN_OK && adapter->n_modules == 0)
        status = hn_fail(err, HN_ERR_FORMAT, "%s: no LoRA tensors (expected " HN_PEFT_PREFIX
                         "MODULE.lora_A.weight and .lora_B.weight)", path);
    g_hash_table_destroy(index);
    g_array_unref(modules);
    return status;
}

static hn_status read_config(const char *folder, hn_lora_config *config, hn_error *err)
{
    char *path = g_build_filename(folder, HN_PEFT_CONFIG_FILE, NULL);
    hn_status status;
    if (!g_file_test(folder, G_FILE_TEST_IS_DIR)) {
        status = hn_fail(err, HN_ERR_IO, "%s: not a folder (a PEFT adapter is a folder with "
                         HN_PEFT_CONFIG_FILE " and " HN_PEFT_WEIGHTS_FILE ")", folder);
    } else if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        status = hn_fail(err, HN_ERR_IO, "%s: no " HN_PEFT_CONFIG_FILE " in this folder (a PEFT "
                         "adapter folder holds " HN_PEFT_CONFIG_FILE " and " HN_PEFT_WEIGHTS_FILE
                         ")", folder);
    } else {
        cJSON *root = NULL;
        status = hn_json_load_object(path, &root, err);
        if (status == HN_OK)
            status = hn_peft_config_parse(root, path, config, err);
        cJSON_Delete(root);
    }
    g_free(path);
    return status;
}

static hn_status open_weights(const char *folder, hn_st_file **file, hn_error *err)
{
    char *path = g_build_filename(folder, HN_PEFT_WEIGHTS_FILE, NULL);
    char *pickle = g_build_filename(folder, "adapter_model.bin", NULL);
    hn_status status;
    if (!g_file_test(path, G_FILE_TEST_EXISTS) && g_file_test(pickle, G_FILE_TEST_EXISTS))
        status = hn_fail(err, HN_ERR_UNSUPPORTED, "%s: a PyTorch pickle, which Hone does not "
                         "read (it can run code); convert it to " HN_PEFT_WEIGHTS_FILE " in the "
                         "same folder, e.g. in Python: safetensors.torch.save_file(torch.load("
                         "\"adapter_model.bin\"), \"" HN_PEFT_WEIGHTS_FILE "\", "
                         "metadata={\"format\": \"pt\"})", pickle);
    else if (!g_file_test(path, G_FILE_TEST_EXISTS))
        status = hn_fail(err, HN_ERR_IO, "%s: no " HN_PEFT_WEIGHTS_FILE " in this folder",
                         folder);
    else
        status = hn_st_open(path, file, err);
    g_free(pickle);
    g_free(path);
    return status;
}

hn_status hn_peft_read(const char *folder, hn_peft_adapter *adapter, hn_error *err)
{
    hn_peft_adapter_init(adapter);
    hn_st_file *file = NULL;
    hn_status status = read_config(folder, &adapter->config, err);
    if (status == HN_OK)
        status = open_weights(folder, &file, err);
    if (status == HN_OK)
        status = read_tensors(adapter, file, err);
    if (file != NULL)
        hn_st_close(file);
    if (status != HN_OK)
        hn_peft_adapter_free(adapter);
    return status;
}
