/* libFuzzer target: arbitrary bytes as a GGUF file. The reader must reject or accept without
 * reading outside the buffer; for an accepted file every metadata element is visited, every
 * tensor's bytes are read (dequantized where Hone can), lookups by key and name must find the
 * same entries, and a file that passes as a Llama is converted to transformers' layout. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Visits every element (strings byte by byte) so ASan sees each read. */
static uint64_t visit(const hn_gguf_value *v)
{
    uint64_t sum = (uint64_t)v->type;
    if (v->type == HN_GGUF_STRING) {
        for (uint64_t i = 0; i < v->string.bytes.length; i++)
            sum += (unsigned char)v->string.bytes.data[i];
        if (v->string.text != NULL)
            sum += strlen(v->string.text);
    } else if (v->type == HN_GGUF_ARRAY) {
        for (uint64_t i = 0; i < v->array.count; i++) {
            hn_gguf_value element;
            hn_gguf_array_get(v, i, &element);
            if (element.type != v->array.type)
                abort();
            sum += visit(&element);
        }
    } else {
        sum += v->u;
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hn_gguf_file *file = NULL;
    hn_error err;
    if (hn_gguf_open_buffer("fuzz.gguf", data, size, &file, &err) != HN_OK)
        return 0;
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < hn_gguf_kv_count(file); i++) {
        const hn_gguf_kv *kv = hn_gguf_kv_get(file, i);
        if (hn_gguf_kv_find(file, kv->key) != kv)
            abort();
        sink += visit(&kv->value);
        int64_t n;
        double d;
        const char *s;
        hn_gguf_get_int(file, kv->key, HN_REQUIRED, INT64_MIN, INT64_MAX, &n, &err);
        hn_gguf_get_double(file, kv->key, HN_REQUIRED, &d, &err);
        hn_gguf_get_string(file, kv->key, HN_REQUIRED, &s, &err);
    }
    uint32_t alignment = hn_gguf_alignment(file);
    for (size_t i = 0; i < hn_gguf_tensor_count(file); i++) {
        const hn_gguf_tensor *t = hn_gguf_tensor_get(file, i);
        if (hn_gguf_tensor_find(file, t->name) != t || t->offset % alignment != 0 ||
            hn_gguf_data_offset(file) + t->offset + t->nbytes > size)
            abort();
        if (t->nbytes > (1u << 22) || t->numel > (1 << 22))
            continue;
        const unsigned char *bytes = t->data;
        for (uint64_t b = 0; b < t->nbytes; b++)
            sink += bytes[b];
        if (hn_ggml_can_dequantize(t->type)) {
            float *out = malloc((size_t)t->numel * sizeof(float) + 1);
            if (hn_gguf_tensor_to_f32(file, t, out, &err) != HN_OK)
                abort();
            free(out);
        }
    }
    hn_model_config config;
    if (hn_gguf_hf_config(file, &config, &err) == HN_OK) {
        for (size_t i = 0; i < hn_gguf_tensor_count(file); i++) {
            const hn_gguf_tensor *t = hn_gguf_tensor_get(file, i);
            char *name = hn_gguf_hf_name(t->name);
            if (name == NULL)
                abort(); /* the config accepted only names it knows */
            free(name);
            if (t->numel > (1 << 22) || !hn_ggml_can_dequantize(t->type))
                continue;
            float *out = malloc((size_t)t->numel * sizeof(float) + 1);
            hn_gguf_hf_tensor_f32(file, t, &config, out, &err);
            free(out);
        }
    }
    (void)sink;
    hn_gguf_close(file);
    return 0;
}
