/* Choosing the backend (backend_choice.h): cpu is the CPU; cuda is hn_cuda_backend's backend
 * or an error carrying its reason; auto follows what hn_cuda_backend says on this machine
 * (the CUDA backend when it is usable, else the CPU with its reason in the line); the compute
 * type keys pick the GEMM math, and fp16 / pure_bf16 are refused saying what is not built,
 * whatever the backend. The oracle for auto and cuda is hn_cuda_backend itself, so the test
 * holds on a machine with a GPU as on one without. */
#include <string.h>

#include "backend_choice.h"
#include "test_util.h"
#include "train_args.h"

static const char *const NAMES[] = {"auto", "cpu", "cuda", NULL}; /* NULL: auto */

/* What hn_cuda_backend gives for math here: the backend, or NULL and its reason. */
static const hn_backend *cuda_here(hn_gpu_math math, char *reason, size_t size)
{
    reason[0] = '\0';
    return hn_cuda_backend(0, math, reason, size);
}

static void test_cpu(void)
{
    for (int bf16 = 0; bf16 <= 1; bf16++) {
        hn_backend_request request = {.backend = "cpu", .bf16 = bf16};
        hn_backend_choice choice;
        hn_error err = {0};
        g_assert_cmpint(hn_backend_choose(&request, &choice, &err), ==, HN_OK);
        g_assert_true(choice.backend == hn_cpu_backend());
        g_assert_cmpstr(choice.backend->name, ==, "cpu");
        g_assert_true(g_str_has_prefix(choice.line, "backend: cpu (asked for"));
        g_assert_true((strstr(choice.line, "bf16 has no effect") != NULL) == bf16);
    }
}

static void test_auto(void)
{
    const char *names[] = {"auto", NULL};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        hn_backend_request request = {.backend = names[i], .bf16 = true};
        hn_backend_choice choice;
        hn_error err = {0};
        g_assert_cmpint(hn_backend_choose(&request, &choice, &err), ==, HN_OK);
        char reason[512];
        const hn_backend *cuda = cuda_here(HN_GPU_MATH_BF16, reason, sizeof reason);
        g_test_message("%s", choice.line);
        if (cuda != NULL) {
            g_assert_true(choice.backend == cuda);
            g_assert_true(g_str_has_prefix(choice.line, "backend: cuda (auto: a CUDA GPU is usable"));
            test_assert_contains(choice.line, "bf16 GEMMs");
        } else {
            g_assert_true(choice.backend == hn_cpu_backend());
            g_assert_cmpstr(reason, !=, "");
            char *want = g_strdup_printf("backend: cpu (auto: no CUDA GPU: %s)", reason);
            g_assert_cmpstr(choice.line, ==, want);
            g_free(want);
        }
    }
}

static void test_cuda(void)
{
    hn_backend_request request = {.backend = "cuda"};
    hn_backend_choice choice;
    hn_error err = {0};
    hn_status s = hn_backend_choose(&request, &choice, &err);
    char reason[512];
    const hn_backend *cuda = cuda_here(HN_GPU_MATH_FP32, reason, sizeof reason);
    if (cuda != NULL) {
        g_assert_cmpint(s, ==, HN_OK);
        g_assert_true(choice.backend == cuda);
        g_assert_cmpstr(choice.backend->name, ==, "cuda");
        test_assert_contains(choice.line, "fp32 GEMMs");
        return;
    }
    g_assert_cmpint(s, ==, HN_ERR_UNSUPPORTED);
    g_assert_null(choice.backend);
    char *want = g_strdup_printf("backend: cuda was asked for, but %s", reason);
    g_assert_cmpstr(err.message, ==, want);
    g_free(want);
}

static void test_math(void)
{
    const struct {
        bool bf16, tf32;
        hn_gpu_math want;
    } cases[] = {
        {false, false, HN_GPU_MATH_FP32},
        {false, true, HN_GPU_MATH_TF32},
        {true, false, HN_GPU_MATH_BF16},
        {true, true, HN_GPU_MATH_BF16}, /* bf16 GEMMs; tf32 would only touch fp32 ones */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        hn_backend_request request = {.bf16 = cases[i].bf16, .tf32 = cases[i].tf32};
        g_assert_cmpint(hn_backend_gpu_math(&request), ==, cases[i].want);
    }
}

/* fp16 and pure_bf16 are refused before any backend is asked, naming what is missing. */
static void test_refused_compute_types(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(NAMES); i++) {
        hn_backend_request fp16 = {.backend = NAMES[i], .fp16 = true};
        hn_backend_request pure = {.backend = NAMES[i], .pure_bf16 = true, .bf16 = true};
        hn_backend_choice choice;
        hn_error err = {0};
        g_assert_cmpint(hn_backend_choose(&fp16, &choice, &err), ==, HN_ERR_UNSUPPORTED);
        g_assert_null(choice.backend);
        test_assert_contains(err.message, "fp16 is not built");
        test_assert_contains(err.message, "loss scaling");
        err = (hn_error){0};
        g_assert_cmpint(hn_backend_choose(&pure, &choice, &err), ==, HN_ERR_UNSUPPORTED);
        test_assert_contains(err.message, "pure_bf16 is not built");
        test_assert_contains(err.message, "fp32");
    }
}

static void test_bad_name(void)
{
    hn_backend_request request = {.backend = "tpu"};
    hn_backend_choice choice;
    hn_error err = {0};
    g_assert_cmpint(hn_backend_choose(&request, &choice, &err), ==, HN_ERR_ARGUMENT);
    g_assert_cmpstr(err.message, ==, "backend tpu: expected auto, cpu or cuda");
}

/* The training keys reach the request; tf32 is transformers' key, unset by default (None),
 * written to training_args.yaml only when set; fp16 fails hn_train_args_check. */
static void test_from_train_args(void)
{
    static const char yaml[] = "model_name_or_path: m\n"
                               "dataset: d\n"
                               "output_dir: o\n"
                               "do_train: true\n"
                               "backend: cuda\n"
                               "tf32: true\n";
    hn_train_args args;
    hn_train_args_init(&args);
    g_assert_false(args.tf32);
    char *defaults = hn_train_args_to_yaml(&args);
    g_assert_null(strstr(defaults, "tf32"));
    g_free(defaults);
    hn_error err = {0};
    g_assert_cmpint(hn_train_args_parse(&args, yaml, sizeof yaml - 1, "t.yaml", false, NULL, &err),
                    ==, HN_OK);
    hn_backend_request request;
    hn_backend_request_from_train_args(&request, &args);
    g_assert_cmpstr(request.backend, ==, "cuda");
    g_assert_true(request.tf32);
    g_assert_false(request.bf16 || request.fp16 || request.pure_bf16);
    g_assert_cmpint(hn_backend_gpu_math(&request), ==, HN_GPU_MATH_TF32);
    char *written = hn_train_args_to_yaml(&args);
    test_assert_contains(written, "tf32: true\n");
    g_free(written);
    g_assert_cmpint(hn_train_args_check(&args, &err), ==, HN_OK);
    g_assert_cmpint(hn_train_args_set(&args, "fp16", "true", "--fp16", &err), ==, HN_OK);
    g_assert_cmpint(hn_train_args_check(&args, &err), ==, HN_ERR_UNSUPPORTED);
    test_assert_contains(err.message, "fp16 is not built");
    hn_train_args_clear(&args);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/backend-choice/cpu", test_cpu);
    g_test_add_func("/engine/backend-choice/auto", test_auto);
    g_test_add_func("/engine/backend-choice/cuda", test_cuda);
    g_test_add_func("/engine/backend-choice/math", test_math);
    g_test_add_func("/engine/backend-choice/refused-compute-types", test_refused_compute_types);
    g_test_add_func("/engine/backend-choice/bad-name", test_bad_name);
    g_test_add_func("/engine/backend-choice/from-train-args", test_from_train_args);
    return g_test_run();
}
