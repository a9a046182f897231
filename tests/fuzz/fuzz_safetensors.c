/* libFuzzer target: arbitrary bytes as a safetensors file. The reader must reject or accept
 * without reading outside the buffer; accepted tensors are converted to fp32 in full, which
 * touches every byte the header claims. */
#include <stdint.h>
#include <stdlib.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hn_st_file *file = NULL;
    hn_error err;
    if (hn_st_open_buffer("fuzz.safetensors", data, size, &file, &err) != HN_OK)
        return 0;
    for (size_t i = 0; i < hn_st_count(file); i++) {
        const hn_st_tensor *t = hn_st_get(file, i);
        if (t->numel > (1 << 20))
            continue;
        float *out = malloc((size_t)t->numel * sizeof(float) + 1);
        hn_convert_to_f32(out, t->data, t->dtype, (size_t)t->numel);
        free(out);
        if (hn_st_find(file, t->name) != t)
            abort();
    }
    for (size_t i = 0; i < hn_st_metadata_count(file); i++) {
        const char *key, *value;
        hn_st_metadata_get(file, i, &key, &value);
        if (hn_st_metadata(file, key) == NULL)
            abort();
    }
    hn_st_close(file);
    return 0;
}
