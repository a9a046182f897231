/* PiSSA initialisation against PEFT's pissa_init (tests/reference/pissa_ref.py): with a full
 * SVD (pissa_iter -1) every adapted module's residual base weight and B A product equal
 * PEFT's (max |diff| / max |ref| at most 1e-4); with the randomized SVD (pissa_iter 16) the
 * residual plus scaling B A gives back the original weight and the residual is as small as the
 * full SVD's within 1%; either way the model's logits are the original model's. */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "model.h"
#include "safetensors.h"
#include "test_util.h"

static double frobenius(const float *x, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)x[i] * x[i];
    return sqrt(sum);
}

static float *read_param(const hn_model *model, const char *name, hn_param_info *info)
{
    ptrdiff_t index = hn_model_param_find(model, name);
    g_assert_cmpint(index, >=, 0);
    hn_model_param_info(model, (size_t)index, info);
    float *values = g_new(float, info->numel);
    hn_error err = {0};
    g_assert_cmpint(hn_model_param_read(model, (size_t)index, values, &err), ==, HN_OK);
    return values;
}

/* Logits of a fixed batch. */
static float *logits_of(hn_model *model, int V)
{
    int32_t ids[16];
    for (int i = 0; i < 16; i++)
        ids[i] = (i * 37 + 11) % V;
    hn_batch batch = {ids, NULL, NULL, NULL, 1, 16};
    hn_error err = {0};
    g_assert_cmpint(hn_model_forward(model, &batch, NULL, NULL, &err), ==, HN_OK);
    float *logits = g_new(float, 16 * (size_t)V);
    g_assert_cmpint(hn_model_logits(model, logits, &err), ==, HN_OK);
    return logits;
}

static void check(const char *dir, int pissa_iter)
{
    char *model_path = g_build_filename(dir, "model", NULL);
    char *expected_path = g_build_filename(dir, "expected.safetensors", NULL);
    hn_model_dir *model_dir = NULL;
    hn_st_file *expected = NULL;
    hn_model *base = NULL, *model = NULL;
    hn_error err = {0};
    hn_model_options options;
    hn_model_options_init(&options);
    g_assert_cmpint(hn_model_dir_open(model_path, &model_dir, &err), ==, HN_OK);
    g_assert_cmpint(hn_st_open(expected_path, &expected, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_new(model_dir, &options, &base, &err), ==, HN_OK);
    options.method = HN_METHOD_LORA;
    options.lora_rank = 4;
    options.lora_alpha = 8;
    options.pissa_init = true;
    options.pissa_iter = pissa_iter;
    if (hn_model_new(model_dir, &options, &model, &err) != HN_OK)
        g_error("%s", err.message);
    double worst_residual = 0, worst_product = 0, worst_sum = 0, worst_ratio = 0;
    for (size_t t = 0; t < hn_st_count(expected); t++) {
        const hn_st_tensor *product_ref = hn_st_get(expected, t);
        if (!g_str_has_prefix(product_ref->name, "product."))
            continue;
        const char *module = product_ref->name + strlen("product.");
        char *weight = g_strdup_printf("%s.weight", module);
        char *a_name = g_strdup_printf("%s.lora_A.weight", module);
        char *b_name = g_strdup_printf("%s.lora_B.weight", module);
        char *residual_name = g_strdup_printf("residual.%s", module);
        hn_param_info wi, ai, bi, oi;
        float *residual = read_param(model, weight, &wi);
        float *A = read_param(model, a_name, &ai), *B = read_param(model, b_name, &bi);
        float *original = read_param(base, weight, &oi);
        int out = (int)wi.shape[0], in = (int)wi.shape[1], r = (int)ai.shape[0];
        float *product = g_new(float, wi.numel);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, in, r, 1.0f, B, r, A, in,
                    0.0f, product, in);
        const float *want_residual = hn_st_find(expected, residual_name)->data;
        const float *want_product = product_ref->data;
        float *sum = g_new(float, wi.numel); /* residual + scaling B A: the original weight */
        for (size_t i = 0; i < wi.numel; i++)
            sum[i] = residual[i] + 2.0f * product[i];
        worst_sum = fmax(worst_sum, test_relative_error(sum, original, wi.numel));
        if (pissa_iter < 0) {
            worst_residual = fmax(worst_residual, test_relative_error(residual, want_residual, wi.numel));
            worst_product = fmax(worst_product, test_relative_error(product, want_product, wi.numel));
        } else {
            worst_ratio = fmax(worst_ratio, frobenius(residual, wi.numel) /
                                                frobenius(want_residual, wi.numel));
        }
        g_free(sum);
        g_free(product);
        g_free(residual);
        g_free(A);
        g_free(B);
        g_free(original);
        g_free(weight);
        g_free(a_name);
        g_free(b_name);
        g_free(residual_name);
    }
    g_test_message("pissa_iter %d: residual error %.2g, B A error %.2g, reconstruction %.2g, "
                   "residual norm / PEFT's %.6f", pissa_iter, worst_residual, worst_product,
                   worst_sum, worst_ratio);
    g_assert_cmpfloat(worst_sum, <=, 1e-5);
    if (pissa_iter < 0) {
        g_assert_cmpfloat(worst_residual, <=, 1e-4);
        g_assert_cmpfloat(worst_product, <=, 1e-4);
    } else {
        g_assert_cmpfloat(worst_ratio, <=, 1.01);
    }
    int V = (int)model_dir->config.vocab_size;
    float *before = logits_of(base, V), *after = logits_of(model, V);
    g_assert_cmpfloat(test_relative_error(after, before, 16 * (size_t)V), <=, 1e-4);
    g_free(before);
    g_free(after);
    hn_model_free(model);
    hn_model_free(base);
    hn_st_close(expected);
    hn_model_dir_close(model_dir);
    g_free(model_path);
    g_free(expected_path);
}

static void test_against_peft(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("pissa_ref.py", "write", dir);
    check(dir, -1);
    check(dir, 16);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reference/pissa/peft", test_against_peft);
    return g_test_run();
}
