/* llama.cpp's tokenizer.ggml.pre names, found as its converter finds them (gguf_pre_names.c). */
#pragma once

/* The text llama.cpp's converter encodes (UTF-8, with the tokenizer's special tokens added). */
extern const char hn_llama_cpp_check_text[];

/* The name for the sha256 (64 lowercase hex digits) of str(ids) of that text, or NULL. */
const char *hn_llama_cpp_pre_name(const char *sha256_hex);
