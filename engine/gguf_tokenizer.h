/* The tokenizer of a GGUF file, from its tokenizer.ggml.* metadata. */
#pragma once

#include <cjson/cJSON.h>

#include "gguf.h"
#include "tokenizer.h"

/* Builds the tokenizer the way transformers' GGUF converter does (integrations/gguf/
 * gguf_tokenizer_mapping.py), so ids equal what transformers gives for the same file:
 * byte-level BPE for tokenizer.ggml.model "gpt2" (SmolLM2, Llama 3, Qwen), and
 * SentencePiece-style BPE for "llama" in the Gemma family. Other models are an error naming
 * them. tokenizer_config comes from the bos/eos/unk/pad ids, add_bos/add_eos and
 * tokenizer.chat_template. */
hn_status hn_tokenizer_from_gguf(const hn_gguf_file *gguf, hn_tokenizer **out, hn_error *err);

/* The same tokenizer, and the tokenizer.json document it stands for (what transformers'
 * save_pretrained writes after loading the GGUF): for exporting a GGUF model as a folder. */
hn_status hn_tokenizer_json_from_gguf(const hn_gguf_file *gguf, hn_tokenizer **tok,
                                      cJSON **json, hn_error *err);

/* The tokenizer of whatever a user points at: a GGUF file, a tokenizer.json file, or a model
 * folder holding tokenizer.json. */
hn_status hn_tokenizer_load_model(const char *path, hn_tokenizer **out, hn_error *err);
