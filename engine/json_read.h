/* Reading JSON files (cJSON) with errors that name the file, the field and the expected type.
 * Getters leave *out unchanged when an optional field is absent or null, so callers set the
 * default first and then read. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "hn_error.h"

typedef enum { HN_OPTIONAL = 0, HN_REQUIRED = 1 } hn_presence;

/* Where values come from, for messages: file "config.json", object "rope_scaling" ("" = top). */
typedef struct {
    const char *file;
    const char *object;
    hn_error *err;
} hn_json_at;

/* Parses text (need not be NUL-terminated); a syntax error names the line and column. */
hn_status hn_json_parse(const char *text, size_t length, const char *file, cJSON **out,
                        hn_error *err);
/* Reads and parses a whole file; the top level must be an object. */
hn_status hn_json_load_object(const char *path, cJSON **out, hn_error *err);

/* "a string", "a number", "an array", ... for messages. */
const char *hn_json_kind(const cJSON *item);

/* The field, or NULL when absent or null. */
const cJSON *hn_json_field(const cJSON *object, const char *key);

hn_status hn_json_int(const hn_json_at *at, const cJSON *object, const char *key,
                      hn_presence presence, int64_t min, int64_t max, int64_t *out);
hn_status hn_json_int32(const hn_json_at *at, const cJSON *object, const char *key,
                        hn_presence presence, int32_t min, int32_t max, int32_t *out);
hn_status hn_json_double(const hn_json_at *at, const cJSON *object, const char *key,
                         hn_presence presence, double min, double max, double *out);
hn_status hn_json_bool(const hn_json_at *at, const cJSON *object, const char *key,
                       hn_presence presence, bool *out);
/* Copies the string into out (size bytes); too long is an error. */
hn_status hn_json_string(const hn_json_at *at, const cJSON *object, const char *key,
                         hn_presence presence, char *out, size_t size);
/* Fails with "expected ..., found ..." for the field `key`. */
hn_status hn_json_type_error(const hn_json_at *at, const char *key, const char *expected,
                             const cJSON *found);
