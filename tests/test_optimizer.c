/* Ten optimizer steps against transformers' Trainer loop with torch.optim.AdamW (tests/
 * reference/optimizer_ref.py): gradient accumulation over 2 micro-batches with the loss over
 * the step's target count, clipping at norm 1, weight decay on all but biases and norms, a
 * cosine schedule with warmup, and LoRA+ for the LoRA and DoRA cases. Each step's loss, gradient norm
 * and learning rate, and every trained parameter at the end, must agree: max |Hone -
 * reference| over max |reference| at most 1e-4 (parameters), 1e-4 (losses, norms). */
#include <math.h>
#include <string.h>

#include "optimizer.h"
#include "safetensors.h"
#include "test_util.h"

#define TOLERANCE 1e-4

static const float *f32(const hn_st_file *file, const char *name)
{
    const hn_st_tensor *t = hn_st_find(file, name);
    g_assert_nonnull(t);
    g_assert_cmpint(t->dtype, ==, HN_DTYPE_F32);
    return t->data;
}

static void run_case(const char *dir, const char *name)
{
    char *folder = g_build_filename(dir, name, NULL);
    char *model_path = g_build_filename(folder, "model", NULL);
    char *expected_path = g_build_filename(folder, "expected.safetensors", NULL);
    bool lora = strcmp(name, "lora_plus") == 0 || strcmp(name, "dora_plus") == 0;
    hn_model_dir *model_dir = NULL;
    hn_st_file *expected = NULL;
    hn_model *model = NULL;
    hn_optimizer *opt = NULL;
    hn_error err = {0};
    hn_model_options options;
    hn_model_options_init(&options);
    options.method = lora ? HN_METHOD_LORA : HN_METHOD_FULL;
    options.lora_rank = 4;
    options.lora_alpha = 8;
    options.use_dora = strcmp(name, "dora_plus") == 0;
    hn_optimizer_options opt_options;
    hn_optimizer_options_init(&opt_options);
    opt_options.weight_decay = 0.1;
    opt_options.loraplus_lr_ratio = lora ? 4.0 : 0.0;
    hn_lr_schedule_init(&opt_options.schedule, HN_LR_COSINE, 1e-3, 3, 10);
    if (hn_model_dir_open(model_path, &model_dir, &err) != HN_OK ||
        hn_st_open(expected_path, &expected, &err) != HN_OK ||
        hn_model_new(model_dir, &options, &model, &err) != HN_OK)
        g_error("%s: %s", name, err.message);
    if (lora)
        test_load_peft_adapter(model, folder);
    if (hn_optimizer_new(model, &opt_options, &opt, &err) != HN_OK)
        g_error("%s: %s", name, err.message);

    const hn_st_tensor *ids = hn_st_find(expected, "input_ids");
    int n_micro = (int)ids->shape[0], B = (int)ids->shape[1], T = (int)ids->shape[2];
    int accumulation = n_micro / 10;
    const int32_t *all_ids = ids->data, *all_labels = hn_st_find(expected, "labels")->data;
    size_t per = (size_t)B * (size_t)T;
    const float *want_loss = f32(expected, "loss"), *want_norm = f32(expected, "grad_norm"),
                *want_lr = f32(expected, "lr");
    for (int step = 0; step < 10; step++) {
        int64_t targets = 0;
        for (int k = 0; k < accumulation; k++) /* the step's target count first */
            for (size_t i = 0; i < per; i++) {
                size_t n = (size_t)(step * accumulation + k) * per + i;
                targets += i % (size_t)T != 0 && all_labels[n] != -100;
            }
        double loss = 0;
        for (int k = 0; k < accumulation; k++) {
            size_t offset = (size_t)(step * accumulation + k) * per;
            hn_batch batch = {all_ids + offset, all_labels + offset, NULL, NULL, B, T};
            double sum = 0;
            g_assert_cmpint(hn_model_forward(model, &batch, &sum, NULL, &err), ==, HN_OK);
            g_assert_cmpint(hn_model_backward(model, 1.0f / (float)targets, &err), ==, HN_OK);
            loss += sum / (double)targets;
        }
        hn_step_report report;
        if (hn_optimizer_step(opt, &report, &err) != HN_OK)
            g_error("%s step %d: %s", name, step, err.message);
        g_test_message("%s step %d: loss %.6f (%.6f) grad_norm %.5f (%.5f) lr %.3g (%.3g)", name,
                       step + 1, loss, want_loss[step], report.grad_norm, want_norm[step],
                       report.learning_rate, want_lr[step]);
        g_assert_cmpfloat(fabs(loss - want_loss[step]), <=, TOLERANCE * fabs(want_loss[step]));
        g_assert_cmpfloat(fabs(report.grad_norm - want_norm[step]), <=,
                          TOLERANCE * want_norm[step]);
        g_assert_cmpfloat(fabs(report.learning_rate - want_lr[step]), <=, 1e-6 * 1e-3);
    }
    double worst = 0;
    size_t checked = 0;
    for (size_t i = 0; i < hn_st_count(expected); i++) {
        const hn_st_tensor *t = hn_st_get(expected, i);
        if (!g_str_has_prefix(t->name, "param."))
            continue;
        char *pname = test_peft_to_hone_name(t->name + 6);
        ptrdiff_t index = hn_model_param_find(model, pname);
        g_assert_cmpint(index, >=, 0);
        float *got = g_new(float, t->numel);
        g_assert_cmpint(hn_model_param_read(model, (size_t)index, got, &err), ==, HN_OK);
        double e = test_relative_error(got, t->data, (size_t)t->numel);
        if (!(e <= TOLERANCE))
            g_error("%s: %s after 10 steps differs: relative error %.3g", name, pname, e);
        worst = fmax(worst, e);
        checked++;
        g_free(got);
        g_free(pname);
    }
    g_assert_cmpuint(checked, >, 10);
    g_test_message("%s: %zu parameters after 10 steps, worst relative error %.2g", name, checked,
                   worst);
    hn_optimizer_free(opt);
    hn_model_free(model);
    hn_st_close(expected);
    hn_model_dir_close(model_dir);
    g_free(expected_path);
    g_free(model_path);
    g_free(folder);
}

static void test_against_trainer(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("optimizer_ref.py", "write", dir);
    run_case(dir, "full");
    run_case(dir, "lora_plus");
    run_case(dir, "dora_plus");
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reference/optimizer/trainer", test_against_trainer);
    return g_test_run();
}
