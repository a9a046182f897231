/* known_models.c: the top bar's known model names (see known_models.h). The rows are
 * LLaMA-Factory's (extras/constants.py: register_model_group's names, DownloadSource.DEFAULT
 * folders and DEFAULT_TEMPLATE) for the architectures hf_config.c opens, without the
 * quantized (GPTQ, AWQ) and mixture-of-experts ones; test_known_models checks them against
 * upstream's tables. Upstream's template where the engine has it (chat_template.c); SmolLM2's
 * "smollm2" is not built in, so its instruct models use their own chat template ("": auto). */
#include "known_models.h"

#include "i18n.h"
#include <string.h>

static const HoneKnownModel MODELS[] = {
    { "Llama-2-7B", "meta-llama/Llama-2-7b-hf", "default" },
    { "Llama-2-13B", "meta-llama/Llama-2-13b-hf", "default" },
    { "Llama-2-70B", "meta-llama/Llama-2-70b-hf", "default" },
    { "Llama-2-7B-Chat", "meta-llama/Llama-2-7b-chat-hf", "llama2" },
    { "Llama-2-13B-Chat", "meta-llama/Llama-2-13b-chat-hf", "llama2" },
    { "Llama-2-70B-Chat", "meta-llama/Llama-2-70b-chat-hf", "llama2" },
    { "Llama-3-8B", "meta-llama/Meta-Llama-3-8B", "default" },
    { "Llama-3-70B", "meta-llama/Meta-Llama-3-70B", "default" },
    { "Llama-3-8B-Instruct", "meta-llama/Meta-Llama-3-8B-Instruct", "llama3" },
    { "Llama-3-70B-Instruct", "meta-llama/Meta-Llama-3-70B-Instruct", "llama3" },
    { "Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B", "default" },
    { "Llama-3.1-70B", "meta-llama/Meta-Llama-3.1-70B", "default" },
    { "Llama-3.1-405B", "meta-llama/Meta-Llama-3.1-405B", "default" },
    { "Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3.1-8B-Instruct", "llama3" },
    { "Llama-3.1-70B-Instruct", "meta-llama/Meta-Llama-3.1-70B-Instruct", "llama3" },
    { "Llama-3.1-405B-Instruct", "meta-llama/Meta-Llama-3.1-405B-Instruct", "llama3" },
    { "Llama-3.2-1B", "meta-llama/Llama-3.2-1B", "default" },
    { "Llama-3.2-3B", "meta-llama/Llama-3.2-3B", "default" },
    { "Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-1B-Instruct", "llama3" },
    { "Llama-3.2-3B-Instruct", "meta-llama/Llama-3.2-3B-Instruct", "llama3" },
    { "Llama-3.3-70B-Instruct", "meta-llama/Llama-3.3-70B-Instruct", "llama3" },
    { "Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1", "default" },
    { "Mistral-7B-v0.2", "alpindale/Mistral-7B-v0.2-hf", "default" },
    { "Mistral-7B-v0.3", "mistralai/Mistral-7B-v0.3", "default" },
    { "Mistral-7B-Instruct-v0.1", "mistralai/Mistral-7B-Instruct-v0.1", "mistral" },
    { "Mistral-7B-Instruct-v0.2", "mistralai/Mistral-7B-Instruct-v0.2", "mistral" },
    { "Mistral-7B-Instruct-v0.3", "mistralai/Mistral-7B-Instruct-v0.3", "mistral" },
    { "Qwen2-0.5B", "Qwen/Qwen2-0.5B", "default" },
    { "Qwen2-1.5B", "Qwen/Qwen2-1.5B", "default" },
    { "Qwen2-7B", "Qwen/Qwen2-7B", "default" },
    { "Qwen2-72B", "Qwen/Qwen2-72B", "default" },
    { "Qwen2-0.5B-Instruct", "Qwen/Qwen2-0.5B-Instruct", "qwen" },
    { "Qwen2-1.5B-Instruct", "Qwen/Qwen2-1.5B-Instruct", "qwen" },
    { "Qwen2-7B-Instruct", "Qwen/Qwen2-7B-Instruct", "qwen" },
    { "Qwen2-72B-Instruct", "Qwen/Qwen2-72B-Instruct", "qwen" },
    { "Qwen2.5-0.5B", "Qwen/Qwen2.5-0.5B", "default" },
    { "Qwen2.5-1.5B", "Qwen/Qwen2.5-1.5B", "default" },
    { "Qwen2.5-3B", "Qwen/Qwen2.5-3B", "default" },
    { "Qwen2.5-7B", "Qwen/Qwen2.5-7B", "default" },
    { "Qwen2.5-14B", "Qwen/Qwen2.5-14B", "default" },
    { "Qwen2.5-32B", "Qwen/Qwen2.5-32B", "default" },
    { "Qwen2.5-72B", "Qwen/Qwen2.5-72B", "default" },
    { "Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct", "qwen" },
    { "Qwen2.5-1.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct", "qwen" },
    { "Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-3B-Instruct", "qwen" },
    { "Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "qwen" },
    { "Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-14B-Instruct", "qwen" },
    { "Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-32B-Instruct", "qwen" },
    { "Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "qwen" },
    { "Qwen2.5-Coder-0.5B", "Qwen/Qwen2.5-Coder-0.5B", "default" },
    { "Qwen2.5-Coder-1.5B", "Qwen/Qwen2.5-Coder-1.5B", "default" },
    { "Qwen2.5-Coder-3B", "Qwen/Qwen2.5-Coder-3B", "default" },
    { "Qwen2.5-Coder-7B", "Qwen/Qwen2.5-Coder-7B", "default" },
    { "Qwen2.5-Coder-14B", "Qwen/Qwen2.5-Coder-14B", "default" },
    { "Qwen2.5-Coder-32B", "Qwen/Qwen2.5-Coder-32B", "default" },
    { "Qwen2.5-Coder-0.5B-Instruct", "Qwen/Qwen2.5-Coder-0.5B-Instruct", "qwen" },
    { "Qwen2.5-Coder-1.5B-Instruct", "Qwen/Qwen2.5-Coder-1.5B-Instruct", "qwen" },
    { "Qwen2.5-Coder-3B-Instruct", "Qwen/Qwen2.5-Coder-3B-Instruct", "qwen" },
    { "Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-Coder-7B-Instruct", "qwen" },
    { "Qwen2.5-Coder-14B-Instruct", "Qwen/Qwen2.5-Coder-14B-Instruct", "qwen" },
    { "Qwen2.5-Coder-32B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct", "qwen" },
    { "Qwen3-0.6B-Base", "Qwen/Qwen3-0.6B-Base", "default" },
    { "Qwen3-1.7B-Base", "Qwen/Qwen3-1.7B-Base", "default" },
    { "Qwen3-4B-Base", "Qwen/Qwen3-4B-Base", "default" },
    { "Qwen3-8B-Base", "Qwen/Qwen3-8B-Base", "default" },
    { "Qwen3-14B-Base", "Qwen/Qwen3-14B-Base", "default" },
    { "Qwen3-0.6B-Thinking", "Qwen/Qwen3-0.6B", "qwen3" },
    { "Qwen3-1.7B-Thinking", "Qwen/Qwen3-1.7B", "qwen3" },
    { "Qwen3-4B-Thinking", "Qwen/Qwen3-4B", "qwen3" },
    { "Qwen3-4B-Thinking-2507", "Qwen/Qwen3-4B-Thinking-2507", "qwen3" },
    { "Qwen3-8B-Thinking", "Qwen/Qwen3-8B", "qwen3" },
    { "Qwen3-14B-Thinking", "Qwen/Qwen3-14B", "qwen3" },
    { "Qwen3-32B-Thinking", "Qwen/Qwen3-32B", "qwen3" },
    { "Qwen3-4B-Instruct-2507", "Qwen/Qwen3-4B-Instruct-2507", "qwen3_nothink" },
    { "SmolLM2-135M", "HuggingFaceTB/SmolLM2-135M", "default" },
    { "SmolLM2-360M", "HuggingFaceTB/SmolLM2-360M", "default" },
    { "SmolLM2-1.7B", "HuggingFaceTB/SmolLM2-1.7B", "default" },
    { "SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct", "" },
    { "SmolLM2-360M-Instruct", "HuggingFaceTB/SmolLM2-360M-Instruct", "" },
    { "SmolLM2-1.7B-Instruct", "HuggingFaceTB/SmolLM2-1.7B-Instruct", "" },
};

const HoneKnownModel *
hone_known_models (size_t *n)
{
  *n = G_N_ELEMENTS (MODELS);
  return MODELS;
}

const HoneKnownModel *
hone_known_model (const char *name)
{
  for (size_t i = 0; name != NULL && i < G_N_ELEMENTS (MODELS); i++)
    if (strcmp (MODELS[i].name, name) == 0)
      return &MODELS[i];
  return NULL;
}

char **
hone_known_model_names (void)
{
  char **names = g_new0 (char *, G_N_ELEMENTS (MODELS) + 2);
  for (size_t i = 0; i < G_N_ELEMENTS (MODELS); i++)
    names[i] = g_strdup (MODELS[i].name);
  names[G_N_ELEMENTS (MODELS)] = g_strdup (HONE_CUSTOM_MODEL);
  return names;
}

const char *
hone_known_model_template (const char *name)
{
  const HoneKnownModel *m = hone_known_model (name);
  return m != NULL ? m->template : NULL;
}

bool
hone_known_model_is_base (const char *name)
{
  if (hone_known_model (name) == NULL)
    return false;
  static const char *const tuned[] = { "-Chat", "-Distill", "-Instruct", "-Thinking" };
  for (size_t i = 0; i < G_N_ELEMENTS (tuned); i++)
    if (strstr (name, tuned[i]) != NULL)
      return false;
  return true;
}

const char *
hone_known_model_from_path (const char *path)
{
  char *trimmed = g_strdup (path != NULL ? path : "");
  size_t len = strlen (trimmed);
  while (len > 1 && trimmed[len - 1] == G_DIR_SEPARATOR)
    trimmed[--len] = '\0';
  char *base = g_path_get_basename (trimmed);
  char *lower = g_ascii_strdown (base, -1);
  if (g_str_has_suffix (lower, ".gguf"))
    lower[strlen (lower) - strlen (".gguf")] = '\0';
  const char *found = HONE_CUSTOM_MODEL;
  size_t best = 0;
  for (size_t i = 0; i < G_N_ELEMENTS (MODELS); i++) {
    const char *slash = strrchr (MODELS[i].hub_id, '/');
    char *hub = g_ascii_strdown (slash != NULL ? slash + 1 : MODELS[i].hub_id, -1);
    size_t n = strlen (hub);
    /* the whole name, or the name then a GGUF quantization suffix (".Q4_1", "-Q4_K_M") */
    bool match = strncmp (lower, hub, n) == 0 &&
                 (lower[n] == '\0' || lower[n] == '.' || lower[n] == '-');
    if (match && n > best) {
      best = n;
      found = MODELS[i].name;
    }
    g_free (hub);
  }
  g_free (lower);
  g_free (base);
  g_free (trimmed);
  return found;
}

bool
hone_template_is_chat (const char *template_name)
{
  if (template_name == NULL || template_name[0] == '\0')
    return false;
  for (size_t i = 0; i < G_N_ELEMENTS (MODELS); i++)
    if (!hone_known_model_is_base (MODELS[i].name) &&
        strcmp (MODELS[i].template, template_name) == 0)
      return true;
  return false;
}

char *
hone_template_warning (const char *model_name, const char *template_name)
{
  const HoneKnownModel *m = hone_known_model (model_name);
  if (m == NULL || !hone_template_is_chat (template_name))
    return NULL;
  if (hone_known_model_is_base (model_name))
    /* upstream's check_template warns "You are using a non-instruct model, please fine-tune
     * it first." (webui/locales.py warn_no_instruct) */
    return g_strdup_printf (_("%s is a base model: it has not learnt the %s chat format, so "
                              "fine-tune it before chatting with it"),
                            model_name, template_name);
  if (m->template[0] != '\0' && strcmp (m->template, template_name) != 0)
    return g_strdup_printf (_("%s was tuned on the %s template, not %s: its answers may "
                              "ramble or repeat"),
                            model_name, m->template, template_name);
  return NULL;
}
