/* A model built for inference (chat, generation, eval, score): the base weights (a GGUF
 * file's Q8_0 / Q4_1 matrices kept in their blocks, so a decoded token reads those bytes
 * rather than fp32), and PEFT LoRA adapters applied without merging when named, with LoRA
 * dropout off. */
#pragma once

#include "model.h"

/* adapter_path: NULL or "" for none, an adapter folder (PEFT's adapter_config.json +
 * adapter_model.safetensors), or several folders separated by commas, all applied at once
 * without merging (plain LoRA; see hn_model_options_for_adapters). backend NULL: the CPU. */
hn_status hn_model_open_inference(const hn_model_dir *dir, const char *adapter_path,
                                  const hn_backend *backend, hn_model **out, hn_error *err);
/* The same with the value head of a reward model (stage rm), read from value_head.safetensors
 * in the last adapter's folder, else in the model folder; an error when there is none. */
hn_status hn_model_open_reward(const hn_model_dir *dir, const char *adapter_path,
                               const hn_backend *backend, hn_model **out, hn_error *err);
