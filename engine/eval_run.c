/* hone eval (see eval_run.h): setup (model, tokenizer, template, examples), then the eval loss
 * (eval_loss.h) and the predictions (eval_predict.h, generate.h, metric_similarity.h), each
 * phase's metrics as transformers' Trainer reports them for a run without training: evaluate
 * logs "epoch": 0 (TrainerState's start; predict logs nothing), {split}_model_preparation_time (here the seconds opening the model
 * took; transformers times accelerator.prepare_model), speed_metrics with
 * ceil(examples / per_device_eval_batch_size) steps. */
#include "eval_run.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "atomic_file.h"
#include "backend_choice.h"
#include "chat_prompt.h"
#include "eval_loss.h"
#include "eval_predict.h"
#include "generate.h"
#include "gguf_tokenizer.h"
#include "metric_similarity.h"
#include "model_decode.h"
#include "model_dir.h"
#include "model_open.h"
#include "py_json.h"
#include "train_data.h"
#include "train_history.h"

typedef struct {
    const hn_train_args *args;
    const hn_eval_callbacks *callbacks;
    const char *datasets;
    hn_model_dir *dir;
    hn_tokenizer *tok;
    hn_chat_template named;
    hn_chat_jinja *jinja;
    hn_sft_template which;
    int32_t pad_id;
    hn_model *model;
    double preparation_s;
    double phase_start;
} eval_run;

static double now(void)
{
    return (double)g_get_monotonic_time() / 1e6;
}

static void note(const eval_run *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(const eval_run *r, const char *fmt, ...)
{
    if (r->callbacks == NULL || r->callbacks->on_note == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r->callbacks->on_note(r->callbacks->user, line);
    g_free(line);
}

static void progress(const eval_run *r, const char *phase, size_t done, size_t total,
                     double tokens)
{
    if (r->callbacks == NULL || r->callbacks->on_progress == NULL)
        return;
    double seconds = now() - r->phase_start;
    r->callbacks->on_progress(r->callbacks->user, phase, done, total,
                              seconds > 0 ? tokens / seconds : 0);
}

/* The examples of r->datasets with options o; at least one, or an error naming them. */
static hn_status load_examples(const eval_run *r, const hn_train_data_options *o,
                               hn_sft_data *data, hn_error *err)
{
    hn_train_data_info info = {0};
    hn_status s = hn_train_data_load(o, r->tok, &r->which, data, &info, err);
    if (s == HN_OK && info.warning != NULL)
        note(r, "%s", info.warning);
    hn_train_data_info_clear(&info);
    HN_TRY(s);
    if (data->n_examples == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "dataset %s: no usable examples (%zu rows dropped%s%s)",
                       r->datasets, data->n_dropped, data->first_dropped ? ": " : "",
                       data->first_dropped ? data->first_dropped : "");
    return HN_OK;
}

static void add_common_metrics(const eval_run *r, cJSON *metrics, const char *split, size_t n,
                               double runtime_s)
{
    char key[64];
    snprintf(key, sizeof key, "%s_model_preparation_time", split);
    cJSON_AddNumberToObject(metrics, key, hn_py_round(r->preparation_s, 4));
    int64_t bs = r->args->per_device_eval_batch_size;
    hn_train_metrics_add_speed(metrics, split, runtime_s, (double)n,
                               (double)(((int64_t)n + bs - 1) / bs));
}

/* Whether the caller asked the run to stop. */
static bool cancelled(const eval_run *r)
{
    return r->callbacks != NULL && r->callbacks->cancel != NULL && atomic_load(r->callbacks->cancel);
}

static bool eval_progress(void *user, size_t done, size_t total, int64_t tokens)
{
    progress(user, "eval", done, total, (double)tokens);
    return !cancelled(user);
}

static hn_status evaluate(eval_run *r, const hn_sft_data *data, hn_error *err)
{
    r->phase_start = now();
    double loss = NAN;
    HN_TRY(hn_eval_loss(r->model, data, NULL, data->n_examples,
                        r->args->per_device_eval_batch_size, r->pad_id,
                        eval_progress, r, &loss, err));
    double runtime = now() - r->phase_start;
    if (isnan(loss))
        return hn_fail(err, HN_ERR_ARGUMENT, "dataset %s: no example has a token to score "
                       "(every label is masked)", r->datasets);
    cJSON *metrics = cJSON_CreateObject();
    cJSON_AddNumberToObject(metrics, "eval_loss", loss);
    /* LLaMA-Factory's pt workflow adds the perplexity (math.exp(eval_loss)); Hone always does */
    cJSON_AddNumberToObject(metrics, "eval_perplexity", exp(loss));
    cJSON_AddRawToObject(metrics, "epoch", "0"); /* an int, as Trainer.log writes it */
    add_common_metrics(r, metrics, "eval", data->n_examples, runtime);
    hn_status s = hn_train_metrics_save(metrics, r->args->output_dir, "eval", err);
    cJSON_Delete(metrics);
    HN_TRY(s);
    note(r, "eval_loss %.4f, perplexity %.4f over %zu examples (%.1f s)", loss, exp(loss),
         data->n_examples, runtime);
    return HN_OK;
}

/* The options generate gets from the keys (temperature 0: greedy, as hone chat). */
static hn_generate_options generate_options(const hn_train_args *args)
{
    hn_generate_options o;
    hn_generate_options_init(&o);
    o.sampling = (hn_sampling){
        .do_sample = args->do_sample && args->temperature > 0, .temperature = args->temperature,
        .top_k = args->top_k, .top_p = args->top_p,
        .repetition_penalty = args->repetition_penalty,
    };
    o.max_new_tokens = args->max_new_tokens;
    o.seed = (uint64_t)args->seed;
    return o;
}

static hn_status decode(const eval_run *r, const int32_t *ids, size_t n, bool skip_special,
                        char **text, hn_error *err)
{
    return hn_tokenizer_decode(r->tok, ids, n, skip_special, text, err);
}

/* One example: generate, its line of generated_predictions.jsonl and its scores. */
static hn_status predict_one(eval_run *r, hn_kv_decoder *decoder,
                             const hn_generate_options *options, const hn_predict_example *e,
                             size_t index, GString *lines, hn_similarity *score,
                             int64_t *generated, hn_error *err)
{
    hn_generate_options o = *options;
    o.seed = options->seed + index; /* each example its own draws, whatever ran before */
    hn_generate_result result;
    const atomic_bool *cancel = r->callbacks != NULL ? r->callbacks->cancel : NULL;
    HN_TRY(hn_generate(decoder, r->tok, e->prompt, (int)e->n_prompt, &o, NULL, NULL, cancel,
                       &result, err));
    if (cancelled(r)) {
        hn_generate_result_clear(&result);
        return hn_fail(err, HN_ERR_STOPPED, "prediction stopped at example %zu", index + 1);
    }
    *generated += result.n_ids;
    bool skip = r->args->skip_special_tokens;
    char *prompt = NULL, *predict = NULL, *label = NULL, *predict_plain = NULL,
         *label_plain = NULL;
    /* save_predictions: the prompt with its special tokens, the rest as skip_special_tokens
     * says; ComputeSimilarity always decodes without special tokens */
    hn_status s = decode(r, e->prompt, e->n_prompt, false, &prompt, err);
    if (s == HN_OK)
        s = decode(r, result.ids, (size_t)result.n_ids, skip, &predict, err);
    if (s == HN_OK)
        s = decode(r, e->label, e->n_label, skip, &label, err);
    if (s == HN_OK)
        s = decode(r, result.ids, (size_t)result.n_ids, true, &predict_plain, err);
    if (s == HN_OK)
        s = decode(r, e->label, e->n_label, true, &label_plain, err);
    if (s == HN_OK)
        s = hn_similarity_score(predict_plain, label_plain, score, err);
    if (s == HN_OK) {
        cJSON *line = cJSON_CreateObject();
        cJSON_AddStringToObject(line, "prompt", prompt);
        cJSON_AddStringToObject(line, "predict", predict);
        cJSON_AddStringToObject(line, "label", label);
        char *text = hn_py_json_dumps_line(line);
        g_string_append(lines, text);
        g_string_append_c(lines, '\n');
        g_free(text);
        cJSON_Delete(line);
    } else {
        hn_error_prefix(err, "example %zu", index);
    }
    g_free(prompt);
    g_free(predict);
    g_free(label);
    g_free(predict_plain);
    g_free(label_plain);
    hn_generate_result_clear(&result);
    return s;
}

static hn_status predict(eval_run *r, const hn_predict_data *data, hn_error *err)
{
    const hn_train_args *args = r->args;
    hn_chat_prompt *prompt = NULL;
    hn_kv_decoder *decoder = NULL;
    HN_TRY(hn_chat_prompt_new(r->tok, args->template_name, &r->dir->generation, &prompt, err));
    hn_status s = hn_kv_decoder_new(r->model, &decoder, err);
    hn_generate_options options = generate_options(args);
    options.stop_ids = hn_chat_prompt_stop_ids(prompt, &options.n_stop);
    hn_similarity *scores = g_new(hn_similarity, MAX(data->n, 1));
    GString *lines = g_string_new(NULL);
    int64_t generated = 0;
    r->phase_start = now();
    for (size_t i = 0; i < data->n && s == HN_OK; i++) {
        s = predict_one(r, decoder, &options, &data->examples[i], i, lines, &scores[i],
                        &generated, err);
        if (s == HN_OK)
            progress(r, "predict", i + 1, data->n, (double)generated);
    }
    double runtime = now() - r->phase_start;
    if (s == HN_OK) {
        hn_similarity mean = hn_similarity_mean(scores, data->n);
        cJSON *metrics = cJSON_CreateObject();
        cJSON_AddNumberToObject(metrics, "predict_bleu-4", mean.bleu4);
        cJSON_AddNumberToObject(metrics, "predict_rouge-1", mean.rouge1);
        cJSON_AddNumberToObject(metrics, "predict_rouge-2", mean.rouge2);
        cJSON_AddNumberToObject(metrics, "predict_rouge-l", mean.rougel);
        add_common_metrics(r, metrics, "predict", data->n, runtime);
        s = hn_train_metrics_save(metrics, args->output_dir, "predict", err);
        cJSON_Delete(metrics);
        if (s == HN_OK) {
            char *path = g_build_filename(args->output_dir, "generated_predictions.jsonl", NULL);
            s = hn_atomic_write_all(path, lines->str, lines->len, err);
            g_free(path);
        }
        if (s == HN_OK)
            note(r, "predict_bleu-4 %.4f, predict_rouge-1 %.4f, predict_rouge-2 %.4f, "
                 "predict_rouge-l %.4f over %zu examples (%.1f s, %" G_GINT64_FORMAT
                 " tokens generated)", mean.bleu4, mean.rouge1, mean.rouge2, mean.rougel,
                 data->n, runtime, generated);
    }
    g_string_free(lines, TRUE);
    g_free(scores);
    hn_kv_decoder_free(decoder);
    hn_chat_prompt_free(prompt);
    return s;
}

/* The loss examples (the run's own encoding, packing included) and the prediction examples
 * (only the last answer labeled, unpacked, uncut; then cut as upstream's predict does). */
static hn_status load_data(eval_run *r, hn_sft_data *loss_data, hn_predict_data *predict_data,
                           hn_error *err)
{
    const hn_train_args *args = r->args;
    hn_train_data_options o;
    if (args->do_eval) {
        hn_train_data_options_from_args(&o, args, r->datasets);
        HN_TRY(load_examples(r, &o, loss_data, err));
        note(r, "eval: %zu examples, %" G_GINT64_FORMAT " tokens from %s", loss_data->n_examples,
             loss_data->n_tokens, r->datasets);
    }
    if (args->do_predict) {
        hn_train_data_options_from_args(&o, args, r->datasets);
        o.packing = 0;
        o.neat_packing = false;
        o.encode.mask_history = true;
        o.encode.train_on_prompt = false;
        o.encode.cutoff_len = HN_PREDICT_ENCODE_CUTOFF;
        hn_sft_data masked = {0};
        HN_TRY(load_examples(r, &o, &masked, err));
        hn_status s = hn_predict_data_from_sft(&masked, args->cutoff_len, predict_data, err);
        hn_sft_data_clear(&masked);
        HN_TRY(s);
        note(r, "predict: %zu examples from %s", predict_data->n, r->datasets);
    }
    return HN_OK;
}

static hn_status run(eval_run *r, hn_error *err)
{
    const hn_train_args *args = r->args;
    /* The backend first, so that a refused one leaves nothing written. */
    hn_backend_request request;
    hn_backend_request_from_train_args(&request, args);
    hn_backend_choice choice;
    HN_TRY(hn_backend_choose(&request, &choice, err));
    note(r, "%s", choice.line);
    HN_TRY(hn_model_dir_open(args->model_name_or_path, &r->dir, err));
    HN_TRY(hn_tokenizer_load_model(args->model_name_or_path, &r->tok, err));
    const hn_tokenizer_config *tc = hn_tokenizer_get_config(r->tok);
    r->pad_id = tc->pad_id >= 0 ? tc->pad_id : tc->eos_id >= 0 ? tc->eos_id : 0;
    HN_TRY(hn_sft_template_open(args->template_name, r->tok, &r->named, &r->jinja, &r->which,
                                err));
    hn_sft_data loss_data = {0};
    hn_predict_data predict_data = {0};
    hn_status s = load_data(r, &loss_data, &predict_data, err);
    if (s == HN_OK && g_mkdir_with_parents(args->output_dir, 0755) != 0)
        s = hn_fail(err, HN_ERR_IO, "output_dir %s: cannot create it: %s", args->output_dir,
                    g_strerror(errno));
    if (s == HN_OK) {
        double start = now();
        s = hn_model_open_inference(r->dir, args->adapter_name_or_path, choice.backend,
                                    &r->model, err);
        r->preparation_s = now() - start;
    }
    if (s == HN_OK && args->decode_activations != NULL) { /* the generation of do_predict */
        hn_decode_activations mode = HN_DECODE_FP32;
        s = hn_decode_activations_parse(args->decode_activations, "eval", &mode, err);
        if (s == HN_OK && !hn_model_set_decode_activations(r->model, mode))
            note(r, "warning: " HN_DECODE_INT8_NO_EFFECT);
    }
    if (s == HN_OK && args->do_eval)
        s = evaluate(r, &loss_data, err);
    if (s == HN_OK && args->do_predict)
        s = predict(r, &predict_data, err);
    hn_sft_data_clear(&loss_data);
    hn_predict_data_clear(&predict_data);
    return s;
}

hn_status hn_eval_run(const hn_train_args *args, const hn_eval_callbacks *callbacks,
                      hn_error *err)
{
    HN_TRY(hn_train_args_check_eval(args, err));
    eval_run r = {.args = args, .callbacks = callbacks,
                  .datasets = args->eval_dataset != NULL ? args->eval_dataset : args->dataset};
    hn_status s = run(&r, err);
    hn_model_free(r.model);
    hn_chat_jinja_free(r.jinja);
    hn_tokenizer_free(r.tok);
    hn_model_dir_close(r.dir);
    return s;
}
