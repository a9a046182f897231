/* adapter_config.json of a PEFT LoRA adapter: parsed into an hn_lora_config with every field
 * checked, and printed with the key set, order and formatting of peft's LoraConfig.save_pretrained
 * (json.dumps with indent=2, sort_keys=True). Used by peft_read.c and peft_write.c. */
#pragma once

#include <cjson/cJSON.h>

#include "peft_adapter.h"

/* Fills config (already holding defaults) from the parsed file at `path`. */
hn_status hn_peft_config_parse(const cJSON *root, const char *path, hn_lora_config *config,
                               hn_error *err);
/* The file's text (free with g_free). */
char *hn_peft_config_print(const hn_lora_config *config);
