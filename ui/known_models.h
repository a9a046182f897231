/* The top bar's model names: LLaMA-Factory's known models (extras/constants.py,
 * register_model_group) of the architectures the engine runs (Llama, Qwen2, Qwen3, Mistral),
 * each with its Hugging Face folder and its default template, plus "Custom"; and the
 * template warnings of upstream's Web UI. No widgets here: unit-tested on its own. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* The model name that stands for any other model (upstream's "Custom"). */
#define HONE_CUSTOM_MODEL "Custom"

typedef struct {
    const char *name;     /* upstream's model name, e.g. "Qwen2.5-0.5B-Instruct" */
    const char *hub_id;   /* its Hugging Face folder, e.g. "Qwen/Qwen2.5-0.5B-Instruct" */
    const char *template; /* the engine's template for it; "" for the model's own (auto) */
} HoneKnownModel;

/* The table, in upstream's order. */
const HoneKnownModel *hone_known_models(size_t *n);
/* The entry of a name, or NULL (Custom, or unknown). */
const HoneKnownModel *hone_known_model(const char *name);
/* The names then "Custom", NULL-terminated (g_strfreev). */
char **hone_known_model_names(void);
/* The template a model name picks: the table's; NULL for Custom or an unknown name (the
 * template is left as it is). */
const char *hone_known_model_template(const char *name);
/* A base model: a known name without upstream's -Chat, -Distill, -Instruct or -Thinking
 * (register_model_group's test for giving a model its template). */
bool hone_known_model_is_base(const char *name);
/* The known model a model path is (its folder or .gguf file name, against each hub folder's
 * name, ignoring case; a GGUF's quantization suffix such as ".Q4_1" or "-Q4_K_M" allowed),
 * or HONE_CUSTOM_MODEL. */
const char *hone_known_model_from_path(const char *path);
/* A chat template: the template of some known instruct model (so "default", "empty",
 * "alpaca" and "vicuna" are not, nor "" for auto). */
bool hone_template_is_chat(const char *template_name);
/* What the top bar warns about a model name with a template, or NULL when nothing (g_free):
 * a base model given a chat template (it has not learnt that format), and a known instruct
 * model given another chat template than its own (answers that ramble or repeat). */
char *hone_template_warning(const char *model_name, const char *template_name);
