/* The model against transformers and PEFT (tests/reference/model_ref.py): tiny random models of
 * each family and RoPE scaling, bf16 weights, packed rows and LoRA adapters (DoRA too, with its
 * initial magnitudes; LoRA dropout with the masks Hone draws); logits, loss and every
 * gradient. Tolerances (fp32 on both sides): max |Hone - reference| over max |reference|
 * at most 1e-4 for logits and the loss, 1e-3 for each gradient tensor. Also: freeze and
 * recomputation give the same gradients for what trains. HONE_TEST_BACKEND=cuda runs it all on
 * the CUDA backend with fp32 GEMMs, under the same tolerances (bench/gpu_check.sh). */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"
#include "test_util.h"

#define LOGIT_TOLERANCE 1e-4
#define GRAD_TOLERANCE 1e-3

static char *reference_dir;

static const hn_st_tensor *expect_tensor(const hn_st_file *file, const char *name)
{
    const hn_st_tensor *t = hn_st_find(file, name);
    if (t == NULL)
        g_error("%s: no tensor %s", hn_st_path(file), name);
    return t;
}

static float *tensor_f32(const hn_st_tensor *t)
{
    float *values = g_new(float, t->numel);
    hn_convert_to_f32(values, t->data, t->dtype, (size_t)t->numel);
    return values;
}

static int32_t *tensor_i32(const hn_st_tensor *t)
{
    g_assert_cmpint(t->dtype, ==, HN_DTYPE_I32);
    int32_t *values = g_new(int32_t, t->numel);
    memcpy(values, t->data, (size_t)t->numel * sizeof(int32_t));
    return values;
}

typedef struct {
    char *dir;
    hn_model_dir *model_dir;
    hn_st_file *expected;
    int32_t *ids, *labels, *positions, *doc_start;
    hn_batch batch;
} test_case;

static void case_open(test_case *c, const char *name)
{
    hn_error err = {0};
    c->dir = g_build_filename(reference_dir, name, NULL);
    char *model = g_build_filename(c->dir, "model", NULL);
    char *expected = g_build_filename(c->dir, "expected.safetensors", NULL);
    if (hn_model_dir_open(model, &c->model_dir, &err) != HN_OK ||
        hn_st_open(expected, &c->expected, &err) != HN_OK)
        g_error("%s: %s", name, err.message);
    const hn_st_tensor *ids = expect_tensor(c->expected, "input_ids");
    c->ids = tensor_i32(ids);
    c->labels = tensor_i32(expect_tensor(c->expected, "labels"));
    c->positions = tensor_i32(expect_tensor(c->expected, "position_ids"));
    const hn_st_tensor *doc = hn_st_find(c->expected, "doc_start");
    c->doc_start = doc != NULL ? tensor_i32(doc) : NULL;
    c->batch = (hn_batch){c->ids, c->labels, c->positions, c->doc_start, (int)ids->shape[0],
                          (int)ids->shape[1]};
    g_free(model);
    g_free(expected);
}

static void case_close(test_case *c)
{
    hn_st_close(c->expected);
    hn_model_dir_close(c->model_dir);
    g_free(c->ids);
    g_free(c->labels);
    g_free(c->positions);
    g_free(c->doc_start);
    g_free(c->dir);
}

/* Forward, loss, logits and backward; checks against the reference. Returns the largest
 * gradient error. `only` (may be NULL) restricts the gradient check to trained parameters
 * (freeze): the reference lists every parameter. */
static double run_and_check(const char *name, test_case *c, hn_model *model, bool subset)
{
    hn_error err = {0};
    double loss_sum = 0;
    int64_t n_targets = 0;
    if (hn_model_forward(model, &c->batch, &loss_sum, &n_targets, &err) != HN_OK)
        g_error("%s: %s", name, err.message);
    float loss = (float)(loss_sum / (double)n_targets);
    float *loss_tensor = tensor_f32(expect_tensor(c->expected, "loss"));
    float want_loss = loss_tensor[0];
    g_free(loss_tensor);
    double loss_error = fabs(loss - want_loss) / fabs(want_loss);
    const hn_st_tensor *logits_t = expect_tensor(c->expected, "logits");
    float *logits = g_new(float, logits_t->numel), *want_logits = tensor_f32(logits_t);
    g_assert_cmpint(hn_model_logits(model, logits, &err), ==, HN_OK);
    double logit_error = test_relative_error(logits, want_logits, (size_t)logits_t->numel);
    g_test_message("%s: loss %.7f (transformers %.7f, error %.2g), logits error %.2g", name, loss,
                   want_loss, loss_error, logit_error);
    if (!(loss_error <= LOGIT_TOLERANCE) || !(logit_error <= LOGIT_TOLERANCE))
        g_error("%s: loss or logits differ from transformers beyond %g", name, LOGIT_TOLERANCE);
    g_free(logits);
    g_free(want_logits);

    g_assert_cmpint(hn_model_backward(model, 1.0f / (float)n_targets, &err), ==, HN_OK);
    double worst = 0;
    size_t compared = 0;
    for (size_t i = 0; i < hn_st_count(c->expected); i++) {
        const hn_st_tensor *t = hn_st_get(c->expected, i);
        if (!g_str_has_prefix(t->name, "grad."))
            continue;
        char *param = test_peft_to_hone_name(t->name + 5);
        ptrdiff_t index = hn_model_param_find(model, param);
        if (index < 0)
            g_error("%s: reference gradient %s has no parameter %s", name, t->name, param);
        hn_param_info info;
        hn_model_param_info(model, (size_t)index, &info);
        if (!info.trained) {
            if (!subset)
                g_error("%s: %s trains in the reference but not in Hone", name, param);
            g_free(param);
            continue;
        }
        float *got = g_new(float, info.numel), *want = tensor_f32(t);
        g_assert_cmpint(hn_model_grad_read(model, (size_t)index, got, &err), ==, HN_OK);
        double e = test_relative_error(got, want, info.numel);
        if (!(e <= GRAD_TOLERANCE))
            g_error("%s: gradient of %s differs from the reference: relative error %.3g", name,
                    param, e);
        worst = fmax(worst, e);
        compared++;
        g_free(got);
        g_free(want);
        g_free(param);
    }
    size_t trained = 0;
    for (size_t i = 0; i < hn_model_param_count(model); i++) {
        hn_param_info info;
        hn_model_param_info(model, i, &info);
        trained += info.trained;
    }
    g_assert_cmpuint(compared, ==, trained); /* every trained parameter was checked */
    g_test_message("%s: %zu gradients, worst relative error %.2g", name, compared, worst);
    return worst;
}

/* With its adapters off, a LoRA model computes the base model's logits exactly (the reference
 * of dpo and kto), different from its logits with them on; no backward while they are off. */
static void check_adapters_off(const char *name, test_case *c, hn_model *model)
{
    hn_error err = {0};
    hn_model_options base_options;
    hn_model_options_init(&base_options);
    base_options.backend = test_backend();
    hn_model *base = NULL;
    g_assert_cmpint(hn_model_new(c->model_dir, &base_options, &base, &err), ==, HN_OK);
    const hn_model_config *config = hn_model_get_config(model);
    size_t n = (size_t)c->batch.B * (size_t)c->batch.T * (size_t)config->vocab_size;
    float *on = g_new(float, n), *off = g_new(float, n), *want = g_new(float, n);
    g_assert_cmpint(hn_model_forward(base, &c->batch, NULL, NULL, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_logits(base, want, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_forward(model, &c->batch, NULL, NULL, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_logits(model, on, &err), ==, HN_OK);
    hn_model_set_adapters_enabled(model, false);
    g_assert_cmpint(hn_model_forward(model, &c->batch, NULL, NULL, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_logits(model, off, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_backward(model, 1.0f, &err), ==, HN_ERR_ARGUMENT);
    g_assert_nonnull(strstr(err.message, "adapters are off"));
    hn_model_set_adapters_enabled(model, true);
    double off_error = test_relative_error(off, want, n), on_error = test_relative_error(on, want, n);
    g_test_message("%s: adapters off vs base %.2g, on vs base %.2g", name, off_error, on_error);
    g_assert_cmpfloat(off_error, <=, 1e-6);
    g_assert_cmpfloat(on_error, >, 1e-4);
    g_free(on);
    g_free(off);
    g_free(want);
    hn_model_free(base);
}

/* A new DoRA model's magnitudes (before any adapter is loaded) against the ones in PEFT's
 * adapter file, which are PEFT's initial ||W|| per output row (model_ref.py). */
static void check_initial_magnitudes(const char *name, test_case *c, hn_model *model)
{
    char *folder = g_build_filename(c->dir, "adapter", NULL);
    hn_peft_adapter adapter;
    hn_error err = {0};
    if (hn_peft_read(folder, &adapter, &err) != HN_OK)
        g_error("%s: %s", folder, err.message);
    double worst = 0;
    for (size_t i = 0; i < adapter.n_modules; i++) {
        const hn_lora_module *mod = &adapter.modules[i];
        g_assert_nonnull(mod->magnitude);
        char *param = g_strdup_printf("%s.lora_magnitude_vector", mod->name);
        ptrdiff_t index = hn_model_param_find(model, param);
        if (index < 0)
            g_error("%s: no parameter %s", name, param);
        float *got = g_new(float, mod->out_features);
        g_assert_cmpint(hn_model_param_read(model, (size_t)index, got, &err), ==, HN_OK);
        double e = test_relative_error(got, mod->magnitude, (size_t)mod->out_features);
        if (!(e <= LOGIT_TOLERANCE))
            g_error("%s: initial %s differs from PEFT's: relative error %.3g", name, param, e);
        worst = fmax(worst, e);
        g_free(got);
        g_free(param);
    }
    g_test_message("%s: %zu initial magnitudes, worst relative error %.2g", name,
                   adapter.n_modules, worst);
    hn_peft_adapter_free(&adapter);
    g_free(folder);
}

/* A DoRA adapter does not load into a model built without use_dora; its own options build
 * the DoRA layout, and it loads there. */
static void check_dora_options(test_case *c, const hn_model_options *dora_options)
{
    hn_model_options options = *dora_options;
    hn_model *model = NULL;
    hn_error err = {0};
    options.use_dora = false;
    g_assert_cmpint(hn_model_new(c->model_dir, &options, &model, &err), ==, HN_OK);
    char *folder = g_build_filename(c->dir, "adapter", NULL);
    hn_peft_adapter adapter;
    g_assert_cmpint(hn_peft_read(folder, &adapter, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_load_adapter(model, &adapter, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, "has DoRA magnitudes but the model was built without");
    hn_model_free(model);

    /* the adapter's own options build the DoRA layout, and it loads */
    hn_model_options_init(&options);
    options.backend = test_backend();
    char *targets = NULL, *saved = NULL;
    g_assert_cmpint(hn_model_options_for_adapter(&options, &adapter, &targets, &saved, &err), ==,
                    HN_OK);
    g_assert_true(options.use_dora);
    g_assert_cmpint(hn_model_new(c->model_dir, &options, &model, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_load_adapter(model, &adapter, &err), ==, HN_OK);
    hn_model_free(model);
    g_free(targets);
    g_free(saved);
    hn_peft_adapter_free(&adapter);
    g_free(folder);
}

static void test_case_against_reference(gconstpointer data)
{
    const cJSON *entry = data;
    const char *name = cJSON_GetObjectItem(entry, "name")->valuestring;
    bool lora = strcmp(cJSON_GetObjectItem(entry, "kind")->valuestring, "lora") == 0;
    test_case c;
    case_open(&c, name);
    hn_model_options options;
    hn_model_options_init(&options);
    options.backend = test_backend(); /* the CPU unless HONE_TEST_BACKEND says otherwise */
    options.method = lora ? HN_METHOD_LORA : HN_METHOD_FULL;
    options.lora_rank = 4;
    options.lora_alpha = 8;
    options.use_rslora = strcmp(name, "lora_rslora") == 0;
    options.use_dora = g_str_has_prefix(name, "lora_dora");
    /* the reference draws Hone's dropout masks (model_ref.py, HoneDropout) */
    options.lora_dropout = g_str_has_suffix(name, "_dropout") ? 0.1f : 0.0f;
    hn_model *model = NULL;
    hn_error err = {0};
    if (hn_model_new(c.model_dir, &options, &model, &err) != HN_OK)
        g_error("%s: %s", name, err.message);
    if (options.use_dora) {
        check_initial_magnitudes(name, &c, model);
        check_dora_options(&c, &options);
    }
    if (lora)
        test_load_peft_adapter(model, c.dir);
    if (lora && options.lora_dropout == 0)
        check_adapters_off(name, &c, model);
    run_and_check(name, &c, model, false);
    hn_model_free(model);

    if (strcmp(name, "llama") == 0 || strcmp(name, "qwen3") == 0 || strcmp(name, "lora") == 0 ||
        strcmp(name, "lora_dora") == 0 || strcmp(name, "lora_dora_dropout") == 0) {
        /* the same with activation recomputation, and for full models with freeze */
        options.recompute = true;
        g_assert_cmpint(hn_model_new(c.model_dir, &options, &model, &err), ==, HN_OK);
        if (lora)
            test_load_peft_adapter(model, c.dir);
        run_and_check(name, &c, model, false);
        hn_model_free(model);
        if (!lora) {
            options.method = HN_METHOD_FREEZE;
            options.recompute = false;
            g_assert_cmpint(hn_model_new(c.model_dir, &options, &model, &err), ==, HN_OK);
            /* LLaMA-Factory's default: the last 2 of 3 layers train, nothing else (a Llama
             * layer of these sizes has 43,136 values; Qwen3 adds 2 x 16 of q/k norms) */
            int64_t per_layer = 43136 + (strcmp(name, "qwen3") == 0 ? 32 : 0);
            g_assert_cmpint(hn_model_trained_count(model), ==, 2 * per_layer);
            run_and_check(name, &c, model, true);
            hn_model_free(model);
        }
    }
    case_close(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    reference_dir = test_make_tmpdir();
    test_run_reference("model_ref.py", "write", reference_dir);
    char *path = g_build_filename(reference_dir, "cases.json", NULL);
    cJSON *cases = test_load_json(path);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cases)
    {
        char *test = g_strdup_printf("/reference/model/%s",
                                     cJSON_GetObjectItem(entry, "name")->valuestring);
        g_test_add_data_func(test, entry, test_case_against_reference);
        g_free(test);
    }
    int status = g_test_run();
    cJSON_Delete(cases);
    g_free(path);
    test_remove_tree(reference_dir);
    g_free(reference_dir);
    return status;
}
