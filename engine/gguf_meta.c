/* GGUF metadata by key with the expected type: typed getters whose errors name the file, the
 * key and what was expected (the counterpart of json_read for GGUF). */
#include <inttypes.h>
#include <stdio.h>

#include "gguf.h"

static const char *const type_names[HN_GGUF_TYPE_COUNT] = {
    [HN_GGUF_UINT8] = "UINT8",   [HN_GGUF_INT8] = "INT8",       [HN_GGUF_UINT16] = "UINT16",
    [HN_GGUF_INT16] = "INT16",   [HN_GGUF_UINT32] = "UINT32",   [HN_GGUF_INT32] = "INT32",
    [HN_GGUF_FLOAT32] = "FLOAT32", [HN_GGUF_BOOL] = "BOOL",     [HN_GGUF_STRING] = "STRING",
    [HN_GGUF_ARRAY] = "ARRAY",   [HN_GGUF_UINT64] = "UINT64",   [HN_GGUF_INT64] = "INT64",
    [HN_GGUF_FLOAT64] = "FLOAT64",
};

const char *hn_gguf_type_name(uint32_t type)
{
    return type < HN_GGUF_TYPE_COUNT ? type_names[type] : "unknown";
}

static bool is_unsigned(hn_gguf_type t)
{
    return t == HN_GGUF_UINT8 || t == HN_GGUF_UINT16 || t == HN_GGUF_UINT32 || t == HN_GGUF_UINT64;
}

static bool is_signed(hn_gguf_type t)
{
    return t == HN_GGUF_INT8 || t == HN_GGUF_INT16 || t == HN_GGUF_INT32 || t == HN_GGUF_INT64;
}

/* "a STRING", "an ARRAY of UINT32", ... */
static const char *describe(const hn_gguf_value *v, char *buf, size_t size)
{
    if (v->type == HN_GGUF_ARRAY)
        snprintf(buf, size, "an ARRAY of %s", hn_gguf_type_name(v->array.type));
    else
        snprintf(buf, size, "%s %s", v->type == HN_GGUF_INT8 || v->type == HN_GGUF_INT16 ||
                                             v->type == HN_GGUF_INT32 || v->type == HN_GGUF_INT64
                                         ? "an"
                                         : "a",
                 hn_gguf_type_name(v->type));
    return buf;
}

/* The key's value, NULL when absent (HN_OK for an optional key), or a failure. */
static hn_status lookup(const hn_gguf_file *file, const char *key, hn_presence presence,
                        const char *expected, const hn_gguf_value **out, hn_error *err)
{
    const hn_gguf_kv *kv = hn_gguf_kv_find(file, key);
    *out = kv != NULL ? &kv->value : NULL;
    if (kv == NULL && presence == HN_REQUIRED)
        return hn_fail(err, HN_ERR_FORMAT, "%s: metadata key \"%s\": expected %s, found no such key",
                       hn_gguf_path(file), key, expected);
    return HN_OK;
}

static hn_status type_error(const hn_gguf_file *file, const char *key, const char *expected,
                            const hn_gguf_value *found, hn_error *err)
{
    char what[48];
    return hn_fail(err, HN_ERR_FORMAT, "%s: metadata key \"%s\": expected %s, found %s",
                   hn_gguf_path(file), key, expected, describe(found, what, sizeof what));
}

hn_status hn_gguf_get_int(const hn_gguf_file *file, const char *key, hn_presence presence,
                          int64_t min, int64_t max, int64_t *out, hn_error *err)
{
    const hn_gguf_value *v;
    HN_TRY(lookup(file, key, presence, "an integer", &v, err));
    if (v == NULL)
        return HN_OK;
    if (!is_signed(v->type) && !is_unsigned(v->type))
        return type_error(file, key, "an integer", v, err);
    if (is_unsigned(v->type) ? max < 0 || v->u > (uint64_t)max || (min > 0 && v->u < (uint64_t)min)
                             : v->i < min || v->i > max) {
        char value[32];
        if (is_unsigned(v->type))
            snprintf(value, sizeof value, "%" PRIu64, v->u);
        else
            snprintf(value, sizeof value, "%" PRId64, v->i);
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: metadata key \"%s\": expected an integer in [%" PRId64 ", %" PRId64
                       "], found %s",
                       hn_gguf_path(file), key, min, max, value);
    }
    *out = is_unsigned(v->type) ? (int64_t)v->u : v->i;
    return HN_OK;
}

hn_status hn_gguf_get_uint(const hn_gguf_file *file, const char *key, hn_presence presence,
                           uint64_t max, uint64_t *out, hn_error *err)
{
    const hn_gguf_value *v;
    HN_TRY(lookup(file, key, presence, "an unsigned integer", &v, err));
    if (v == NULL)
        return HN_OK;
    if (!is_signed(v->type) && !is_unsigned(v->type))
        return type_error(file, key, "an unsigned integer", v, err);
    if (is_signed(v->type) ? v->i < 0 || (uint64_t)v->i > max : v->u > max) {
        char value[32];
        if (is_signed(v->type))
            snprintf(value, sizeof value, "%" PRId64, v->i);
        else
            snprintf(value, sizeof value, "%" PRIu64, v->u);
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: metadata key \"%s\": expected an integer in [0, %" PRIu64 "], found %s",
                       hn_gguf_path(file), key, max, value);
    }
    *out = is_signed(v->type) ? (uint64_t)v->i : v->u;
    return HN_OK;
}

hn_status hn_gguf_get_double(const hn_gguf_file *file, const char *key, hn_presence presence,
                             double *out, hn_error *err)
{
    const hn_gguf_value *v;
    HN_TRY(lookup(file, key, presence, "a number", &v, err));
    if (v == NULL)
        return HN_OK;
    if (v->type == HN_GGUF_FLOAT32 || v->type == HN_GGUF_FLOAT64)
        *out = v->f;
    else if (is_signed(v->type))
        *out = (double)v->i;
    else if (is_unsigned(v->type))
        *out = (double)v->u;
    else
        return type_error(file, key, "a number", v, err);
    return HN_OK;
}

hn_status hn_gguf_get_bool(const hn_gguf_file *file, const char *key, hn_presence presence,
                           bool *out, hn_error *err)
{
    const hn_gguf_value *v;
    HN_TRY(lookup(file, key, presence, "a BOOL", &v, err));
    if (v == NULL)
        return HN_OK;
    if (v->type != HN_GGUF_BOOL)
        return type_error(file, key, "a BOOL", v, err);
    *out = v->u != 0;
    return HN_OK;
}

hn_status hn_gguf_get_string(const hn_gguf_file *file, const char *key, hn_presence presence,
                             const char **out, hn_error *err)
{
    const hn_gguf_value *v;
    HN_TRY(lookup(file, key, presence, "a STRING", &v, err));
    if (v == NULL)
        return HN_OK;
    if (v->type != HN_GGUF_STRING)
        return type_error(file, key, "a STRING", v, err);
    *out = v->string.text;
    return HN_OK;
}

hn_status hn_gguf_get_array(const hn_gguf_file *file, const char *key, hn_presence presence,
                            hn_gguf_type element, const hn_gguf_value **out, hn_error *err)
{
    char expected[48];
    if (element < HN_GGUF_TYPE_COUNT)
        snprintf(expected, sizeof expected, "an ARRAY of %s", hn_gguf_type_name(element));
    else
        snprintf(expected, sizeof expected, "an ARRAY");
    const hn_gguf_value *v;
    HN_TRY(lookup(file, key, presence, expected, &v, err));
    if (v == NULL)
        return HN_OK;
    if (v->type != HN_GGUF_ARRAY || (element < HN_GGUF_TYPE_COUNT && v->array.type != element))
        return type_error(file, key, expected, v, err);
    *out = v;
    return HN_OK;
}
