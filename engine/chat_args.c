/* Chat config keys (chat_args.h): each key's type and range, values read as train_args.c
 * reads them (config_file.h). Ranges follow transformers' GenerationConfig checks and the
 * logits processors' (temperature >= 0, top_p in [0, 1], top_k >= 0, repetition_penalty
 * > 0). */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "chat_args.h"
#include "config_file.h"
#include "model_decode.h"

void hn_chat_args_init(hn_chat_args *args)
{
    *args = (hn_chat_args){.enable_thinking = true};
    hn_generate_options_init(&args->generate);
}

void hn_chat_args_clear(hn_chat_args *args)
{
    g_free(args->model_name_or_path);
    g_free(args->adapter_name_or_path);
    g_free(args->template_name);
    g_free(args->default_system);
    g_free(args->backend);
    *args = (hn_chat_args){0};
}

static hn_status set_text(char **field, const char *key, const char *value)
{
    g_free(*field);
    *field = NULL;
    if (hn_config_is_null(value))
        return HN_OK;
    if (g_str_has_prefix(value, "~/") && strstr(key, "name_or_path") != NULL)
        *field = g_build_filename(g_get_home_dir(), value + 2, NULL); /* as a shell would */
    else
        *field = g_strdup(value);
    return HN_OK;
}

static hn_status number(const char *key, const char *value, const char *where, double min,
                        double max, bool integer, double *out, hn_error *err)
{
    if (!hn_config_number(value, out) || (integer && *out != floor(*out)))
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s must be %s, found \"%s\"", where, key,
                       integer ? "a whole number" : "a number", value);
    if (*out < min || *out > max)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s must be between %g and %g, found %s",
                       where, key, min, max, value);
    return HN_OK;
}

static hn_status boolean(const char *key, const char *value, const char *where, bool *out,
                         hn_error *err)
{
    if (!hn_config_bool(value, out))
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s must be true or false, found \"%s\"", where,
                       key, value);
    return HN_OK;
}

hn_status hn_chat_args_set(hn_chat_args *args, const char *key, const char *value,
                           const char *where, hn_error *err)
{
    hn_generate_options *g = &args->generate;
    hn_sampling *s = &g->sampling;
    double v = 0;
    if (strcmp(key, "model_name_or_path") == 0)
        return set_text(&args->model_name_or_path, key, value);
    if (strcmp(key, "adapter_name_or_path") == 0)
        return set_text(&args->adapter_name_or_path, key, value);
    if (strcmp(key, "template") == 0)
        return set_text(&args->template_name, key, value);
    if (strcmp(key, "default_system") == 0)
        return set_text(&args->default_system, key, value);
    if (strcmp(key, "backend") == 0) {
        if (strcmp(value, "auto") != 0 && strcmp(value, "cpu") != 0 && strcmp(value, "cuda") != 0)
            return hn_fail(err, HN_ERR_ARGUMENT, "%s: backend must be auto, cpu or cuda, found "
                           "\"%s\"", where, value);
        return set_text(&args->backend, key, value);
    }
    if (strcmp(key, "enable_thinking") == 0)
        return boolean(key, value, where, &args->enable_thinking, err);
    if (strcmp(key, "decode_activations") == 0)
        return hn_decode_activations_parse(value, where, &args->decode_activations, err);
    if (strcmp(key, "do_sample") == 0)
        return boolean(key, value, where, &s->do_sample, err);
    if (strcmp(key, "temperature") == 0) {
        HN_TRY(number(key, value, where, 0, 1e6, false, &v, err));
        s->temperature = v;
        return HN_OK;
    }
    if (strcmp(key, "top_p") == 0) {
        HN_TRY(number(key, value, where, 0, 1, false, &v, err));
        s->top_p = v;
        return HN_OK;
    }
    if (strcmp(key, "top_k") == 0) {
        HN_TRY(number(key, value, where, 0, INT32_MAX, true, &v, err));
        s->top_k = (int)v;
        return HN_OK;
    }
    if (strcmp(key, "repetition_penalty") == 0) {
        HN_TRY(number(key, value, where, 1e-6, 1e6, false, &v, err));
        s->repetition_penalty = v;
        return HN_OK;
    }
    if (strcmp(key, "max_new_tokens") == 0) {
        HN_TRY(number(key, value, where, 1, 1 << 24, true, &v, err));
        g->max_new_tokens = (int)v;
        return HN_OK;
    }
    if (strcmp(key, "seed") == 0) {
        HN_TRY(number(key, value, where, 0, 18446744073709551615.0, true, &v, err));
        g->seed = (uint64_t)v;
        return HN_OK;
    }
    return HN_ERR_UNSUPPORTED;
}

hn_status hn_chat_args_check(hn_chat_args *args, hn_error *err)
{
    if (args->model_name_or_path == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "model_name_or_path: expected a model folder or "
                       "GGUF file, none given");
    hn_sampling *s = &args->generate.sampling;
    if (s->temperature == 0) /* llamafactory/chat/hf_engine.py: no temperature, no sampling */
        s->do_sample = false;
    return HN_OK;
}
