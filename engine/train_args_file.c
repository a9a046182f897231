/* Reading a config file of LLaMA-Factory keys (config_file.h), and with it a training config
 * into hn_train_args: YAML through libyaml's event parser, JSON through cJSON. The top level is
 * a mapping of keys to scalars or lists of scalars (a list becomes a comma list:
 * `dataset: [identity, alpaca_en_demo]`). Each value goes to the caller's setter
 * (hn_train_args_set for training), so files and the command line check values the same
 * way. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <string.h>
#include <yaml.h>

#include "config_file.h"
#include "json_read.h"
#include "train_args.h"

/* Where values go: the caller's setter and its data. */
typedef struct {
    hn_config_setter set;
    void *user;
} target;

/* Sets key from text; collects unknown keys into ignored. */
static hn_status apply(const target *args, const char *key, const char *value,
                       const char *where, GPtrArray *ignored, hn_error *err)
{
    hn_status s = args->set(args->user, key, value, where, err);
    if (s == HN_ERR_UNSUPPORTED) {
        g_ptr_array_add(ignored, g_strdup(key));
        return HN_OK;
    }
    return s;
}

/* ---- YAML ---- */

typedef struct {
    yaml_parser_t parser;
    yaml_event_t event;
    const char *path;
} yaml_reader;

static char *where_at(const char *path, yaml_mark_t mark)
{
    return g_strdup_printf("%s:%zu:%zu", path, mark.line + 1, mark.column + 1);
}

static hn_status next_event(yaml_reader *r, hn_error *err)
{
    yaml_event_delete(&r->event);
    if (yaml_parser_parse(&r->parser, &r->event))
        return HN_OK;
    return hn_fail(err, HN_ERR_FORMAT, "%s:%zu:%zu: YAML syntax error: %s%s%s", r->path,
                   r->parser.problem_mark.line + 1, r->parser.problem_mark.column + 1,
                   r->parser.problem != NULL ? r->parser.problem : "unreadable",
                   r->parser.context != NULL ? ", " : "",
                   r->parser.context != NULL ? r->parser.context : "");
}

/* The value after a key: a scalar, or a sequence of scalars joined with commas. */
static hn_status read_value(yaml_reader *r, const char *key, char **value, char **where,
                            hn_error *err)
{
    HN_TRY(next_event(r, err));
    *where = where_at(r->path, r->event.start_mark);
    if (r->event.type == YAML_SCALAR_EVENT) {
        *value = g_strndup((const char *)r->event.data.scalar.value, r->event.data.scalar.length);
        return HN_OK;
    }
    if (r->event.type != YAML_SEQUENCE_START_EVENT)
        return hn_fail(err, HN_ERR_FORMAT, "%s: %s: expected a value or a list of values", *where,
                       key);
    GString *joined = g_string_new(NULL);
    for (;;) {
        hn_status s = next_event(r, err);
        if (s == HN_OK && r->event.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (s == HN_OK && r->event.type != YAML_SCALAR_EVENT)
            s = hn_fail(err, HN_ERR_FORMAT, "%s: %s: expected a list of plain values", *where,
                        key);
        if (s != HN_OK) {
            g_string_free(joined, TRUE);
            return s;
        }
        g_string_append_printf(joined, "%s%.*s", joined->len > 0 ? "," : "",
                               (int)r->event.data.scalar.length,
                               (const char *)r->event.data.scalar.value);
    }
    *value = g_string_free(joined, FALSE);
    return HN_OK;
}

static hn_status read_mapping(yaml_reader *r, const target *args, GPtrArray *ignored,
                              hn_error *err)
{
    for (;;) {
        HN_TRY(next_event(r, err));
        if (r->event.type == YAML_MAPPING_END_EVENT)
            return HN_OK;
        if (r->event.type != YAML_SCALAR_EVENT) {
            char *where = where_at(r->path, r->event.start_mark);
            hn_status s = hn_fail(err, HN_ERR_FORMAT, "%s: expected a key name", where);
            g_free(where);
            return s;
        }
        char *key = g_strndup((const char *)r->event.data.scalar.value,
                              r->event.data.scalar.length);
        char *value = NULL, *where = NULL;
        hn_status s = read_value(r, key, &value, &where, err);
        if (s == HN_OK)
            s = apply(args, key, value, where, ignored, err);
        g_free(key);
        g_free(value);
        g_free(where);
        HN_TRY(s);
    }
}

static hn_status load_yaml(const target *args, const char *path, const char *text,
                           size_t length, GPtrArray *ignored, hn_error *err)
{
    yaml_reader r = {.path = path};
    yaml_parser_initialize(&r.parser);
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, length);
    hn_status s = HN_OK;
    bool mapping = false;
    while (s == HN_OK && !mapping) { /* stream start, document start, then the mapping */
        s = next_event(&r, err);
        if (s != HN_OK)
            break;
        if (r.event.type == YAML_MAPPING_START_EVENT)
            mapping = true;
        else if (r.event.type == YAML_STREAM_END_EVENT)
            s = hn_fail(err, HN_ERR_FORMAT, "%s: the file is empty (expected key: value lines)",
                        path);
        else if (r.event.type != YAML_STREAM_START_EVENT &&
                 r.event.type != YAML_DOCUMENT_START_EVENT)
            s = hn_fail(err, HN_ERR_FORMAT, "%s:%zu:%zu: expected key: value lines at the top",
                        path, r.event.start_mark.line + 1, r.event.start_mark.column + 1);
    }
    if (s == HN_OK)
        s = read_mapping(&r, args, ignored, err);
    yaml_event_delete(&r.event);
    yaml_parser_delete(&r.parser);
    return s;
}

/* ---- JSON ---- */

static char *json_scalar_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return g_strdup(v->valuestring);
    if (cJSON_IsBool(v))
        return g_strdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNull(v))
        return g_strdup("null");
    if (cJSON_IsNumber(v)) {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup(g_ascii_dtostr(buf, sizeof buf, v->valuedouble));
    }
    return NULL;
}

static hn_status load_json(const target *args, const char *path, const char *text,
                           size_t length, GPtrArray *ignored, hn_error *err)
{
    cJSON *root = NULL;
    HN_TRY(hn_json_parse(text, length, path, &root, err));
    hn_status s = cJSON_IsObject(root) ? HN_OK
                                       : hn_fail(err, HN_ERR_FORMAT, "%s: expected an object "
                                                 "of \"key\": value pairs", path);
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if (s != HN_OK)
            break;
        char *where = g_strdup_printf("%s: key \"%s\"", path, item->string);
        char *value = json_scalar_text(item);
        if (value == NULL && cJSON_IsArray(item)) {
            GString *joined = g_string_new(NULL);
            const cJSON *element;
            cJSON_ArrayForEach(element, item)
            {
                char *part = json_scalar_text(element);
                if (part == NULL || cJSON_IsNull(element))
                    s = hn_fail(err, HN_ERR_FORMAT, "%s: expected a list of plain values", where);
                g_string_append_printf(joined, "%s%s", joined->len > 0 ? "," : "",
                                       part != NULL ? part : "");
                g_free(part);
            }
            value = g_string_free(joined, FALSE);
        } else if (value == NULL) {
            s = hn_fail(err, HN_ERR_FORMAT, "%s: expected a value or a list of values", where);
        }
        if (s == HN_OK)
            s = apply(args, item->string, value, where, ignored, err);
        g_free(value);
        g_free(where);
    }
    cJSON_Delete(root);
    return s;
}

hn_status hn_config_load(const char *path, hn_config_setter set, void *user, char ***ignored,
                         hn_error *err)
{
    if (ignored != NULL)
        *ignored = NULL;
    char *text = NULL;
    gsize length = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &length, &gerr)) {
        hn_status s = hn_fail(err, HN_ERR_IO, "%s", gerr->message);
        g_error_free(gerr);
        return s;
    }
    hn_status s = hn_config_parse(text, length, path, g_str_has_suffix(path, ".json"), set,
                                  user, ignored, err);
    g_free(text);
    return s;
}

hn_status hn_config_parse(const char *text, size_t length, const char *label, bool json,
                          hn_config_setter set, void *user, char ***ignored, hn_error *err)
{
    if (ignored != NULL)
        *ignored = NULL;
    target args = {set, user};
    hn_status s = HN_OK;
    if (!g_utf8_validate(text, (gssize)length, NULL))
        s = hn_fail(err, HN_ERR_FORMAT, "%s: expected UTF-8 text", label);
    GPtrArray *unknown = g_ptr_array_new_with_free_func(g_free);
    if (s == HN_OK && json)
        s = load_json(&args, label, text, length, unknown, err);
    else if (s == HN_OK)
        s = load_yaml(&args, label, text, length, unknown, err);
    if (s == HN_OK && ignored != NULL) {
        g_ptr_array_add(unknown, NULL);
        *ignored = (char **)g_ptr_array_free(unknown, FALSE);
    } else {
        g_ptr_array_free(unknown, TRUE);
    }
    return s;
}

static hn_status set_train_arg(void *user, const char *key, const char *value,
                               const char *where, hn_error *err)
{
    return hn_train_args_set(user, key, value, where, err);
}

hn_status hn_train_args_load(hn_train_args *args, const char *path, char ***ignored,
                             hn_error *err)
{
    return hn_config_load(path, set_train_arg, args, ignored, err);
}

hn_status hn_train_args_parse(hn_train_args *args, const char *text, size_t length,
                              const char *label, bool json, char ***ignored, hn_error *err)
{
    return hn_config_parse(text, length, label, json, set_train_arg, args, ignored, err);
}
