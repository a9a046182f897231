/* A model built for inference with an optional LoRA adapter (model_open.h): the adapter's
 * layout from hn_model_options_for_adapter, its weights from hn_model_load_adapter, dropout
 * off as in PEFT's eval mode. */
#include <string.h>

#include "model_open.h"

hn_status hn_model_open_inference(const hn_model_dir *dir, const char *adapter_path,
                                  const hn_backend *backend, hn_model **out, hn_error *err)
{
    *out = NULL;
    hn_model_options options;
    hn_model_options_init(&options);
    options.backend = backend;
    options.keep_gguf_blocks = true; /* decoding reads the Q8_0 / Q4_1 blocks in place */
    if (adapter_path == NULL || adapter_path[0] == '\0')
        return hn_model_new(dir, &options, out, err);
    if (strchr(adapter_path, ',') != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "adapter_name_or_path %s: several adapters at "
                       "once are not built yet; merge them or name one", adapter_path);
    hn_peft_adapter adapter;
    HN_TRY(hn_peft_read(adapter_path, &adapter, err));
    char *targets = NULL, *saved = NULL;
    hn_status s = hn_model_options_for_adapter(&options, &adapter, &targets, &saved, err);
    options.lora_dropout = 0; /* inference: PEFT's eval mode drops nothing */
    if (s == HN_OK)
        s = hn_model_new(dir, &options, out, err);
    if (s == HN_OK)
        s = hn_model_load_adapter(*out, &adapter, err);
    if (s != HN_OK) {
        hn_error_prefix(err, "adapter %s", adapter_path);
        hn_model_free(*out);
        *out = NULL;
    }
    g_free(targets);
    g_free(saved);
    hn_peft_adapter_free(&adapter);
    return s;
}
