/* The keys of `hone export`, LLaMA-Factory's names and defaults (hparams/model_args.py:
 * ModelArguments model_name_or_path, adapter_name_or_path, infer_dtype; ExportArguments
 * export_dir, export_size, export_device, export_legacy_format; data_args template,
 * default_system) plus Hone's own export_gguf and overwrite_output_dir (LLaMA-Factory's name
 * for the training output folder's overwrite switch; upstream's export overwrites silently). */
#include <glib.h>
#include <string.h>

#include "config_file.h"
#include "export.h"

void hn_export_args_init(hn_export_args *args)
{
    *args = (hn_export_args){.export_size = 5.0, .dtype = HN_DTYPE_INVALID};
}

void hn_export_args_clear(hn_export_args *args)
{
    g_free(args->model_name_or_path);
    g_free(args->adapter_name_or_path);
    g_free(args->template_name);
    g_free(args->default_system);
    g_free(args->export_dir);
    *args = (hn_export_args){0};
}

static void set_text(char **field, const char *value)
{
    g_free(*field);
    *field = NULL;
    if (hn_config_is_null(value))
        return;
    if (g_str_has_prefix(value, "~/"))
        *field = g_build_filename(g_get_home_dir(), value + 2, NULL); /* as a shell would */
    else
        *field = g_strdup(value);
}

static hn_status set_bool(const char *key, const char *value, const char *where, bool *out,
                          hn_error *err)
{
    if (!hn_config_bool(value, out))
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s must be true or false, found \"%s\"", where,
                       key, value);
    return HN_OK;
}

const char *hn_export_gguf_name(hn_export_gguf_type type)
{
    switch (type) {
    case HN_EXPORT_GGUF_F16: return "f16";
    case HN_EXPORT_GGUF_BF16: return "bf16";
    case HN_EXPORT_GGUF_Q8_0: return "q8_0";
    case HN_EXPORT_GGUF_NONE: break;
    }
    return "none";
}

hn_status hn_export_args_set(hn_export_args *args, const char *key, const char *value,
                             const char *where, hn_error *err)
{
    if (strcmp(key, "model_name_or_path") == 0)
        set_text(&args->model_name_or_path, value);
    else if (strcmp(key, "adapter_name_or_path") == 0)
        set_text(&args->adapter_name_or_path, value);
    else if (strcmp(key, "template") == 0)
        set_text(&args->template_name, value);
    else if (strcmp(key, "default_system") == 0)
        set_text(&args->default_system, value);
    else if (strcmp(key, "export_dir") == 0)
        set_text(&args->export_dir, value);
    else if (strcmp(key, "export_size") == 0) {
        double v = 0;
        if (!hn_config_number(value, &v) || !(v > 0))
            return hn_fail(err, HN_ERR_ARGUMENT,
                           "%s: export_size must be a positive number of GB per shard, found "
                           "\"%s\"",
                           where, value);
        args->export_size = v;
    } else if (strcmp(key, "export_legacy_format") == 0)
        return set_bool(key, value, where, &args->export_legacy_format, err);
    else if (strcmp(key, "overwrite_output_dir") == 0)
        return set_bool(key, value, where, &args->overwrite_output_dir, err);
    else if (strcmp(key, "export_device") == 0) {
        /* upstream's "cpu" or "auto" (where the merge runs); Hone merges on the CPU either way */
        if (strcmp(value, "cpu") != 0 && strcmp(value, "auto") != 0)
            return hn_fail(err, HN_ERR_ARGUMENT,
                           "%s: export_device must be cpu or auto, found \"%s\"", where, value);
    } else if (strcmp(key, "export_quantization_bit") == 0) {
        double v = 0;
        if (hn_config_is_null(value)) {
            args->export_quantization_bit = 0;
        } else if (!hn_config_number(value, &v) || v != (int)v || v < 1 || v > 16) {
            return hn_fail(err, HN_ERR_ARGUMENT,
                           "%s: export_quantization_bit must be a whole number of bits, found "
                           "\"%s\"",
                           where, value);
        } else {
            args->export_quantization_bit = (int)v;
        }
    } else if (strcmp(key, "infer_dtype") == 0) {
        static const struct {
            const char *name;
            hn_dtype dtype;
        } names[] = {{"auto", HN_DTYPE_INVALID}, {"float32", HN_DTYPE_F32},
                     {"float16", HN_DTYPE_F16},  {"bfloat16", HN_DTYPE_BF16},
                     {"fp32", HN_DTYPE_F32},     {"fp16", HN_DTYPE_F16},
                     {"bf16", HN_DTYPE_BF16}};
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
            if (strcmp(value, names[i].name) == 0) {
                args->dtype = names[i].dtype;
                return HN_OK;
            }
        return hn_fail(err, HN_ERR_ARGUMENT,
                       "%s: infer_dtype must be auto, float32, float16 or bfloat16 (or fp32, "
                       "fp16, bf16), found \"%s\"",
                       where, value);
    } else if (strcmp(key, "export_gguf") == 0) {
        if (hn_config_is_null(value) || strcmp(value, "none") == 0 ||
            strcmp(value, "false") == 0)
            args->gguf = HN_EXPORT_GGUF_NONE;
        else if (strcmp(value, "f16") == 0)
            args->gguf = HN_EXPORT_GGUF_F16;
        else if (strcmp(value, "bf16") == 0)
            args->gguf = HN_EXPORT_GGUF_BF16;
        else if (strcmp(value, "q8_0") == 0)
            args->gguf = HN_EXPORT_GGUF_Q8_0;
        else
            return hn_fail(err, HN_ERR_ARGUMENT,
                           "%s: export_gguf must be f16, bf16, q8_0 or none, found \"%s\"",
                           where, value);
    } else {
        return HN_ERR_UNSUPPORTED;
    }
    return HN_OK;
}

hn_status hn_export_args_check(const hn_export_args *args, hn_error *err)
{
    if (args->model_name_or_path == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "model_name_or_path: expected a model folder or "
                       "GGUF file, none given");
    if (args->export_dir == NULL) /* upstream: "Please specify `export_dir` to save model." */
        return hn_fail(err, HN_ERR_ARGUMENT, "export_dir: expected the folder to write the "
                       "exported model to, none given");
    if (args->export_legacy_format)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "export_legacy_format: pytorch_model.bin files are not written by Hone "
                       "(safetensors only; transformers 5 dropped them too)");
    /* tuner.py export_model: adapters and export_quantization_bit together are refused */
    if (args->export_quantization_bit != 0 && args->adapter_name_or_path != NULL)
        return hn_fail(err, HN_ERR_ARGUMENT,
                       "export_quantization_bit with adapter_name_or_path: please merge adapters "
                       "before quantizing the model (export the merged model first, then "
                       "quantize that folder), as LLaMA-Factory requires");
    if (args->export_quantization_bit != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "export_quantization_bit: GPTQ quantization of the exported folder is not "
                       "built in Hone; use export_gguf: q8_0 for a quantized GGUF file");
    return HN_OK;
}
