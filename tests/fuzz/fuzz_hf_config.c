/* libFuzzer target: arbitrary bytes as config.json. Parsing must fail cleanly or give sizes
 * that pass the config's own consistency checks. */
#include <stdint.h>
#include <stdlib.h>

#include "hf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hn_model_config config;
    hn_error err;
    if (hn_model_config_parse((const char *)data, size, "fuzz/config.json", &config, &err) != HN_OK)
        return 0;
    if (config.num_attention_heads % config.num_key_value_heads != 0 || config.head_dim <= 0 ||
        config.hidden_size <= 0)
        abort();
    (void)hn_model_config_param_count(&config);
    return 0;
}
