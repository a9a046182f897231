/* The GGUF file of an export (export.h): the merged model under llama.cpp's tensor names and
 * metadata, as llama.cpp's convert_hf_to_gguf.py writes it. */
#pragma once

#include "export.h"

/* Writes path from the model (with n_adapters adapters merged) in f16, bf16 or q8_0; cancel
 * (may be NULL) is read before each tensor (hn_export_check_cancel), and a cancelled or failed
 * file is not left behind (atomic). */
hn_status hn_export_gguf(const hn_model_dir *dir, const hn_peft_adapter *adapters,
                         size_t n_adapters,
                         hn_export_gguf_type type, const char *path,
                         hn_export_progress progress, void *user, const atomic_bool *cancel,
                         hn_error *err);
/* Whether the GGUF's tokenizer metadata can be made (run before anything is written). */
hn_status hn_export_gguf_check(const hn_model_dir *dir, hn_error *err);
