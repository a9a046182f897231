/* The table of training keys (LLaMA-Factory's names, types, defaults, ranges and choices) and
 * setting one key from text; the file readers are in train_args_file.c. Defaults are the
 * ones LLaMA-Factory's and transformers' argument classes give a key missing from a YAML
 * file (llamafactory/hparams/ modules, transformers' TrainingArguments). */
#include "train_args.h"

#include "compute_type.h"
#include "config_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_BOOL, K_INT, K_INT64, K_DOUBLE, K_STRING, K_CHOICE, K_LIST } key_kind;

typedef struct {
    const char *name;
    key_kind kind;
    size_t offset;
    const char *fallback;  /* the default as text; NULL: none (NULL string, 0) */
    double min, max;       /* numbers: the valid range (inclusive) */
    const char *choices;   /* K_CHOICE: "a|b|c" */
} key_spec;

#define F(field) offsetof(hn_train_args, field)
#define ANY -INFINITY, INFINITY

static const key_spec KEYS[] = {
    {"model_name_or_path", K_STRING, F(model_name_or_path), NULL, ANY, NULL},
    {"adapter_name_or_path", K_LIST, F(adapter_name_or_path), NULL, ANY, NULL},
    {"template", K_STRING, F(template_name), NULL, ANY, NULL},
    {"rope_scaling", K_CHOICE, F(rope_scaling), NULL, ANY, "linear|dynamic|yarn|llama3"},
    {"backend", K_CHOICE, F(backend), "auto", ANY, "auto|cpu|cuda"},
    {"quantization_bit", K_INT, F(quantization_bit), NULL, 0, 8, NULL},
    {"stage", K_CHOICE, F(stage), "sft", ANY, "pt|sft|rm|ppo|dpo|kto"},
    {"do_train", K_BOOL, F(do_train), "false", ANY, NULL},
    {"finetuning_type", K_CHOICE, F(finetuning_type), "lora", ANY, "full|freeze|lora"},
    {"lora_rank", K_INT, F(lora_rank), "8", 1, 65536, NULL},
    {"lora_alpha", K_DOUBLE, F(lora_alpha), NULL, 0, 1e9, NULL},
    {"lora_dropout", K_DOUBLE, F(lora_dropout), "0", 0, 0.999, NULL},
    {"lora_target", K_LIST, F(lora_target), "all", ANY, NULL},
    {"additional_target", K_LIST, F(additional_target), NULL, ANY, NULL},
    {"use_rslora", K_BOOL, F(use_rslora), "false", ANY, NULL},
    {"use_dora", K_BOOL, F(use_dora), "false", ANY, NULL},
    {"pissa_init", K_BOOL, F(pissa_init), "false", ANY, NULL},
    {"pissa_iter", K_INT, F(pissa_iter), "16", -1, 1000, NULL},
    {"pissa_convert", K_BOOL, F(pissa_convert), "false", ANY, NULL},
    {"create_new_adapter", K_BOOL, F(create_new_adapter), "false", ANY, NULL},
    {"loraplus_lr_ratio", K_DOUBLE, F(loraplus_lr_ratio), NULL, 0, 1e6, NULL},
    {"freeze_trainable_layers", K_INT, F(freeze_trainable_layers), "2", -100000, 100000, NULL},
    {"freeze_trainable_modules", K_LIST, F(freeze_trainable_modules), "all", ANY, NULL},
    {"freeze_extra_modules", K_LIST, F(freeze_extra_modules), NULL, ANY, NULL},
    {"disable_gradient_checkpointing", K_BOOL, F(disable_gradient_checkpointing), "false", ANY,
     NULL},
    /* finetuning_args.py's RLHF arguments */
    {"pref_beta", K_DOUBLE, F(pref_beta), "0.1", ANY, NULL},
    {"pref_ftx", K_DOUBLE, F(pref_ftx), "0", 0, 1e6, NULL},
    {"pref_loss", K_CHOICE, F(pref_loss), "sigmoid", ANY,
     "sigmoid|hinge|ipo|kto_pair|orpo|simpo"},
    {"dpo_label_smoothing", K_DOUBLE, F(dpo_label_smoothing), "0", 0, 0.5, NULL},
    {"simpo_gamma", K_DOUBLE, F(simpo_gamma), "0.5", ANY, NULL},
    {"kto_chosen_weight", K_DOUBLE, F(kto_chosen_weight), "1.0", 0, 1e6, NULL},
    {"kto_rejected_weight", K_DOUBLE, F(kto_rejected_weight), "1.0", 0, 1e6, NULL},
    {"ref_model", K_STRING, F(ref_model), NULL, ANY, NULL},
    {"disable_shuffling", K_BOOL, F(disable_shuffling), "false", ANY, NULL},
    {"dataset", K_LIST, F(dataset), NULL, ANY, NULL},
    {"eval_dataset", K_LIST, F(eval_dataset), NULL, ANY, NULL},
    {"dataset_dir", K_STRING, F(dataset_dir), "data", ANY, NULL},
    {"cutoff_len", K_INT, F(cutoff_len), "2048", 1, 1 << 24, NULL},
    {"max_samples", K_INT64, F(max_samples), NULL, 1, 1e15, NULL},
    {"val_size", K_DOUBLE, F(val_size), "0", 0, 1e15, NULL},
    {"packing", K_BOOL, F(packing), NULL, ANY, NULL},
    {"neat_packing", K_BOOL, F(neat_packing), "false", ANY, NULL},
    {"train_on_prompt", K_BOOL, F(train_on_prompt), "false", ANY, NULL},
    {"mask_history", K_BOOL, F(mask_history), "false", ANY, NULL},
    {"overwrite_cache", K_BOOL, F(overwrite_cache), "false", ANY, NULL},
    {"preprocessing_batch_size", K_INT, F(preprocessing_batch_size), "1000", 1, 1 << 30, NULL},
    {"preprocessing_num_workers", K_INT, F(preprocessing_num_workers), NULL, 1, 1 << 16, NULL},
    {"identity_name", K_STRING, F(identity_name), NULL, ANY, NULL},
    {"identity_author", K_STRING, F(identity_author), NULL, ANY, NULL},
    {"enable_thinking", K_BOOL, F(enable_thinking), "true", ANY, NULL},
    {"output_dir", K_STRING, F(output_dir), NULL, ANY, NULL},
    {"overwrite_output_dir", K_BOOL, F(overwrite_output_dir), "false", ANY, NULL},
    {"per_device_train_batch_size", K_INT, F(per_device_train_batch_size), "8", 1, 1 << 20, NULL},
    {"per_device_eval_batch_size", K_INT, F(per_device_eval_batch_size), "8", 1, 1 << 20, NULL},
    {"gradient_accumulation_steps", K_INT, F(gradient_accumulation_steps), "1", 1, 1 << 20, NULL},
    {"learning_rate", K_DOUBLE, F(learning_rate), "5e-5", 0, 10, NULL},
    {"num_train_epochs", K_DOUBLE, F(num_train_epochs), "3.0", 0, 1e9, NULL},
    {"max_steps", K_INT64, F(max_steps), "-1", -1, 1e15, NULL},
    {"lr_scheduler_type", K_CHOICE, F(lr_scheduler_type), "linear", ANY,
     "linear|cosine|cosine_with_restarts|polynomial|constant|constant_with_warmup|inverse_sqrt"},
    {"warmup_ratio", K_DOUBLE, F(warmup_ratio), "0", 0, 1, NULL},
    {"warmup_steps", K_DOUBLE, F(warmup_steps), "0", 0, 1e15, NULL},
    {"weight_decay", K_DOUBLE, F(weight_decay), "0", 0, 1e3, NULL},
    {"adam_beta1", K_DOUBLE, F(adam_beta1), "0.9", 0, 0.999999, NULL},
    {"adam_beta2", K_DOUBLE, F(adam_beta2), "0.999", 0, 0.999999999, NULL},
    {"adam_epsilon", K_DOUBLE, F(adam_epsilon), "1e-8", 1e-30, 1, NULL},
    {"max_grad_norm", K_DOUBLE, F(max_grad_norm), "1.0", 0, 1e9, NULL},
    {"logging_steps", K_INT64, F(logging_steps), "500", 1, 1e15, NULL},
    {"save_steps", K_INT64, F(save_steps), "500", 1, 1e15, NULL},
    {"save_total_limit", K_INT64, F(save_total_limit), NULL, 1, 1e15, NULL},
    {"eval_strategy", K_CHOICE, F(eval_strategy), "no", ANY, "no|steps|epoch"},
    {"eval_steps", K_INT64, F(eval_steps), NULL, 1, 1e15, NULL},
    {"seed", K_INT64, F(seed), "42", 0, 4294967295.0, NULL},
    {"bf16", K_BOOL, F(bf16), "false", ANY, NULL},
    {"fp16", K_BOOL, F(fp16), "false", ANY, NULL},
    {"pure_bf16", K_BOOL, F(pure_bf16), "false", ANY, NULL},
    {"tf32", K_BOOL, F(tf32), NULL, ANY, NULL},
    {"plot_loss", K_BOOL, F(plot_loss), "false", ANY, NULL},
    {"resume_from_checkpoint", K_STRING, F(resume_from_checkpoint), NULL, ANY, NULL},
    {"do_eval", K_BOOL, F(do_eval), "false", ANY, NULL},
    {"do_predict", K_BOOL, F(do_predict), "false", ANY, NULL},
    {"predict_with_generate", K_BOOL, F(predict_with_generate), "false", ANY, NULL},
    /* generating_args.py; ranges as chat_args.c (transformers' processors' checks) */
    {"do_sample", K_BOOL, F(do_sample), "true", ANY, NULL},
    {"temperature", K_DOUBLE, F(temperature), "0.95", 0, 1e6, NULL},
    {"top_p", K_DOUBLE, F(top_p), "0.7", 0, 1, NULL},
    {"top_k", K_INT, F(top_k), "50", 0, INT32_MAX, NULL},
    {"num_beams", K_INT, F(num_beams), "1", 1, 1 << 16, NULL},
    {"max_new_tokens", K_INT, F(max_new_tokens), "1024", 1, 1 << 24, NULL},
    {"repetition_penalty", K_DOUBLE, F(repetition_penalty), "1.0", 1e-6, 1e6, NULL},
    {"skip_special_tokens", K_BOOL, F(skip_special_tokens), "true", ANY, NULL},
    /* Hone's own: how generation multiplies GGUF block weights (model.h) */
    {"decode_activations", K_CHOICE, F(decode_activations), NULL, ANY, "fp32|int8"},
};

static void *field(hn_train_args *args, const key_spec *k)
{
    return (char *)args + k->offset;
}

static const void *field_of(const hn_train_args *args, const key_spec *k)
{
    return (const char *)args + k->offset;
}

static const key_spec *find_key(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(KEYS); i++)
        if (strcmp(KEYS[i].name, name) == 0)
            return &KEYS[i];
    return NULL;
}

bool hn_config_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                  "off", "0"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(text, yes[i]) == 0)
            return *out = true, true;
        if (g_ascii_strcasecmp(text, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

bool hn_config_number(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = g_ascii_strtod(text, &end);
    while (end != NULL && g_ascii_isspace(*end))
        end++;
    if (end == text || *end != '\0' || errno != 0 || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* "null", "~", "none" and "" leave an optional key unset (YAML's null, LLaMA-Factory's None). */
bool hn_config_is_null(const char *text)
{
    return text[0] == '\0' || strcmp(text, "~") == 0 || g_ascii_strcasecmp(text, "null") == 0 ||
           g_ascii_strcasecmp(text, "none") == 0;
}

static bool is_path_key(const char *key)
{
    static const char *const keys[] = {"model_name_or_path", "dataset_dir", "output_dir",
                                       "resume_from_checkpoint"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

static bool has_choice(const char *choices, const char *value)
{
    char **list = g_strsplit(choices, "|", -1);
    bool found = g_strv_contains((const char *const *)list, value);
    g_strfreev(list);
    return found;
}

/* "a, b ,c" -> "a,b,c" */
static char *normalize_list(const char *text)
{
    char **items = g_strsplit(text, ",", -1);
    for (char **item = items; *item != NULL; item++)
        g_strstrip(*item);
    char *joined = g_strjoinv(",", items);
    g_strfreev(items);
    return joined;
}

static hn_status set_number(hn_train_args *args, const key_spec *k, const char *value,
                            const char *where, hn_error *err)
{
    double v = 0;
    bool integer = k->kind != K_DOUBLE;
    if (!hn_config_number(value, &v) || (integer && v != floor(v)))
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s must be %s, found \"%s\"", where, k->name,
                       integer ? "a whole number" : "a number", value);
    if (v < k->min || v > k->max)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s must be between %g and %g, found %s",
                       where, k->name, k->min, k->max, value);
    if (k->kind == K_INT)
        *(int *)field(args, k) = (int)v;
    else if (k->kind == K_INT64)
        *(int64_t *)field(args, k) = (int64_t)v;
    else
        *(double *)field(args, k) = v;
    return HN_OK;
}

/* Whether text is UTF-8 of YAML's printable characters (YAML 1.1, 5.1: tab, line breaks,
 * 0x20-0x7E, 0x85, 0xA0-0xD7FF, 0xE000-0xFFFD, 0x10000 and up), so training_args.yaml can
 * hold it; *bad gets the first other character. */
static bool yaml_printable(const char *text, gunichar *bad)
{
    *bad = 0xFFFD;
    if (!g_utf8_validate(text, -1, NULL))
        return false;
    for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        bool ok = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0x7E) || c == 0x85 ||
                  (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000;
        if (!ok) {
            *bad = c;
            return false;
        }
    }
    return true;
}

hn_status hn_train_args_set(hn_train_args *args, const char *key, const char *value,
                            const char *where, hn_error *err)
{
    gunichar bad;
    if (value != NULL && !yaml_printable(value, &bad))
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s: expected text without control characters "
                       "or invalid UTF-8 (found U+%04X)", where, key, (unsigned)bad);
    const key_spec *k = find_key(key);
    if (k == NULL)
        return HN_ERR_UNSUPPORTED;
    char **text = (char **)field(args, k);
    switch (k->kind) {
    case K_BOOL: {
        bool b = false;
        if (!hn_config_bool(value, &b))
            return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s must be true or false, found \"%s\"",
                           where, key, value);
        *(bool *)field(args, k) = b;
        if (k->offset == F(packing))
            args->packing_set = true;
        return HN_OK;
    }
    case K_INT:
    case K_INT64:
    case K_DOUBLE:
        return set_number(args, k, value, where, err);
    case K_CHOICE:
        if (!hn_config_is_null(value) && !has_choice(k->choices, value)) {
            char **list = g_strsplit(k->choices, "|", -1);
            char *choices = g_strjoinv(", ", list);
            hn_status s = hn_fail(err, HN_ERR_ARGUMENT, "%s: %s must be one of %s, found \"%s\"",
                                  where, key, choices, value);
            g_free(choices);
            g_strfreev(list);
            return s;
        }
        break;
    case K_STRING:
    case K_LIST:
        break;
    }
    /* a key with a default cannot be emptied */
    if (hn_config_is_null(value) && k->fallback != NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: %s needs a value (its default is %s)", where,
                       key, k->fallback);
    g_free(*text);
    if (hn_config_is_null(value))
        *text = NULL;
    else if (k->kind == K_LIST)
        *text = normalize_list(value);
    else if (g_str_has_prefix(value, "~/") && is_path_key(key)) /* as a shell would */
        *text = g_build_filename(g_get_home_dir(), value + 2, NULL);
    else
        *text = g_strdup(value);
    return HN_OK;
}

void hn_train_args_init(hn_train_args *args)
{
    *args = (hn_train_args){0};
    for (size_t i = 0; i < G_N_ELEMENTS(KEYS); i++) {
        hn_error err = {0};
        if (KEYS[i].fallback != NULL)
            g_assert(hn_train_args_set(args, KEYS[i].name, KEYS[i].fallback, "default", &err) ==
                     HN_OK);
    }
    args->packing_set = false;
}

void hn_train_args_clear(hn_train_args *args)
{
    for (size_t i = 0; i < G_N_ELEMENTS(KEYS); i++) {
        const key_kind kind = KEYS[i].kind;
        if (kind == K_STRING || kind == K_CHOICE || kind == K_LIST)
            g_free(*(char **)field(args, &KEYS[i]));
    }
    *args = (hn_train_args){0};
}

static bool in(const char *value, const char *choices)
{
    return value != NULL && has_choice(choices, value);
}

/* Checks hone train and hone eval share. */
static hn_status check_common(const hn_train_args *args, const char *output_for, hn_error *err)
{
    if (args->model_name_or_path == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "model_name_or_path is required (a model folder "
                       "or a .gguf file)");
    if (args->output_dir == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "output_dir is required (where %s go)",
                       output_for);
    if (args->quantization_bit != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "quantization_bit %d (QLoRA) is not built yet",
                       args->quantization_bit);
    if (args->rope_scaling != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "rope_scaling %s: changing a model's RoPE "
                       "scaling is not built yet (the model's own config.json is used)",
                       args->rope_scaling);
    HN_TRY(hn_compute_type_check(args->bf16, args->fp16, args->pure_bf16, err));
    if (args->mask_history && args->train_on_prompt)
        return hn_fail(err, HN_ERR_ARGUMENT, "mask_history and train_on_prompt cannot both be "
                       "on: one trains only the last answer, the other every token");
    return HN_OK;
}

/* The preference stages' keys, as LLaMA-Factory's FinetuningArguments checks them, plus what
 * it leaves to fail later. */
static hn_status check_preference(const hn_train_args *args, hn_error *err)
{
    bool dpo = strcmp(args->stage, "dpo") == 0, kto = strcmp(args->stage, "kto") == 0;
    if ((dpo || kto) && !(args->pref_beta > 0))
        return hn_fail(err, HN_ERR_ARGUMENT, "pref_beta %g: expected a number above 0 (the "
                       "strength of the preference loss, 0.1 by default)", args->pref_beta);
    if (dpo && strcmp(args->pref_loss, "kto_pair") == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "pref_loss kto_pair: the paired KTO loss is gone "
                       "from TRL (LLaMA-Factory's run fails on it); use stage kto with a KTO "
                       "dataset instead");
    if (dpo && strcmp(args->pref_loss, "sigmoid") != 0 && args->dpo_label_smoothing > 1e-6)
        return hn_fail(err, HN_ERR_ARGUMENT, "dpo_label_smoothing %g is only valid with "
                       "pref_loss sigmoid, not %s (as LLaMA-Factory)", args->dpo_label_smoothing,
                       args->pref_loss);
    return HN_OK;
}

hn_status hn_train_args_check_eval(const hn_train_args *args, hn_error *err)
{
    HN_TRY(check_common(args, "eval_results.json, predict_results.json and the predictions",
                        err));
    if (!in(args->stage, "pt|sft"))
        return hn_fail(err, HN_ERR_UNSUPPORTED, "stage %s: hone eval evaluates stages pt and "
                       "sft; a %s run evaluates during training (val_size or eval_dataset)",
                       args->stage, args->stage);
    if (!args->do_eval && !args->do_predict)
        return hn_fail(err, HN_ERR_ARGUMENT, "neither do_eval nor do_predict is true: hone eval "
                       "computes the eval loss (do_eval: true) and/or predictions (do_predict: "
                       "true with predict_with_generate: true)");
    if (args->do_predict && !args->predict_with_generate)
        return hn_fail(err, HN_ERR_ARGUMENT, "do_predict needs predict_with_generate: true (as "
                       "LLaMA-Factory: \"Please enable `predict_with_generate` to save model "
                       "predictions.\")");
    if (args->predict_with_generate && strcmp(args->stage, "sft") != 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "predict_with_generate is for stage sft, not %s (as "
                       "LLaMA-Factory)", args->stage);
    if (args->dataset == NULL && args->eval_dataset == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "eval_dataset (or dataset) is required: the names "
                       "of the datasets to evaluate, from %s/dataset_info.json",
                       args->dataset_dir);
    if (args->val_size > 1e-6)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "val_size %g: hone eval does not split a "
                       "training dataset; name the data to evaluate in eval_dataset",
                       args->val_size);
    if (args->num_beams != 1)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "num_beams %d: beam search is not built yet "
                       "(greedy or sampled generation: num_beams 1)", args->num_beams);
    return HN_OK;
}

hn_status hn_train_args_check(const hn_train_args *args, hn_error *err)
{
    HN_TRY(check_common(args, "the adapter or model, checkpoints and logs", err));
    if (strcmp(args->stage, "ppo") == 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "stage ppo is not built yet (pt, sft, rm, dpo "
                       "and kto are)");
    HN_TRY(check_preference(args, err));
    if (!args->do_train)
        return hn_fail(err, HN_ERR_ARGUMENT, "do_train is false: hone train trains (add "
                       "do_train: true; evaluation is hone eval)");
    if (args->dataset == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "dataset is required (names from %s/"
                       "dataset_info.json)", args->dataset_dir);
    if (strcmp(args->eval_strategy, "no") != 0 && args->val_size == 0 &&
        args->eval_dataset == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "eval_strategy %s needs held-out data: set "
                       "val_size or eval_dataset", args->eval_strategy);
    if (args->eval_dataset != NULL && args->val_size > 1e-6)
        return hn_fail(err, HN_ERR_ARGUMENT, "val_size and eval_dataset cannot both be set (as in "
                       "LLaMA-Factory): hold out part of dataset, or name another one");
    if ((args->pissa_init || args->use_dora || args->use_rslora || args->loraplus_lr_ratio > 0) &&
        strcmp(args->finetuning_type, "lora") != 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "pissa_init, use_dora, use_rslora and "
                       "loraplus_lr_ratio apply to finetuning_type lora, not %s",
                       args->finetuning_type);
    return HN_OK;
}

/* The value of a key as YAML text (strings quoted) or plain text, or NULL when unset. */
static char *value_text(const hn_train_args *args, const key_spec *k, bool quote)
{
    switch (k->kind) {
    case K_BOOL:
        if (k->offset == F(packing) && !args->packing_set)
            return NULL;
        /* transformers' tf32 defaults to None (torch's own setting: no TF32 matmuls) */
        if (k->offset == F(tf32) && !args->tf32)
            return NULL;
        return g_strdup(*(const bool *)field_of(args, k) ? "true" : "false");
    case K_INT:
        return g_strdup_printf("%d", *(const int *)field_of(args, k));
    case K_INT64:
        return g_strdup_printf("%" G_GINT64_FORMAT, *(const int64_t *)field_of(args, k));
    case K_DOUBLE: {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        double v = *(const double *)field_of(args, k);
        if (!quote && v == floor(v) && fabs(v) < 1e15) /* for people: 46440, not 4.644e+04 */
            return g_strdup_printf("%.0f", v);
        /* the shortest text that reads back as v (0.2, not 0.20000000000000001) */
        g_ascii_dtostr(buf, sizeof buf, v);
        for (int digits = 1; digits < 17; digits++) {
            char format[8];
            g_snprintf(format, sizeof format, "%%.%dg", digits);
            g_ascii_formatd(buf, sizeof buf, format, v);
            if (g_ascii_strtod(buf, NULL) == v)
                break;
        }
        char *e = strchr(buf, 'e');
        if (quote && e != NULL && strchr(buf, '.') == NULL) /* YAML 1.1 (PyYAML) reads 5e-05 as
                                                               a string: 5.0e-05 */
            return g_strdup_printf("%.*s.0%s", (int)(e - buf), buf, e);
        return g_strdup(buf);
    }
    case K_STRING:
    case K_CHOICE:
    case K_LIST: {
        const char *s = *(char *const *)field_of(args, k);
        if (s == NULL)
            return NULL;
        if (!quote)
            return g_strdup(s);
        cJSON *str = cJSON_CreateString(s); /* a JSON string is a valid YAML scalar */
        char *quoted = cJSON_PrintUnformatted(str);
        char *out = g_strdup(quoted);
        cJSON_free(quoted);
        cJSON_Delete(str);
        return out;
    }
    }
    return NULL;
}

/* value_text, with NULL also for a number that stands for "not given". */
static char *set_value_text(const hn_train_args *args, const key_spec *k, bool quote)
{
    char *value = value_text(args, k, quote);
    bool unset_number = k->fallback == NULL && value != NULL &&
                        (k->kind == K_INT || k->kind == K_INT64 || k->kind == K_DOUBLE) &&
                        strcmp(value, "0") == 0;
    if (unset_number) { /* 0 stands for "not given" (None upstream) */
        g_free(value);
        return NULL;
    }
    return value;
}

char *hn_train_args_get(const hn_train_args *args, const char *key)
{
    const key_spec *k = find_key(key);
    return k != NULL ? set_value_text(args, k, false) : NULL;
}

bool hn_train_args_key_info(const char *key, hn_train_arg_info *info)
{
    const key_spec *k = find_key(key);
    if (k == NULL)
        return false;
    static const hn_train_arg_kind kinds[] = {
        [K_BOOL] = HN_ARG_BOOL,     [K_INT] = HN_ARG_INT,       [K_INT64] = HN_ARG_INT,
        [K_DOUBLE] = HN_ARG_NUMBER, [K_STRING] = HN_ARG_STRING, [K_CHOICE] = HN_ARG_CHOICE,
        [K_LIST] = HN_ARG_LIST,
    };
    *info = (hn_train_arg_info){kinds[k->kind], k->min, k->max, k->choices, k->fallback};
    return true;
}

char *hn_train_args_to_yaml(const hn_train_args *args)
{
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(KEYS); i++) {
        char *value = set_value_text(args, &KEYS[i], true);
        if (value != NULL)
            g_string_append_printf(out, "%s: %s\n", KEYS[i].name, value);
        g_free(value);
    }
    return g_string_free(out, FALSE);
}
