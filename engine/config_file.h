/* A config file of LLaMA-Factory keys (YAML .yaml/.yml or JSON .json): a top-level mapping of
 * keys to scalars or lists of scalars, each handed as text to the caller's setter (a list as a
 * comma list), so files and command-line --key value pairs go through the same checks.
 * Implemented in train_args_file.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hn_error.h"

/* Sets key from its text; `where` names the source ("chat.yaml:3:14"). Returns
 * HN_ERR_UNSUPPORTED without a message for a key the caller does not use. */
typedef hn_status (*hn_config_setter)(void *user, const char *key, const char *value,
                                      const char *where, hn_error *err);

/* Reads the file; ignored (may be NULL) gets the unused keys (g_strfreev). Syntax errors name
 * the file, line and column. */
hn_status hn_config_load(const char *path, hn_config_setter set, void *user, char ***ignored,
                         hn_error *err);
/* The same for text in memory; label names it, json picks the JSON reader. */
hn_status hn_config_parse(const char *text, size_t length, const char *label, bool json,
                          hn_config_setter set, void *user, char ***ignored, hn_error *err);

/* Value texts as train_args.c reads them: true/yes/on/1 and false/no/off/0 (any case); a
 * finite number in C locale; YAML's and Python's nulls ("", "~", "null", "none"). */
bool hn_config_bool(const char *text, bool *out);
bool hn_config_number(const char *text, double *out);
bool hn_config_is_null(const char *text);
