/* hn_cuda_backend (backend.h), the CUDA backend's entry point. Without a usable GPU (or in a
 * build without CUDA) it must refuse with the same reason `hone env` gives. With a GPU it must
 * open, and a smoke runs on it: memory round trips, the arena's reuse of freed blocks, a
 * refused huge allocation that leaves no error behind, axpy against the CPU backend, and the
 * one-GPU-per-process rule. Every case prints which branch it ran. The per-op comparisons with
 * PyTorch are test_backend_ops's. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "config.h"
#include "device_info.h"
#include "test_util.h"

/* Whether this machine has a GPU the CUDA backend may use, with hn_cuda_probe's reason when
 * it has none. */
static bool gpu_present(hn_cuda_info *info)
{
    hn_cuda_probe(info);
    return info->compiled && info->device_count > 0;
}

static void test_refusal_without_gpu(void)
{
    hn_cuda_info info;
    if (gpu_present(&info)) {
        g_test_skip("a GPU is present: the refusal is checked only on machines without one");
        return;
    }
    char error[512] = "";
    const hn_backend *backend = hn_cuda_backend(0, HN_GPU_MATH_FP32, error, sizeof error);
    g_assert_null(backend);
    g_assert_cmpstr(error, !=, "");
    g_print("# no usable GPU here (%s build): hn_cuda_backend refused: %s\n",
            HONE_HAVE_CUDA ? "CUDA" : "CPU-only", error);
    /* the probe's explanation, word for word: no driver, no GPU, or no CUDA in this build */
    g_assert_nonnull(strstr(error, info.reason));
    g_assert_true(strstr(error, "driver") != NULL || strstr(error, "GPU") != NULL ||
                  strstr(error, "CUDA") != NULL);
    /* asking again gives the same answer (nothing half-opened is left behind) */
    char again[512] = "";
    g_assert_null(hn_cuda_backend(0, HN_GPU_MATH_FP32, again, sizeof again));
    g_assert_cmpstr(again, ==, error);
}

/* Opens the backend on GPU 0 (the test fails with the reason when it cannot). */
static const hn_backend *open_gpu(void)
{
    char error[512] = "";
    const hn_backend *backend = hn_cuda_backend(0, HN_GPU_MATH_FP32, error, sizeof error);
    if (backend == NULL)
        g_error("a GPU is present but the CUDA backend did not open: %s", error);
    g_assert_cmpstr(backend->name, ==, "cuda");
    return backend;
}

static void assert_synchronized(const hn_backend *backend)
{
    char message[512] = "x";
    bool ok = backend->synchronize(message, sizeof message);
    if (!ok)
        g_error("synchronize reported: %s", message);
    g_assert_cmpstr(message, ==, "");
}

static void test_memory_on_gpu(void)
{
    hn_cuda_info info;
    if (!gpu_present(&info)) {
        g_test_skip("no GPU here: the memory smoke runs only on a machine with one");
        return;
    }
    g_print("# GPU present (%s): running the memory smoke\n", info.gpus[0].name);
    const hn_backend *backend = open_gpu();
    enum { N = 100003 };
    float *host = g_new(float, N), *back = g_new(float, N);
    test_random_bytes(host, sizeof(float) * N, 7); /* random bits: any float, NaNs included */
    float *a = backend->alloc(sizeof(float) * N), *b = backend->alloc(sizeof(float) * N);
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_true(((uintptr_t)a & 255) == 0);
    backend->copy_to_device(a, host, sizeof(float) * N);
    backend->copy(b, a, sizeof(float) * N);
    backend->copy_to_host(back, b, sizeof(float) * N);
    g_assert_cmpmem(back, sizeof(float) * N, host, sizeof(float) * N);
    backend->zero(b + 10, sizeof(float) * 20);
    backend->copy_to_host(back, b, sizeof(float) * N);
    for (int i = 0; i < N; i++) {
        uint32_t got, want;
        memcpy(&got, &back[i], 4);
        memcpy(&want, &host[i], 4);
        g_assert_cmpuint(got, ==, i >= 10 && i < 30 ? 0 : want);
    }
    assert_synchronized(backend);

    /* a freed block is handed out again for a request of its size class */
    backend->free(b);
    float *c = backend->alloc(sizeof(float) * N - 100);
    g_assert_true(c == b);
    backend->free(c);
    backend->free(a);
    backend->free(NULL);

    /* more than any GPU has: NULL, and no error left for the next synchronize */
    g_assert_null(backend->alloc((size_t)1 << 50));
    assert_synchronized(backend);
    g_free(host);
    g_free(back);
}

static void test_axpy_on_gpu(void)
{
    hn_cuda_info info;
    if (!gpu_present(&info)) {
        g_test_skip("no GPU here: the axpy smoke runs only on a machine with one");
        return;
    }
    g_print("# GPU present: running axpy against the CPU backend\n");
    const hn_backend *gpu = open_gpu(), *cpu = hn_cpu_backend();
    enum { N = 1000003 }; /* odd, and more than one grid of blocks' first pass */
    GRand *rng = g_rand_new_with_seed(11);
    float *x = g_new(float, N), *y = g_new(float, N), *want = g_new(float, N),
          *got = g_new(float, N);
    for (int i = 0; i < N; i++) {
        x[i] = (float)g_rand_double_range(rng, -2, 2);
        y[i] = (float)g_rand_double_range(rng, -2, 2);
    }
    const float alpha = 0.37f;
    memcpy(want, y, sizeof(float) * N);
    cpu->axpy(want, x, alpha, N);

    float *dx = gpu->alloc(sizeof(float) * N), *dy = gpu->alloc(sizeof(float) * N);
    g_assert_nonnull(dx);
    g_assert_nonnull(dy);
    gpu->copy_to_device(dx, x, sizeof(float) * N);
    gpu->copy_to_device(dy, y, sizeof(float) * N);
    gpu->axpy(dy, dx, alpha, N);
    gpu->copy_to_host(got, dy, sizeof(float) * N);
    assert_synchronized(gpu);
    /* the GPU may fuse alpha * x + y into one rounding: within one ulp of each term's scale */
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double scale = fabs(y[i]) + fabs(alpha * x[i]);
        double error = fabs((double)got[i] - want[i]) / scale;
        g_assert_true(isfinite(got[i]));
        worst = fmax(worst, error);
    }
    g_print("# axpy: max |gpu - cpu| / (|y| + |alpha x|) = %.3g (tolerance 2.4e-7)\n", worst);
    g_assert_cmpfloat(worst, <=, 2.4e-7);
    gpu->free(dx);
    gpu->free(dy);
    g_rand_free(rng);
    g_free(x);
    g_free(y);
    g_free(want);
    g_free(got);
}

static void test_one_gpu_per_process(void)
{
    hn_cuda_info info;
    if (!gpu_present(&info)) {
        g_test_skip("no GPU here: the one-GPU rule is checked only on a machine with one");
        return;
    }
    g_print("# GPU present: checking that a second device is refused\n");
    const hn_backend *backend = open_gpu();
    char error[512] = "";
    g_assert_true(hn_cuda_backend(0, HN_GPU_MATH_TF32, error, sizeof error) == backend);
    g_assert_null(hn_cuda_backend(1, HN_GPU_MATH_FP32, error, sizeof error));
    g_print("# GPU 1 refused: %s\n", error);
    g_assert_nonnull(strstr(error, "one process uses one GPU"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cuda_backend/refusal_without_gpu", test_refusal_without_gpu);
    g_test_add_func("/cuda_backend/memory_on_gpu", test_memory_on_gpu);
    g_test_add_func("/cuda_backend/axpy_on_gpu", test_axpy_on_gpu);
    g_test_add_func("/cuda_backend/one_gpu_per_process", test_one_gpu_per_process);
    return g_test_run();
}
