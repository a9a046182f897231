/* Writing a PEFT LoRA adapter folder: adapter_model.safetensors with PEFT's tensor names and
 * metadata {"format": "pt"} (as PeftModel.save_pretrained), then adapter_config.json; each file
 * atomically, the config last so that a folder with a config always has its weights. */
#include <errno.h>
#include <string.h>

#include "atomic_file.h"
#include "peft_adapter.h"
#include "peft_config.h"

/* The tensors to write: names and (for bf16) converted copies, owned here. */
typedef struct {
    GArray *tensors; /* hn_st_tensor */
    GPtrArray *owned; /* names and bf16 buffers */
    hn_dtype dtype;
} tensor_list;

static void add_tensor(tensor_list *list, char *name, const float *data, int ndim,
                       const int64_t *shape)
{
    hn_st_tensor t = {.name = name, .dtype = list->dtype, .ndim = ndim, .numel = 1};
    for (int d = 0; d < ndim; d++) {
        t.shape[d] = shape[d];
        t.numel *= shape[d];
    }
    g_ptr_array_add(list->owned, name);
    if (list->dtype == HN_DTYPE_BF16) {
        uint16_t *bf16 = g_new(uint16_t, (size_t)t.numel);
        hn_convert_to_bf16(bf16, data, HN_DTYPE_F32, (size_t)t.numel);
        g_ptr_array_add(list->owned, bf16);
        t.data = bf16;
    } else {
        t.data = data;
    }
    g_array_append_val(list->tensors, t);
}

static void add_module_tensors(tensor_list *list, const hn_lora_module *m, int r)
{
    const int64_t a_shape[2] = {r, m->in_features}, b_shape[2] = {m->out_features, r};
    add_tensor(list, g_strdup_printf(HN_PEFT_PREFIX "%s" HN_PEFT_LORA_A, m->name), m->lora_a, 2,
               a_shape);
    add_tensor(list, g_strdup_printf(HN_PEFT_PREFIX "%s" HN_PEFT_LORA_B, m->name), m->lora_b, 2,
               b_shape);
    if (m->magnitude != NULL)
        add_tensor(list, g_strdup_printf(HN_PEFT_PREFIX "%s" HN_PEFT_MAGNITUDE, m->name),
                   m->magnitude, 1, &m->out_features);
}

static hn_status write_weights(const char *path, const hn_peft_adapter *adapter, hn_dtype dtype,
                               hn_error *err)
{
    tensor_list list = {g_array_new(FALSE, TRUE, sizeof(hn_st_tensor)),
                        g_ptr_array_new_with_free_func(g_free), dtype};
    for (size_t i = 0; i < adapter->n_modules; i++)
        add_module_tensors(&list, &adapter->modules[i], adapter->config.r);
    for (size_t i = 0; i < adapter->n_saved; i++) {
        const hn_saved_tensor *t = &adapter->saved[i];
        add_tensor(&list, g_strdup_printf(HN_PEFT_PREFIX "%s", t->name), t->data, t->ndim,
                   t->shape);
    }
    const hn_st_meta meta[] = {{"format", "pt"}};
    hn_status status = hn_st_write(path, (const hn_st_tensor *)(void *)list.tensors->data,
                                   list.tensors->len, meta, G_N_ELEMENTS(meta), err);
    g_array_unref(list.tensors);
    g_ptr_array_unref(list.owned);
    return status;
}

hn_status hn_peft_write(const char *folder, const hn_peft_adapter *adapter, hn_dtype dtype,
                        hn_error *err)
{
    if (dtype != HN_DTYPE_F32 && dtype != HN_DTYPE_BF16)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: adapters are written as F32 or BF16, not %s",
                       folder, hn_dtype_name(dtype));
    hn_status status = hn_peft_check(adapter, err);
    if (status != HN_OK) {
        hn_error_prefix(err, "%s", folder);
        return status;
    }
    if (g_mkdir_with_parents(folder, 0755) != 0)
        return hn_fail(err, HN_ERR_IO, "%s: cannot create the folder: %s", folder,
                       g_strerror(errno));
    char *weights = g_build_filename(folder, HN_PEFT_WEIGHTS_FILE, NULL);
    status = write_weights(weights, adapter, dtype, err);
    g_free(weights);
    if (status != HN_OK)
        return status;
    char *config_path = g_build_filename(folder, HN_PEFT_CONFIG_FILE, NULL);
    char *text = hn_peft_config_print(&adapter->config);
    status = hn_atomic_write_all(config_path, text, strlen(text), err);
    g_free(text);
    g_free(config_path);
    return status;
}
