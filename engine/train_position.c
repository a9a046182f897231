/* hone_state.json (see train_position.h). 64-bit random states are written as hexadecimal
 * strings (a JSON number is a double); the log's running sums with 17 significant digits, which
 * strtod reads back exactly (cJSON's own printing stops at 15 digits whenever those read back
 * within its tolerance, which is not exact). */
#include "train_position.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "json_read.h"

static void add_u64(cJSON *o, const char *key, uint64_t value)
{
    char text[24];
    g_snprintf(text, sizeof text, "0x%016" PRIx64, value);
    cJSON_AddStringToObject(o, key, text);
}

/* A double as JSON text that reads back bit for bit. */
static cJSON *exact_number(double value)
{
    char text[G_ASCII_DTOSTR_BUF_SIZE];
    return cJSON_CreateRaw(g_ascii_formatd(text, sizeof text, "%.17g", value)); /* any locale */
}

static cJSON *exact_numbers(const double *values, int n)
{
    cJSON *array = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(array, exact_number(values[i]));
    return array;
}

hn_status hn_train_position_write(const hn_train_position *p, const char *path, hn_error *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "global_step", (double)p->step);
    cJSON_AddNumberToObject(o, "epoch", (double)p->epoch);
    add_u64(o, "epoch_shuffle_state", p->epoch_shuffle);
    cJSON_AddNumberToObject(o, "next_batch", (double)p->next_batch);
    add_u64(o, "dropout_position", p->dropout_position);
    cJSON_AddNumberToObject(o, "total_tokens", (double)p->tokens);
    cJSON_AddItemToObject(o, "loss_since_log", exact_number(p->loss_since_log));
    cJSON_AddNumberToObject(o, "steps_since_log", (double)p->steps_since_log);
    cJSON_AddNumberToObject(o, "elapsed_s", p->elapsed_s);
    cJSON_AddItemToObject(o, "metric_sums", exact_numbers(p->metric_sums, HN_POSITION_METRICS));
    cJSON_AddItemToObject(o, "metric_weights",
                          exact_numbers(p->metric_weights, HN_POSITION_METRICS));
    cJSON_AddNumberToObject(o, "examples", (double)p->examples);
    cJSON_AddNumberToObject(o, "total_steps", (double)p->total_steps);
    cJSON_AddNumberToObject(o, "per_device_train_batch_size", (double)p->batch_size);
    cJSON_AddNumberToObject(o, "gradient_accumulation_steps", (double)p->accumulation);
    cJSON_AddNumberToObject(o, "seed", (double)p->seed);
    char *text = cJSON_Print(o);
    hn_status s = hn_atomic_write_all(path, text, strlen(text), err);
    cJSON_free(text);
    cJSON_Delete(o);
    return s;
}

static hn_status read_u64(const hn_json_at *at, const cJSON *o, const char *key, uint64_t *out)
{
    char text[24] = "";
    HN_TRY(hn_json_string(at, o, key, HN_REQUIRED, text, sizeof text));
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 16);
    if (!g_str_has_prefix(text, "0x") || *end != '\0')
        return hn_fail(at->err, HN_ERR_FORMAT, "%s: %s: expected a hexadecimal \"0x...\" value, "
                       "found \"%s\"", at->file, key, text);
    *out = value;
    return HN_OK;
}

/* An optional array of HN_POSITION_METRICS numbers (checkpoints of older versions lack it). */
static hn_status read_doubles(const hn_json_at *at, const cJSON *o, const char *key,
                              double *out)
{
    const cJSON *array = cJSON_GetObjectItemCaseSensitive(o, key);
    if (array == NULL)
        return HN_OK;
    if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) != HN_POSITION_METRICS)
        return hn_fail(at->err, HN_ERR_FORMAT, "%s: %s: expected an array of %d numbers",
                       at->file, key, HN_POSITION_METRICS);
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (!cJSON_IsNumber(item))
            return hn_fail(at->err, HN_ERR_FORMAT, "%s: %s[%d]: expected a number", at->file,
                           key, i);
        out[i++] = item->valuedouble;
    }
    return HN_OK;
}

hn_status hn_train_position_read(hn_train_position *p, const char *path, hn_error *err)
{
    cJSON *o = NULL;
    HN_TRY(hn_json_load_object(path, &o, err));
    hn_json_at at = {path, "", err};
    *p = (hn_train_position){0};
    const int64_t big = INT64_MAX / 2;
    hn_status s = HN_OK;
    if (s == HN_OK) s = hn_json_int(&at, o, "global_step", HN_REQUIRED, 0, big, &p->step);
    if (s == HN_OK) s = hn_json_int(&at, o, "epoch", HN_REQUIRED, 0, big, &p->epoch);
    if (s == HN_OK) s = read_u64(&at, o, "epoch_shuffle_state", &p->epoch_shuffle);
    if (s == HN_OK) s = hn_json_int(&at, o, "next_batch", HN_REQUIRED, 0, big, &p->next_batch);
    if (s == HN_OK) s = read_u64(&at, o, "dropout_position", &p->dropout_position);
    if (s == HN_OK) s = hn_json_int(&at, o, "total_tokens", HN_REQUIRED, 0, big, &p->tokens);
    if (s == HN_OK)
        s = hn_json_double(&at, o, "loss_since_log", HN_REQUIRED, -1e308, 1e308,
                           &p->loss_since_log);
    if (s == HN_OK)
        s = hn_json_int(&at, o, "steps_since_log", HN_REQUIRED, 0, big, &p->steps_since_log);
    if (s == HN_OK) s = hn_json_double(&at, o, "elapsed_s", HN_REQUIRED, 0, 1e308, &p->elapsed_s);
    if (s == HN_OK) s = hn_json_int(&at, o, "examples", HN_REQUIRED, 1, big, &p->examples);
    if (s == HN_OK) s = hn_json_int(&at, o, "total_steps", HN_REQUIRED, 1, big, &p->total_steps);
    if (s == HN_OK)
        s = hn_json_int(&at, o, "per_device_train_batch_size", HN_REQUIRED, 1, big,
                        &p->batch_size);
    if (s == HN_OK)
        s = hn_json_int(&at, o, "gradient_accumulation_steps", HN_REQUIRED, 1, big,
                        &p->accumulation);
    if (s == HN_OK) s = hn_json_int(&at, o, "seed", HN_REQUIRED, INT64_MIN, INT64_MAX, &p->seed);
    if (s == HN_OK) s = read_doubles(&at, o, "metric_sums", p->metric_sums);
    if (s == HN_OK) s = read_doubles(&at, o, "metric_weights", p->metric_weights);
    cJSON_Delete(o);
    return s;
}
