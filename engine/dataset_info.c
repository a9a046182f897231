/* dataset_info.json entries to hn_dataset_attr, as LLaMA-Factory's get_dataset_list and
 * DatasetAttr.join read them (llamafactory/data/parser.py). */
#include "dataset_info.h"

#include <glib.h>
#include <string.h>

#include "json_read.h"

static const char *const column_keys[HN_COL_COUNT] = {
    "prompt", "query", "response", "history", "messages", "system", "tools",
    "images", "videos", "audios", "chosen", "rejected", "kto_tag",
};
static const char *const column_defaults[HN_COL_COUNT] = {
    [HN_COL_PROMPT] = "instruction", [HN_COL_QUERY] = "input", [HN_COL_RESPONSE] = "output",
    [HN_COL_MESSAGES] = "conversations",
};
static const char *const tag_keys[HN_TAG_COUNT] = {
    "role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag",
    "system_tag",
};
static const char *const tag_defaults[HN_TAG_COUNT] = {
    "from", "value", "human", "gpt", "observation", "function_call", "system",
};
static const char *const format_names[] = {"alpaca", "sharegpt", "openai"};

/* Entries that name a remote source; Hone reads local files only. */
static const char *const remote_keys[] = {"hf_hub_url", "ms_hub_url", "om_hub_url", "script_url",
                                          "cloud_file_name"};

const char *hn_dataset_column_key(hn_dataset_column column) { return column_keys[column]; }
const char *hn_dataset_tag_key(hn_dataset_tag tag) { return tag_keys[tag]; }
const char *hn_dataset_format_name(hn_dataset_format format) { return format_names[format]; }

/* DatasetAttr.set_attr for a group (columns or tags): every key from group, absent ones NULL. */
static hn_status read_names(const hn_json_at *at, const cJSON *group, const char *const *keys,
                            const char *const *defaults, int count, char **out)
{
    for (int i = 0; i < count; i++) {
        if (group == NULL) {
            out[i] = g_strdup(defaults[i]);
            continue;
        }
        const cJSON *value = hn_json_field(group, keys[i]);
        if (value != NULL && !cJSON_IsString(value))
            return hn_json_type_error(at, keys[i], "a string (a key of the rows)", value);
        out[i] = value != NULL ? g_strdup(value->valuestring) : NULL;
    }
    return HN_OK;
}

static hn_status read_group(const char *file, const char *dataset, const cJSON *entry,
                            const char *key, const char *const *keys,
                            const char *const *defaults, int count, char **out, hn_error *err)
{
    const cJSON *group = hn_json_field(entry, key);
    char *where = g_strdup_printf("%s.%s", dataset, key);
    hn_json_at at = {file, where, err};
    hn_status status = HN_OK;
    if (group != NULL && !cJSON_IsObject(group))
        status = hn_fail(err, HN_ERR_FORMAT, "%s: dataset \"%s\": %s: expected an object, found %s",
                         file, dataset, key, hn_json_kind(group));
    else
        status = read_names(&at, group, keys, defaults, count, out);
    g_free(where);
    return status;
}

static hn_status read_formatting(const hn_json_at *at, const cJSON *entry,
                                 hn_dataset_format *out)
{
    char name[32] = "alpaca";
    HN_TRY(hn_json_string(at, entry, "formatting", HN_OPTIONAL, name, sizeof name));
    for (int i = 0; i < (int)G_N_ELEMENTS(format_names); i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (hn_dataset_format)i;
            return HN_OK;
        }
    return hn_fail(at->err, HN_ERR_FORMAT, "%s: dataset \"%s\": formatting: expected alpaca, "
                   "sharegpt or openai, found \"%s\"", at->file, at->object, name);
}

static hn_status check_supported(const char *file, const char *dataset, const cJSON *entry,
                                 const hn_dataset_attr *attr, hn_error *err)
{
    for (size_t i = 0; i < G_N_ELEMENTS(remote_keys); i++)
        if (cJSON_GetObjectItemCaseSensitive(entry, remote_keys[i]) != NULL)
            return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: dataset \"%s\" is read from %s; Hone "
                           "reads local files only: download it into the dataset folder and "
                           "give its file_name", file, dataset, remote_keys[i]);
    static const hn_dataset_column media[] = {HN_COL_IMAGES, HN_COL_VIDEOS, HN_COL_AUDIOS};
    for (size_t i = 0; i < G_N_ELEMENTS(media); i++)
        if (attr->columns[media[i]] != NULL)
            return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: dataset \"%s\" uses the %s column; Hone "
                           "trains on text only (no images, videos or audios)", file, dataset,
                           column_keys[media[i]]);
    if (strcmp(attr->split, "train") != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: dataset \"%s\": split \"%s\": a local file "
                       "has only the split \"train\"", file, dataset, attr->split);
    return HN_OK;
}

static hn_status read_entry(const char *dataset_dir, const char *file, const char *dataset,
                            const cJSON *entry, hn_dataset_attr *attr, hn_error *err)
{
    attr->name = g_strdup(dataset);
    attr->num_samples = -1;
    if (!cJSON_IsObject(entry))
        return hn_fail(err, HN_ERR_FORMAT, "%s: dataset \"%s\": expected an object, found %s",
                       file, dataset, hn_json_kind(entry));
    hn_json_at at = {file, dataset, err};
    char split[64] = "train";
    HN_TRY(read_formatting(&at, entry, &attr->formatting));
    HN_TRY(hn_json_bool(&at, entry, "ranking", HN_OPTIONAL, &attr->ranking));
    HN_TRY(hn_json_string(&at, entry, "split", HN_OPTIONAL, split, sizeof split));
    attr->split = g_strdup(split);
    HN_TRY(hn_json_int(&at, entry, "num_samples", HN_OPTIONAL, 0, INT32_MAX, &attr->num_samples));
    HN_TRY(read_group(file, dataset, entry, "columns", column_keys, column_defaults, HN_COL_COUNT,
                      attr->columns, err));
    HN_TRY(read_group(file, dataset, entry, "tags", tag_keys, tag_defaults, HN_TAG_COUNT,
                      attr->tags, err));
    HN_TRY(check_supported(file, dataset, entry, attr, err));
    const cJSON *file_name = hn_json_field(entry, "file_name");
    if (!cJSON_IsString(file_name) || file_name->valuestring[0] == '\0')
        return hn_json_type_error(&at, "file_name", "a file or folder name (relative to the "
                                  "dataset folder)", file_name);
    attr->file_name = g_strdup(file_name->valuestring);
    attr->path = g_build_filename(dataset_dir, attr->file_name, NULL);
    return HN_OK;
}

static char *known_names(const cJSON *info)
{
    GString *names = g_string_new(NULL);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, info)
        g_string_append_printf(names, "%s%s", names->len ? ", " : "", entry->string);
    return g_string_free(names, FALSE);
}

static hn_status resolve_all(const char *dataset_dir, const char *file, const cJSON *info,
                             char **names, hn_dataset_attr *attrs, size_t *n, hn_error *err)
{
    for (char **name = names; *name != NULL; name++) {
        const char *dataset = g_strstrip(*name);
        for (size_t i = 0; i < *n; i++)
            if (strcmp(attrs[i].name, dataset) == 0)
                return hn_fail(err, HN_ERR_ARGUMENT, "dataset \"%s\" is listed twice; list it "
                               "once (LLaMA-Factory silently keeps one copy, so listing it twice "
                               "does not weight it double)", dataset);
        const cJSON *entry = cJSON_GetObjectItemCaseSensitive(info, dataset);
        if (entry == NULL) {
            char *known = known_names(info);
            hn_status status = hn_fail(err, HN_ERR_ARGUMENT, "dataset \"%s\" is not defined in "
                                       "%s (it defines: %s)", dataset, file,
                                       known[0] ? known : "nothing");
            g_free(known);
            return status;
        }
        hn_status status = read_entry(dataset_dir, file, dataset, entry, &attrs[*n], err);
        (*n)++;
        if (status != HN_OK)
            return status;
    }
    return HN_OK;
}

hn_status hn_dataset_info_resolve(const char *dataset_dir, const char *names,
                                  hn_dataset_attr **out, size_t *n, hn_error *err)
{
    *out = NULL;
    *n = 0;
    if (names == NULL || names[0] == '\0')
        return hn_fail(err, HN_ERR_ARGUMENT, "no dataset given (dataset: a comma list of names "
                       "from dataset_info.json)");
    char *file = g_build_filename(dataset_dir, "dataset_info.json", NULL);
    cJSON *info = NULL;
    hn_status status = hn_json_load_object(file, &info, err);
    if (status != HN_OK) {
        g_free(file);
        return status;
    }
    char **split = g_strsplit(names, ",", -1);
    hn_dataset_attr *attrs = g_new0(hn_dataset_attr, g_strv_length(split));
    size_t count = 0;
    status = resolve_all(dataset_dir, file, info, split, attrs, &count, err);
    g_strfreev(split);
    cJSON_Delete(info);
    g_free(file);
    if (status != HN_OK) {
        hn_dataset_attrs_free(attrs, count);
        return status;
    }
    *out = attrs;
    *n = count;
    return HN_OK;
}

void hn_dataset_attrs_free(hn_dataset_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hn_dataset_attr *a = &attrs[i];
        g_free(a->name);
        g_free(a->file_name);
        g_free(a->path);
        g_free(a->split);
        for (int c = 0; c < HN_COL_COUNT; c++)
            g_free(a->columns[c]);
        for (int t = 0; t < HN_TAG_COUNT; t++)
            g_free(a->tags[t]);
    }
    g_free(attrs);
}
