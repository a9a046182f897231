/* adapter_config.json: reading peft's LoraConfig fields with checks, and writing them as peft
 * 0.18 does (peft/config.py PeftConfigMixin.save_pretrained). */
#include "peft_config.h"

#include <math.h>
#include <string.h>

#include "json_read.h"
#include "py_json.h"

/* ---- reading ---- */

/* A list of strings into a NULL-terminated copy. */
static hn_status parse_string_list(const hn_json_at *at, const cJSON *item, const char *key,
                                   char ***out, size_t *n_out)
{
    if (!cJSON_IsArray(item))
        return hn_json_type_error(at, key, "a list of strings", item);
    size_t n = (size_t)cJSON_GetArraySize(item);
    char **list = g_new0(char *, n + 1);
    size_t i = 0;
    const cJSON *element;
    cJSON_ArrayForEach(element, item)
    {
        if (!cJSON_IsString(element)) {
            g_strfreev(list);
            return hn_json_type_error(at, key, "a list of strings", item);
        }
        list[i++] = g_strdup(element->valuestring);
    }
    *out = list;
    *n_out = n;
    return HN_OK;
}

/* A string field whose only accepted value is `want`; absent or null means the default. */
static hn_status require_string(const hn_json_at *at, const cJSON *root, const char *key,
                                const char *want, hn_status status)
{
    char value[64] = "";
    HN_TRY(hn_json_string(at, root, key, HN_OPTIONAL, value, sizeof value));
    if (value[0] != '\0' && strcmp(value, want) != 0)
        return hn_fail(at->err, status, "%s: field \"%s\" is \"%s\"; Hone handles only \"%s\"",
                       at->file, key, value, want);
    return HN_OK;
}

/* A boolean field that Hone supports only when false. */
static hn_status require_false(const hn_json_at *at, const cJSON *root, const char *key)
{
    bool value = false;
    HN_TRY(hn_json_bool(at, root, key, HN_OPTIONAL, &value));
    if (value)
        return hn_fail(at->err, HN_ERR_UNSUPPORTED, "%s: field \"%s\" is true; Hone supports "
                       "only LoRA adapters without it", at->file, key);
    return HN_OK;
}

/* Fields that change which weights or what arithmetic an adapter has, which Hone does not
 * handle: each must be absent, null or empty. */
static const char *const unsupported_fields[] = {
    "rank_pattern",  "alpha_pattern",           "layers_to_transform",     "layers_pattern",
    "exclude_modules", "layer_replication",     "trainable_token_indices", "target_parameters",
    "alora_invocation_tokens", "arrow_config",
};

static hn_status check_unsupported(const hn_json_at *at, const cJSON *root)
{
    for (size_t i = 0; i < G_N_ELEMENTS(unsupported_fields); i++) {
        const cJSON *item = hn_json_field(root, unsupported_fields[i]);
        bool empty = item == NULL || ((cJSON_IsObject(item) || cJSON_IsArray(item)) &&
                                      cJSON_GetArraySize(item) == 0);
        if (!empty) {
            char *shown = cJSON_PrintUnformatted(item);
            hn_status s = hn_fail(at->err, HN_ERR_UNSUPPORTED, "%s: field \"%s\" is set (%.80s); "
                                  "Hone supports only adapters without it (one rank and alpha "
                                  "for every module, all layers)", at->file,
                                  unsupported_fields[i], shown ? shown : "?");
            cJSON_free(shown);
            return s;
        }
    }
    return HN_OK;
}

static hn_status parse_targets(const hn_json_at *at, const cJSON *root, hn_lora_config *c)
{
    const cJSON *item = hn_json_field(root, "target_modules");
    if (item == NULL)
        return hn_json_type_error(at, "target_modules", "a list of module names or a regular "
                                  "expression", NULL);
    if (cJSON_IsString(item)) {
        GError *gerr = NULL;
        GRegex *regex = g_regex_new(item->valuestring, 0, 0, &gerr);
        if (regex == NULL) {
            hn_status s = hn_fail(at->err, HN_ERR_FORMAT, "%s: field \"target_modules\": \"%s\" "
                                  "is not a regular expression Hone can use: %s", at->file,
                                  item->valuestring, gerr->message);
            g_error_free(gerr);
            return s;
        }
        g_regex_unref(regex);
        hn_peft_set_targets(c, NULL, 0);
        c->target_modules_regex = g_strdup(item->valuestring);
        return HN_OK;
    }
    char **list = NULL;
    size_t n = 0;
    HN_TRY(parse_string_list(at, item, "target_modules", &list, &n));
    hn_peft_set_targets(c, (const char *const *)list, n);
    g_strfreev(list);
    return HN_OK;
}

static hn_status parse_modules_to_save(const hn_json_at *at, const cJSON *root,
                                       hn_lora_config *c)
{
    const cJSON *item = hn_json_field(root, "modules_to_save");
    if (item == NULL) {
        hn_peft_set_modules_to_save(c, NULL, 0);
        return HN_OK;
    }
    char **list = NULL;
    size_t n = 0;
    HN_TRY(parse_string_list(at, item, "modules_to_save", &list, &n));
    hn_peft_set_modules_to_save(c, (const char *const *)list, n); /* [] stays a list */
    g_strfreev(list);
    return HN_OK;
}

static hn_status parse_init(const hn_json_at *at, const cJSON *root, hn_lora_config *c)
{
    const cJSON *item = hn_json_field(root, "init_lora_weights");
    if (item == NULL)
        return HN_OK;
    const char *value;
    if (cJSON_IsBool(item))
        value = cJSON_IsTrue(item) ? "true" : "false";
    else if (cJSON_IsString(item) && item->valuestring[0] != '\0')
        value = item->valuestring;
    else
        return hn_json_type_error(at, "init_lora_weights", "a boolean or the name of an "
                                  "initialisation", item);
    if (hn_peft_init_changes_base(value))
        return hn_fail(at->err, HN_ERR_UNSUPPORTED, "%s: field \"init_lora_weights\" is \"%s\": "
                       "peft recomputes the base weights from it when loading, so the adapter "
                       "does not apply to the unchanged base model; convert it to a plain LoRA "
                       "adapter (peft: save_pretrained with "
                       "path_initial_model_for_weight_conversion; LLaMA-Factory: pissa_convert)",
                       at->file, value);
    g_free(c->init_lora_weights);
    c->init_lora_weights = g_strdup(value);
    return HN_OK;
}

/* An optional string field into a g_strdup'ed *out. */
static hn_status parse_text(const hn_json_at *at, const cJSON *root, const char *key, char **out)
{
    const cJSON *item = hn_json_field(root, key);
    if (item == NULL)
        return HN_OK;
    if (!cJSON_IsString(item))
        return hn_json_type_error(at, key, "a string", item);
    g_free(*out);
    *out = g_strdup(item->valuestring);
    return HN_OK;
}

hn_status hn_peft_config_parse(const cJSON *root, const char *path, hn_lora_config *c,
                               hn_error *err)
{
    hn_json_at at = {.file = path, .object = "", .err = err};
    char peft_type[64] = "";
    HN_TRY(hn_json_string(&at, root, "peft_type", HN_REQUIRED, peft_type, sizeof peft_type));
    if (strcmp(peft_type, "LORA") != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: field \"peft_type\" is \"%s\"; Hone reads "
                       "only LoRA adapters (\"LORA\")", path, peft_type);
    HN_TRY(require_string(&at, root, "task_type", "CAUSAL_LM", HN_ERR_UNSUPPORTED));
    HN_TRY(require_string(&at, root, "bias", "none", HN_ERR_UNSUPPORTED));
    HN_TRY(require_false(&at, root, "fan_in_fan_out"));
    HN_TRY(require_false(&at, root, "lora_bias"));
    HN_TRY(require_false(&at, root, "use_qalora"));
    HN_TRY(check_unsupported(&at, root));

    int32_t r = c->r;
    HN_TRY(hn_json_int32(&at, root, "r", HN_OPTIONAL, 1, 1 << 20, &r));
    c->r = r;
    HN_TRY(hn_json_double(&at, root, "lora_alpha", HN_OPTIONAL, -1e9, 1e9, &c->lora_alpha));
    HN_TRY(hn_json_double(&at, root, "lora_dropout", HN_OPTIONAL, 0, 0.999999, &c->lora_dropout));
    HN_TRY(hn_json_bool(&at, root, "use_rslora", HN_OPTIONAL, &c->use_rslora));
    HN_TRY(hn_json_bool(&at, root, "use_dora", HN_OPTIONAL, &c->use_dora));
    HN_TRY(hn_json_bool(&at, root, "ensure_weight_tying", HN_OPTIONAL, &c->ensure_weight_tying));
    HN_TRY(parse_targets(&at, root, c));
    HN_TRY(parse_modules_to_save(&at, root, c));
    HN_TRY(parse_init(&at, root, c));
    HN_TRY(parse_text(&at, root, "base_model_name_or_path", &c->base_model_name_or_path));
    HN_TRY(parse_text(&at, root, "peft_version", &c->peft_version));
    return HN_OK;
}

/* ---- writing ---- */

/* Integral values as integers (peft's int fields), others as Python floats. */
static cJSON *number_item(double x, bool is_float)
{
    char *text = (!is_float && x == floor(x) && fabs(x) < 9007199254740992.0)
                     ? g_strdup_printf("%.0f", x)
                     : hn_py_float_repr(x);
    cJSON *item = cJSON_CreateRaw(text);
    g_free(text);
    return item;
}

static cJSON *string_list_item(char *const *list, size_t n)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(array, cJSON_CreateString(list[i]));
    return array;
}

char *hn_peft_config_print(const hn_lora_config *c)
{
    /* Keys in sorted order, with peft 0.18's defaults for what Hone does not use. */
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNullToObject(root, "alora_invocation_tokens");
    cJSON_AddItemToObject(root, "alpha_pattern", cJSON_CreateObject());
    cJSON_AddNullToObject(root, "arrow_config");
    cJSON_AddNullToObject(root, "auto_mapping");
    cJSON_AddStringToObject(root, "base_model_name_or_path", c->base_model_name_or_path);
    cJSON_AddStringToObject(root, "bias", "none");
    cJSON_AddNullToObject(root, "corda_config");
    cJSON_AddBoolToObject(root, "ensure_weight_tying", c->ensure_weight_tying);
    cJSON_AddNullToObject(root, "eva_config");
    cJSON_AddNullToObject(root, "exclude_modules");
    cJSON_AddFalseToObject(root, "fan_in_fan_out");
    cJSON_AddTrueToObject(root, "inference_mode");
    if (strcmp(c->init_lora_weights, "true") == 0 || strcmp(c->init_lora_weights, "false") == 0)
        cJSON_AddBoolToObject(root, "init_lora_weights", c->init_lora_weights[0] == 't');
    else
        cJSON_AddStringToObject(root, "init_lora_weights", c->init_lora_weights);
    cJSON_AddNullToObject(root, "layer_replication");
    cJSON_AddNullToObject(root, "layers_pattern");
    cJSON_AddNullToObject(root, "layers_to_transform");
    cJSON_AddItemToObject(root, "loftq_config", cJSON_CreateObject());
    cJSON_AddItemToObject(root, "lora_alpha", number_item(c->lora_alpha, false));
    cJSON_AddFalseToObject(root, "lora_bias");
    cJSON_AddItemToObject(root, "lora_dropout", number_item(c->lora_dropout, true));
    cJSON_AddNullToObject(root, "megatron_config");
    cJSON_AddStringToObject(root, "megatron_core", "megatron.core");
    if (c->modules_to_save != NULL)
        cJSON_AddItemToObject(root, "modules_to_save",
                              string_list_item(c->modules_to_save, c->n_modules_to_save));
    else
        cJSON_AddNullToObject(root, "modules_to_save");
    cJSON_AddStringToObject(root, "peft_type", "LORA");
    cJSON_AddStringToObject(root, "peft_version", HN_PEFT_FORMAT_VERSION);
    cJSON_AddItemToObject(root, "qalora_group_size", number_item(16, false));
    cJSON_AddItemToObject(root, "r", number_item(c->r, false));
    cJSON_AddItemToObject(root, "rank_pattern", cJSON_CreateObject());
    cJSON_AddNullToObject(root, "revision");
    if (c->target_modules_regex != NULL)
        cJSON_AddStringToObject(root, "target_modules", c->target_modules_regex);
    else
        cJSON_AddItemToObject(root, "target_modules",
                              string_list_item(c->target_modules, c->n_target_modules));
    cJSON_AddNullToObject(root, "target_parameters");
    cJSON_AddStringToObject(root, "task_type", "CAUSAL_LM");
    cJSON_AddNullToObject(root, "trainable_token_indices");
    cJSON_AddBoolToObject(root, "use_dora", c->use_dora);
    cJSON_AddFalseToObject(root, "use_qalora");
    cJSON_AddBoolToObject(root, "use_rslora", c->use_rslora);

    char *text = hn_py_json_dumps(root);
    cJSON_Delete(root);
    return text;
}
