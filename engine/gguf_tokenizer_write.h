/* The tokenizer.* metadata of a GGUF made from a Hugging Face model folder, as llama.cpp's
 * convert_hf_to_gguf.py writes it (gguf_tokenizer_write.c). */
#pragma once

#include "gguf_write.h"

/* Adds the keys for folder's tokenizer.json (+ tokenizer_config.json, config.json,
 * chat_template.jinja) with vocab_size token ids, for a GGUF of architecture arch ("llama",
 * "qwen2", ...). Byte-level BPE only; other tokenizers, and pre-tokenizers llama.cpp cannot
 * name, are errors that say so. */
hn_status hn_gguf_add_folder_tokenizer(hn_gguf_writer *w, const char *folder, const char *arch,
                                       int64_t vocab_size, hn_error *err);
