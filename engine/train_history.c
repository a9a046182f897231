/* trainer_state.json, train_results.json, eval_results.json and all_results.json as
 * transformers writes them (trainer_callback.py TrainerState.save_to_json, trainer_pt_utils.py
 * save_metrics, trainer.py log / _finalize_training / evaluate). The state is kept as the JSON
 * object itself, so a loaded file keeps keys Hone does not know; numbers are written as Python
 * would (an int or a float repr) by the types TrainerState gives its fields. */
#include "train_history.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "json_read.h"
#include "py_json.h"

struct hn_train_history {
    cJSON *state;        /* TrainerState's fields, log_history among them */
    cJSON *train_metrics; /* the end of training's metrics, or NULL */
    cJSON *eval_metrics;  /* the last evaluation's metrics, or NULL */
};

/* TrainerState's int fields (the rest of its numbers are floats). */
static const char *const state_int_keys[] = {
    "global_step", "max_steps", "logging_steps", "eval_steps", "save_steps",
    "train_batch_size", "num_train_epochs", "num_input_tokens_seen", "best_global_step",
};
/* TrainerState's float fields. */
static const char *const state_float_keys[] = {"epoch", "total_flos", "best_metric"};
/* Ints in a log_history entry (Trainer.log adds "step" = global_step, and
 * num_input_tokens_seen when include_num_input_tokens_seen); every other number is a float. */
static const char *const log_int_keys[] = {"step", "num_input_tokens_seen"};

static bool key_in(const char *key, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

/* TrainerState's fields with their defaults (train_batch_size None until a run sets it). */
static cJSON *default_state(void)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNullToObject(s, "best_global_step");
    cJSON_AddNullToObject(s, "best_metric");
    cJSON_AddNullToObject(s, "best_model_checkpoint");
    cJSON_AddNumberToObject(s, "epoch", 0);
    cJSON_AddNumberToObject(s, "eval_steps", 500);
    cJSON_AddNumberToObject(s, "global_step", 0);
    cJSON_AddBoolToObject(s, "is_hyper_param_search", false);
    cJSON_AddBoolToObject(s, "is_local_process_zero", true);
    cJSON_AddBoolToObject(s, "is_world_process_zero", true);
    cJSON_AddItemToObject(s, "log_history", cJSON_CreateArray());
    cJSON_AddNumberToObject(s, "logging_steps", 500);
    cJSON_AddNumberToObject(s, "max_steps", 0);
    cJSON_AddNumberToObject(s, "num_input_tokens_seen", 0);
    cJSON_AddNumberToObject(s, "num_train_epochs", 0);
    cJSON_AddNumberToObject(s, "save_steps", 500);
    cJSON_AddItemToObject(s, "stateful_callbacks", cJSON_CreateObject());
    cJSON_AddNumberToObject(s, "total_flos", 0);
    cJSON_AddNullToObject(s, "train_batch_size");
    cJSON_AddNullToObject(s, "trial_name");
    cJSON_AddNullToObject(s, "trial_params");
    return s;
}

hn_train_history *hn_train_history_new(const hn_train_history_run *run)
{
    hn_train_history *h = g_new0(hn_train_history, 1);
    h->state = default_state();
    hn_train_history_set_run(h, run);
    return h;
}

void hn_train_history_free(hn_train_history *history)
{
    if (history == NULL)
        return;
    cJSON_Delete(history->state);
    cJSON_Delete(history->train_metrics);
    cJSON_Delete(history->eval_metrics);
    g_free(history);
}

static void set_number(cJSON *object, const char *key, double value)
{
    cJSON *item = cJSON_CreateNumber(value);
    if (cJSON_HasObjectItem(object, key))
        cJSON_ReplaceItemInObjectCaseSensitive(object, key, item);
    else
        cJSON_AddItemToObject(object, key, item);
}

void hn_train_history_set_run(hn_train_history *history, const hn_train_history_run *run)
{
    cJSON *s = history->state;
    set_number(s, "max_steps", (double)run->max_steps);
    set_number(s, "num_train_epochs", (double)run->num_train_epochs);
    set_number(s, "logging_steps", (double)run->logging_steps);
    set_number(s, "eval_steps", (double)run->eval_steps);
    set_number(s, "save_steps", (double)run->save_steps);
    set_number(s, "train_batch_size", (double)run->train_batch_size);
}

void hn_train_history_set_step(hn_train_history *history, int64_t step, double epoch)
{
    set_number(history->state, "global_step", (double)step);
    set_number(history->state, "epoch", epoch);
}

int64_t hn_train_history_global_step(const hn_train_history *history)
{
    return (int64_t)cJSON_GetObjectItemCaseSensitive(history->state, "global_step")->valuedouble;
}

double hn_train_history_epoch(const hn_train_history *history)
{
    return cJSON_GetObjectItemCaseSensitive(history->state, "epoch")->valuedouble;
}

static cJSON *log_history(const hn_train_history *history)
{
    return cJSON_GetObjectItemCaseSensitive(history->state, "log_history");
}

/* The preference stages' metrics under their names, prefix before each. */
static void add_metrics(cJSON *entry, const char *prefix, bool has, const double *metrics)
{
    for (int m = 0; has && m < HN_METRIC_COUNT; m++) {
        if (isnan(metrics[m]))
            continue;
        char *key = g_strconcat(prefix, HN_TRAIN_METRIC_NAMES[m], NULL);
        cJSON_AddNumberToObject(entry, key, metrics[m]);
        g_free(key);
    }
}

void hn_train_history_add_log(hn_train_history *history, const hn_train_log *log)
{
    /* _maybe_log_save_evaluate's logs, then Trainer.log's epoch and step. */
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddNumberToObject(entry, "loss", log->loss);
    cJSON_AddNumberToObject(entry, "grad_norm", log->grad_norm);
    cJSON_AddNumberToObject(entry, "learning_rate", log->learning_rate);
    add_metrics(entry, "", log->has_metrics, log->metrics);
    cJSON_AddNumberToObject(entry, "epoch", log->epoch);
    cJSON_AddNumberToObject(entry, "step", (double)log->step);
    cJSON_AddItemToArray(log_history(history), entry);
    hn_train_history_set_step(history, log->step, log->epoch);
}

/* speed_metrics(split, start_time, num_samples, num_steps) of transformers/trainer_utils.py:
 * the runtime rounded to 4 decimals, the rates (over the unrounded runtime) to 3, no rates
 * when the runtime is 0. */
void hn_train_metrics_add_speed(cJSON *metrics, const char *split, double runtime_s,
                                double samples, double steps)
{
    char key[64];
    snprintf(key, sizeof key, "%s_runtime", split);
    cJSON_AddNumberToObject(metrics, key, hn_py_round(runtime_s, 4));
    if (runtime_s == 0)
        return;
    snprintf(key, sizeof key, "%s_samples_per_second", split);
    cJSON_AddNumberToObject(metrics, key, hn_py_round(samples / runtime_s, 3));
    snprintf(key, sizeof key, "%s_steps_per_second", split);
    cJSON_AddNumberToObject(metrics, key, hn_py_round(steps / runtime_s, 3));
}

void hn_train_history_add_eval(hn_train_history *history, const hn_train_eval *eval)
{
    /* Trainer.evaluate: evaluation_loop's eval_loss, speed_metrics with
     * num_steps = ceil(samples / eval batch), then Trainer.log adds epoch (into the metrics
     * it returns too) and the history entry gets step. */
    cJSON *metrics = cJSON_CreateObject();
    cJSON_AddNumberToObject(metrics, "eval_loss", eval->loss);
    add_metrics(metrics, "eval_", eval->has_metrics, eval->metrics);
    int64_t batch = eval->batch_size > 0 ? eval->batch_size : 1;
    hn_train_metrics_add_speed(metrics, "eval", eval->runtime_s, (double)eval->samples,
                      (double)((eval->samples + batch - 1) / batch));
    cJSON_AddNumberToObject(metrics, "epoch", eval->epoch);
    cJSON *entry = cJSON_Duplicate(metrics, true);
    cJSON_AddNumberToObject(entry, "step", (double)eval->step);
    cJSON_AddItemToArray(log_history(history), entry);
    cJSON_Delete(history->eval_metrics);
    history->eval_metrics = metrics;
}

double hn_train_flos(int64_t input_tokens, int64_t non_embedding_params)
{
    return 6.0 * (double)input_tokens * (double)non_embedding_params;
}

void hn_train_history_add_flos(hn_train_history *history, double flos)
{
    cJSON *total = cJSON_GetObjectItemCaseSensitive(history->state, "total_flos");
    cJSON_SetNumberValue(total, total->valuedouble + flos);
}

void hn_train_history_add_train_end(hn_train_history *history, const hn_train_end *end)
{
    /* Trainer._finalize_training: speed_metrics over this session's share of the schedule's
     * samples, total_flos, train_loss; Trainer.log adds epoch (to the returned metrics too)
     * and the entry gets step. */
    cJSON *metrics = cJSON_CreateObject();
    double max_steps =
        cJSON_GetObjectItemCaseSensitive(history->state, "max_steps")->valuedouble;
    hn_train_metrics_add_speed(metrics, "train", end->runtime_s,
                      end->num_train_samples * (double)end->steps_trained / fmax(max_steps, 1),
                      (double)end->steps_trained);
    cJSON_AddNumberToObject(
        metrics, "total_flos",
        cJSON_GetObjectItemCaseSensitive(history->state, "total_flos")->valuedouble);
    cJSON_AddNumberToObject(metrics, "train_loss", end->train_loss);
    cJSON_AddNumberToObject(metrics, "epoch", hn_train_history_epoch(history));
    cJSON *entry = cJSON_Duplicate(metrics, true);
    cJSON_AddNumberToObject(entry, "step", (double)hn_train_history_global_step(history));
    cJSON_AddItemToArray(log_history(history), entry);
    cJSON_Delete(history->train_metrics);
    history->train_metrics = metrics;
}

void hn_train_history_set_control(hn_train_history *history, const hn_train_control *control)
{
    /* TrainerControl.state(): {"args": {its flags}, "attributes": {}} */
    cJSON *args = cJSON_CreateObject();
    cJSON_AddBoolToObject(args, "should_epoch_stop", control->should_epoch_stop);
    cJSON_AddBoolToObject(args, "should_evaluate", control->should_evaluate);
    cJSON_AddBoolToObject(args, "should_log", control->should_log);
    cJSON_AddBoolToObject(args, "should_save", control->should_save);
    cJSON_AddBoolToObject(args, "should_training_stop", control->should_training_stop);
    cJSON *state = cJSON_CreateObject();
    cJSON_AddItemToObject(state, "args", args);
    cJSON_AddItemToObject(state, "attributes", cJSON_CreateObject());
    cJSON *callbacks = cJSON_GetObjectItemCaseSensitive(history->state, "stateful_callbacks");
    if (cJSON_HasObjectItem(callbacks, "TrainerControl"))
        cJSON_ReplaceItemInObjectCaseSensitive(callbacks, "TrainerControl", state);
    else
        cJSON_AddItemToObject(callbacks, "TrainerControl", state);
}

/* How a number is written: as Python holds it after the Trainer made it. */
typedef enum { NUMBER_INT, NUMBER_FLOAT, NUMBER_AS_PARSED } number_kind;
typedef number_kind (*number_rule)(const char *key, int depth);

static cJSON *number_text(double x, number_kind kind)
{
    if (kind == NUMBER_AS_PARSED)
        kind = x == floor(x) && fabs(x) < 9007199254740992.0 ? NUMBER_INT : NUMBER_FLOAT;
    if (kind == NUMBER_INT) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.0f", x);
        return cJSON_CreateRaw(buf);
    }
    char *repr = hn_py_float_repr(x);
    cJSON *item = cJSON_CreateRaw(repr);
    g_free(repr);
    return item;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* A copy for json.dumps(sort_keys=True): objects' keys sorted (Python compares code points,
 * as strcmp does on UTF-8), numbers as raw text by rule(key of the enclosing member). */
static cJSON *python_copy(const cJSON *item, const char *key, int depth, number_rule rule)
{
    if (cJSON_IsNumber(item))
        return number_text(item->valuedouble, key != NULL ? rule(key, depth) : NUMBER_AS_PARSED);
    if (cJSON_IsArray(item)) {
        cJSON *copy = cJSON_CreateArray();
        for (const cJSON *c = item->child; c != NULL; c = c->next)
            cJSON_AddItemToArray(copy, python_copy(c, NULL, depth + 1, rule));
        return copy;
    }
    if (cJSON_IsObject(item)) {
        int n = cJSON_GetArraySize(item), i = 0;
        cJSON **children = g_new(cJSON *, n > 0 ? n : 1);
        for (cJSON *c = item->child; c != NULL; c = c->next)
            children[i++] = c;
        qsort(children, (size_t)n, sizeof *children, compare_keys);
        cJSON *copy = cJSON_CreateObject();
        for (i = 0; i < n; i++)
            cJSON_AddItemToObject(copy, children[i]->string,
                                  python_copy(children[i], children[i]->string, depth + 1, rule));
        g_free(children);
        return copy;
    }
    return cJSON_Duplicate(item, true);
}

/* depth 1: TrainerState's fields; depth 3: a log_history entry's. */
static number_kind state_number(const char *key, int depth)
{
    if (depth == 1)
        return key_in(key, state_int_keys, G_N_ELEMENTS(state_int_keys)) ? NUMBER_INT
               : key_in(key, state_float_keys, G_N_ELEMENTS(state_float_keys)) ? NUMBER_FLOAT
                                                                             : NUMBER_AS_PARSED;
    if (depth == 3)
        return key_in(key, log_int_keys, G_N_ELEMENTS(log_int_keys)) ? NUMBER_INT : NUMBER_FLOAT;
    return NUMBER_AS_PARSED;
}

/* Metrics are floats (runtimes, rates, losses, total_flos); a number Hone does not know keeps
 * the form it parses as. */
static number_kind metrics_number(const char *key, int depth)
{
    static const char *const float_keys[] = {
        "epoch", "total_flos", "train_loss", "train_runtime", "train_samples_per_second",
        "train_steps_per_second", "eval_loss", "eval_runtime", "eval_samples_per_second",
        "eval_steps_per_second", "eval_perplexity", "eval_model_preparation_time",
        "predict_runtime", "predict_samples_per_second", "predict_steps_per_second",
        "predict_model_preparation_time", "predict_bleu-4", "predict_rouge-1", "predict_rouge-2",
        "predict_rouge-l",
    };
    return depth == 1 && key_in(key, float_keys, G_N_ELEMENTS(float_keys)) ? NUMBER_FLOAT
                                                                         : NUMBER_AS_PARSED;
}

static hn_status write_json(const cJSON *object, number_rule rule, int indent, bool newline,
                            const char *dir, const char *name, hn_error *err)
{
    cJSON *copy = python_copy(object, NULL, 0, rule);
    char *text = hn_py_json_dumps_indent(copy, indent);
    cJSON_Delete(copy);
    char *full = newline ? g_strconcat(text, "\n", NULL) : g_strdup(text);
    char *path = g_build_filename(dir, name, NULL);
    hn_status s = hn_atomic_write_all(path, full, strlen(full), err);
    g_free(path);
    g_free(full);
    g_free(text);
    return s;
}

hn_status hn_train_history_write_state(const hn_train_history *history, const char *dir,
                                       hn_error *err)
{
    return write_json(history->state, state_number, 2, true, dir, "trainer_state.json", err);
}

/* save_metrics(split, metrics): {split}_results.json, then all_results.json updated with
 * them (the metrics replace keys already there). */
hn_status hn_train_metrics_save(const cJSON *metrics, const char *dir, const char *split,
                               hn_error *err)
{
    char *name = g_strdup_printf("%s_results.json", split);
    hn_status s = write_json(metrics, metrics_number, 4, false, dir, name, err);
    g_free(name);
    HN_TRY(s);
    char *all_path = g_build_filename(dir, "all_results.json", NULL);
    cJSON *all = NULL;
    if (g_file_test(all_path, G_FILE_TEST_EXISTS))
        s = hn_json_load_object(all_path, &all, err);
    else
        all = cJSON_CreateObject();
    g_free(all_path);
    HN_TRY(s);
    for (const cJSON *m = metrics->child; m != NULL; m = m->next) {
        cJSON *value = cJSON_Duplicate(m, true);
        if (cJSON_HasObjectItem(all, m->string))
            cJSON_ReplaceItemInObjectCaseSensitive(all, m->string, value);
        else
            cJSON_AddItemToObject(all, m->string, value);
    }
    s = write_json(all, metrics_number, 4, false, dir, "all_results.json", err);
    cJSON_Delete(all);
    return s;
}

hn_status hn_train_history_write_train_results(const hn_train_history *history, const char *dir,
                                               hn_error *err)
{
    if (history->train_metrics == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s/train_results.json: training has not ended "
                       "(hn_train_history_add_train_end was not called)", dir);
    return hn_train_metrics_save(history->train_metrics, dir, "train", err);
}

hn_status hn_train_history_write_eval_results(const hn_train_history *history, const char *dir,
                                              bool perplexity, hn_error *err)
{
    if (history->eval_metrics == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s/eval_results.json: no evaluation was run", dir);
    cJSON *metrics = cJSON_Duplicate(history->eval_metrics, true);
    if (perplexity) {
        /* LLaMA-Factory's pt workflow: math.exp(eval_loss), inf on overflow. */
        double loss = cJSON_GetObjectItemCaseSensitive(metrics, "eval_loss")->valuedouble;
        cJSON_AddNumberToObject(metrics, "eval_perplexity", exp(loss));
    }
    hn_status s = hn_train_metrics_save(metrics, dir, "eval", err);
    cJSON_Delete(metrics);
    return s;
}

size_t hn_train_history_series(const hn_train_history *history, const char *key,
                               double **steps, double **values)
{
    const cJSON *entries = log_history(history);
    size_t n = 0, cap = (size_t)cJSON_GetArraySize(entries);
    *steps = NULL;
    *values = NULL;
    for (const cJSON *e = entries->child; e != NULL; e = e->next) {
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(e, key);
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(e, "step");
        if (!cJSON_IsNumber(value) || !cJSON_IsNumber(step))
            continue;
        if (*steps == NULL) {
            *steps = g_new(double, cap);
            *values = g_new(double, cap);
        }
        (*steps)[n] = step->valuedouble;
        (*values)[n] = value->valuedouble;
        n++;
    }
    return n;
}

/* TrainerState's numeric fields as a loaded file must hold them: those a resumed run needs
 * are required; None is allowed where Python's default is None. */
typedef struct {
    const char *key;
    bool is_int, required, nullable;
} state_field;

static const state_field state_fields[] = {
    {"global_step", true, true, false},       {"max_steps", true, true, false},
    {"epoch", false, true, false},            {"logging_steps", true, false, false},
    {"eval_steps", true, false, false},       {"save_steps", true, false, false},
    {"num_train_epochs", true, false, false}, {"num_input_tokens_seen", true, false, false},
    {"train_batch_size", true, false, true},  {"best_global_step", true, false, true},
    {"total_flos", false, false, false},      {"best_metric", false, false, true},
};

static hn_status check_field(const char *path, const cJSON *state, const state_field *field,
                             hn_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(state, field->key);
    if (item == NULL)
        return field->required ? hn_fail(err, HN_ERR_FORMAT, "%s: TrainerState field \"%s\" is "
                                         "missing", path, field->key)
                               : HN_OK;
    if (cJSON_IsNull(item) && field->nullable)
        return HN_OK;
    if (cJSON_IsNumber(item) && (!field->is_int || item->valuedouble == floor(item->valuedouble)))
        return HN_OK;
    return hn_fail(err, HN_ERR_FORMAT, "%s: \"%s\" should be %s%s, found %s", path, field->key,
                   field->is_int ? "an integer" : "a number", field->nullable ? " or null" : "",
                   cJSON_IsNumber(item) ? "a fraction" : hn_json_kind(item));
}

static hn_status check_state(const char *path, const cJSON *state, hn_error *err)
{
    for (size_t i = 0; i < G_N_ELEMENTS(state_fields); i++)
        HN_TRY(check_field(path, state, &state_fields[i], err));
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(state, "log_history");
    if (!cJSON_IsArray(entries))
        return hn_fail(err, HN_ERR_FORMAT, "%s: \"log_history\" should be an array, found %s",
                       path, entries == NULL ? "nothing" : hn_json_kind(entries));
    int index = 0;
    for (const cJSON *e = entries->child; e != NULL; e = e->next, index++) {
        if (!cJSON_IsObject(e))
            return hn_fail(err, HN_ERR_FORMAT, "%s: log_history[%d] should be an object, "
                           "found %s", path, index, hn_json_kind(e));
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(e, "step");
        if (!cJSON_IsNumber(step) || step->valuedouble != floor(step->valuedouble))
            return hn_fail(err, HN_ERR_FORMAT, "%s: log_history[%d] should have an integer "
                           "\"step\"", path, index);
    }
    const cJSON *callbacks = cJSON_GetObjectItemCaseSensitive(state, "stateful_callbacks");
    if (callbacks != NULL && !cJSON_IsObject(callbacks))
        return hn_fail(err, HN_ERR_FORMAT, "%s: \"stateful_callbacks\" should be an object, "
                       "found %s", path, hn_json_kind(callbacks));
    return HN_OK;
}

hn_status hn_train_history_load(const char *path, hn_train_history **out, hn_error *err)
{
    *out = NULL;
    cJSON *state = NULL;
    HN_TRY(hn_json_load_object(path, &state, err));
    hn_status s = check_state(path, state, err);
    if (s != HN_OK) {
        cJSON_Delete(state);
        return s;
    }
    /* Fields a file leaves out take TrainerState's defaults, so that writing it back gives
     * every field (TrainerState(**json) would fill them in the same way). */
    cJSON *defaults = default_state();
    for (cJSON *d = defaults->child; d != NULL; d = d->next)
        if (!cJSON_HasObjectItem(state, d->string))
            cJSON_AddItemToObject(state, d->string, cJSON_Duplicate(d, true));
    cJSON_Delete(defaults);
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(state, "stateful_callbacks")))
        cJSON_ReplaceItemInObjectCaseSensitive(state, "stateful_callbacks", cJSON_CreateObject());
    hn_train_history *h = g_new0(hn_train_history, 1);
    h->state = state;
    *out = h;
    return HN_OK;
}
