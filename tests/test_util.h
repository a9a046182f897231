/* Helpers shared by the test programs: scratch folders, files, running hone and the
 * reference Python scripts. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>

#include "model.h"

/* A new empty folder under $TMPDIR; remove it with test_remove_tree. */
char *test_make_tmpdir(void);
void test_remove_tree(const char *path);
/* Writes a file (aborts the test on failure). */
void test_write_file(const char *path, const void *data, size_t size);
void test_write_text(const char *path, const char *text);
/* Reads a whole file; aborts the test on failure. */
GBytes *test_read_file(const char *path);

/* Makes a scratch folder and runs `SCRIPT write MODELS_DIR FOLDER` from tests/reference there
 * (the fetched models must be present); returns the folder. */
char *test_write_reference(const char *script);
/* Calls check(dir, entry, index) for every entry of the JSON array in dir/name. */
void test_each_case(const char *dir, const char *name,
                    void (*check)(const char *dir, const cJSON *entry, int index));

/* Parses a JSON file (any top-level value); aborts the test with the parser's message. */
cJSON *test_load_json(const char *path);

/* Fills buf with n pseudo-random bytes from a fixed seed (deterministic tests). */
void test_random_bytes(void *buf, size_t n, guint32 seed);

/* The reference venv's python (HONE_TEST_PYTHON, set by meson). Fails the test with a message
 * saying how to create the venv when it is missing. */
const char *test_reference_python(void);

/* Runs argv, captures stdout/stderr; returns the exit status (or -1 when it could not start). */
int test_run(char **argv, char **out, char **err);
/* Runs a script from tests/reference with the reference python; fails the test with the
 * script's output when it exits non-zero. */
void test_run_reference(const char *script, const char *arg1, const char *arg2);
/* The same with any number of arguments (NULL-terminated). */
void test_run_reference_args(const char *script, const char *const *args);

/* Asserts haystack contains needle, printing both when not. */
#define test_assert_contains(haystack, needle)                                             \
    do {                                                                                   \
        const char *h_ = (haystack), *n_ = (needle);                                       \
        if (h_ == NULL || strstr(h_, n_) == NULL)                                          \
            g_error("%s:%d: expected \"%s\" in \"%s\"", __FILE__, __LINE__, n_,          \
                    h_ != NULL ? h_ : "(null)");                                           \
    } while (0)

/* Writes a tiny random Llama model (config.json, weights in BF16 split into shards of at
 * most max_shard_bytes, a generation_config.json and a tokenizer_config.json) into dir.
 * Returns the number of parameters written. */
gint64 test_make_tiny_llama(const char *dir, guint64 max_shard_bytes);

/* The path of a file fetched by tools/fetch-models.sh (in $HONE_MODELS), e.g.
 * "SmolLM2-135M-Instruct.Q4_1.gguf". Fails the test, saying how to fetch it, when missing. */
char *test_model_file(const char *name);

/* PEFT's name of a LoRA tensor to Hone's parameter name:
 * base_model.model.X.lora_A.default.weight (or without .default) -> X.lora_A.weight,
 * base_model.model.X.lora_magnitude_vector.default.weight (or without .default.weight)
 * -> X.lora_magnitude_vector */
char *test_peft_to_hone_name(const char *peft_name);
/* Reads DIR/adapter (as PEFT saved it) and copies it into the model's LoRA parameters with
 * hn_model_load_adapter; aborts the test on an error. */
void test_load_peft_adapter(hn_model *model, const char *dir);

/* The backend the model tests build on: HONE_TEST_BACKEND (cpu when unset; cuda asks
 * hn_cuda_backend with fp32 GEMMs, tf32 or bf16 with TF32 or bf16 GEMMs, through
 * hn_backend_choose) so that the GPU check (bench/gpu_check.sh) runs the same comparisons
 * with transformers on the CUDA backend. Fails the test with the reason when the backend
 * cannot run. */
const hn_backend *test_backend(void);

/* max |got - want| over max |want| (the difference itself when want is all zero); NaN or Inf
 * anywhere gives +inf, so it never passes a tolerance. */
double test_relative_error(const float *got, const float *want, size_t n);
