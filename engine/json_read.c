/* Typed, checked access to JSON fields with messages that say file, field and expectation. */
#include "json_read.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

hn_status hn_json_parse(const char *text, size_t length, const char *file, cJSON **out,
                        hn_error *err)
{
    /* JSON text is UTF-8 (RFC 8259); strings from it reach GLib and PCRE2, which need that. */
    const char *bad = NULL;
    if (!g_utf8_validate_len(text, length, &bad) && *bad != '\0') /* NULs: see below */
        return hn_fail(err, HN_ERR_FORMAT, "%s: byte %td: not valid UTF-8 (JSON text must be UTF-8)",
                       file, bad - text);
    /* cJSON wants a NUL-terminated buffer to insist that nothing follows the value. */
    char *copy = g_malloc(length + 1);
    memcpy(copy, text, length);
    copy[length] = '\0';
    if (memchr(copy, '\0', length) != NULL) {
        size_t at = strlen(copy);
        g_free(copy);
        return hn_fail(err, HN_ERR_FORMAT, "%s: byte %zu: a NUL byte inside JSON text", file, at);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(copy, &end, 1);
    if (root == NULL) {
        size_t offset = end != NULL && end >= copy ? (size_t)(end - copy) : 0;
        int line = 1, column = 1;
        for (size_t i = 0; i < offset && i < length; i++) {
            if (copy[i] == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        g_free(copy);
        return hn_fail(err, HN_ERR_FORMAT, "%s: line %d, column %d: not valid JSON", file, line,
                       column);
    }
    g_free(copy);
    *out = root;
    return HN_OK;
}

hn_status hn_json_load_object(const char *path, cJSON **out, hn_error *err)
{
    gchar *text = NULL;
    gsize length = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &length, &gerr)) {
        hn_status s = hn_fail(err, HN_ERR_IO, "%s", gerr->message);
        g_error_free(gerr);
        return s;
    }
    cJSON *root = NULL;
    hn_status status = hn_json_parse(text, length, path, &root, err);
    g_free(text);
    if (status != HN_OK)
        return status;
    if (!cJSON_IsObject(root)) {
        hn_fail(err, HN_ERR_FORMAT, "%s: expected a JSON object at the top level, found %s",
                path, hn_json_kind(root));
        cJSON_Delete(root);
        return HN_ERR_FORMAT;
    }
    *out = root;
    return HN_OK;
}

const char *hn_json_kind(const cJSON *item)
{
    if (item == NULL)
        return "nothing";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsObject(item))
        return "an object";
    return "an unknown value";
}

const cJSON *hn_json_field(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return (item == NULL || cJSON_IsNull(item)) ? NULL : item;
}

/* `field "x"` or `field "rope_scaling.x"`. */
static void field_name(const hn_json_at *at, const char *key, char *buf, size_t size)
{
    if (at->object != NULL && at->object[0] != '\0')
        snprintf(buf, size, "%s.%s", at->object, key);
    else
        snprintf(buf, size, "%s", key);
}

hn_status hn_json_type_error(const hn_json_at *at, const char *key, const char *expected,
                             const cJSON *found)
{
    char name[256];
    field_name(at, key, name, sizeof name);
    if (found == NULL)
        return hn_fail(at->err, HN_ERR_FORMAT, "%s: missing field \"%s\" (expected %s)",
                       at->file, name, expected);
    char *shown = cJSON_PrintUnformatted(found);
    hn_status s = hn_fail(at->err, HN_ERR_FORMAT, "%s: field \"%s\": expected %s, found %s (%.60s)",
                          at->file, name, expected, hn_json_kind(found),
                          shown != NULL ? shown : "?");
    cJSON_free(shown);
    return s;
}

/* Returns the present item, NULL for an absent optional one, or sets an error for a missing
 * required one (then *failed is set). */
static const cJSON *lookup(const hn_json_at *at, const cJSON *object, const char *key,
                           hn_presence presence, const char *expected, hn_status *failed)
{
    const cJSON *item = hn_json_field(object, key);
    *failed = HN_OK;
    if (item == NULL && presence == HN_REQUIRED)
        *failed = hn_json_type_error(at, key, expected, NULL);
    return item;
}

hn_status hn_json_int(const hn_json_at *at, const cJSON *object, const char *key,
                      hn_presence presence, int64_t min, int64_t max, int64_t *out)
{
    char expected[96];
    snprintf(expected, sizeof expected, "an integer from %" PRId64 " to %" PRId64, min, max);
    hn_status failed;
    const cJSON *item = lookup(at, object, key, presence, expected, &failed);
    if (item == NULL)
        return failed;
    double v = item->valuedouble;
    if (!cJSON_IsNumber(item) || !isfinite(v) || floor(v) != v || v < (double)min ||
        v > (double)max)
        return hn_json_type_error(at, key, expected, item);
    *out = (int64_t)v;
    return HN_OK;
}

hn_status hn_json_int32(const hn_json_at *at, const cJSON *object, const char *key,
                        hn_presence presence, int32_t min, int32_t max, int32_t *out)
{
    int64_t v = *out;
    HN_TRY(hn_json_int(at, object, key, presence, min, max, &v));
    *out = (int32_t)v;
    return HN_OK;
}

hn_status hn_json_double(const hn_json_at *at, const cJSON *object, const char *key,
                         hn_presence presence, double min, double max, double *out)
{
    char expected[96];
    snprintf(expected, sizeof expected, "a number from %g to %g", min, max);
    hn_status failed;
    const cJSON *item = lookup(at, object, key, presence, expected, &failed);
    if (item == NULL)
        return failed;
    double v = item->valuedouble;
    if (!cJSON_IsNumber(item) || !isfinite(v) || v < min || v > max)
        return hn_json_type_error(at, key, expected, item);
    *out = v;
    return HN_OK;
}

hn_status hn_json_bool(const hn_json_at *at, const cJSON *object, const char *key,
                       hn_presence presence, bool *out)
{
    hn_status failed;
    const cJSON *item = lookup(at, object, key, presence, "true or false", &failed);
    if (item == NULL)
        return failed;
    if (!cJSON_IsBool(item))
        return hn_json_type_error(at, key, "true or false", item);
    *out = cJSON_IsTrue(item);
    return HN_OK;
}

hn_status hn_json_string(const hn_json_at *at, const cJSON *object, const char *key,
                         hn_presence presence, char *out, size_t size)
{
    char expected[64];
    snprintf(expected, sizeof expected, "a string of at most %zu bytes", size - 1);
    hn_status failed;
    const cJSON *item = lookup(at, object, key, presence, expected, &failed);
    if (item == NULL)
        return failed;
    if (!cJSON_IsString(item) || strlen(item->valuestring) >= size)
        return hn_json_type_error(at, key, expected, item);
    memcpy(out, item->valuestring, strlen(item->valuestring) + 1);
    return HN_OK;
}
