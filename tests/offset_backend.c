/* The offset test backend (offset_backend.h): the CPU backend behind device pointers that the
 * host cannot dereference. */
#include "offset_backend.h"

#include <glib.h>

static const hn_backend *cpu(void)
{
    return hn_cpu_backend();
}

/* A device pointer's host address (NULL stays NULL). Integers, not pointer arithmetic: the
 * device address points into no object of this process. */
static void *host(const void *device)
{
    return device == NULL ? NULL : (void *)((uintptr_t)device - HN_TEST_DEVICE_OFFSET);
}

static void *device(void *host_ptr)
{
    return host_ptr == NULL ? NULL : (void *)((uintptr_t)host_ptr + HN_TEST_DEVICE_OFFSET);
}

static gint live_allocations;

int test_offset_backend_live(void)
{
    return g_atomic_int_get(&live_allocations);
}

static void *offset_alloc(size_t bytes)
{
    void *ptr = cpu()->alloc(bytes);
    if (ptr != NULL)
        g_atomic_int_inc(&live_allocations);
    return device(ptr);
}

static void offset_free(void *ptr)
{
    if (ptr != NULL)
        g_atomic_int_add(&live_allocations, -1);
    cpu()->free(host(ptr));
}

static void offset_zero(void *ptr, size_t bytes)
{
    cpu()->zero(host(ptr), bytes);
}

static void offset_copy_to_device(void *device_dst, const void *host_src, size_t bytes)
{
    cpu()->copy_to_device(host(device_dst), host_src, bytes);
}

static void offset_copy_to_host(void *host_dst, const void *device_src, size_t bytes)
{
    cpu()->copy_to_host(host_dst, host(device_src), bytes);
}

static void offset_copy(void *device_dst, const void *device_src, size_t bytes)
{
    cpu()->copy(host(device_dst), host(device_src), bytes);
}

static void offset_axpy(float *y, const float *x, float alpha, size_t n)
{
    cpu()->axpy(host(y), host(x), alpha, n);
}

static void offset_matmul_forward(float *out, const float *inp, const void *weight,
                                  hn_weight_type weight_type, const float *bias, int N, int C,
                                  int OC)
{
    cpu()->matmul_forward(host(out), host(inp), host(weight), weight_type, host(bias), N, C, OC);
}

static void offset_block_matvec_int8(float *out, const float *inp, const void *weight,
                                     hn_weight_type weight_type, const float *bias, int C,
                                     int OC)
{
    cpu()->block_matvec_int8(host(out), host(inp), host(weight), weight_type, host(bias), C, OC);
}

/* parts is host memory (the engine's array); its pointers are device pointers. */
static void offset_block_matvec_group(const hn_matvec_part *parts, int count, const float *inp,
                                      bool int8_activations, int C)
{
    hn_matvec_part *moved = g_new(hn_matvec_part, count);
    for (int i = 0; i < count; i++) {
        moved[i] = parts[i];
        moved[i].out = host(parts[i].out);
        moved[i].weight = host(parts[i].weight);
        moved[i].bias = host(parts[i].bias);
    }
    cpu()->block_matvec_group(moved, count, host(inp), int8_activations, C);
    g_free(moved);
}

static void offset_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                   const float *inp, const void *weight,
                                   hn_weight_type weight_type, int N, int C, int OC)
{
    cpu()->matmul_backward(host(dinp), host(dweight), host(dbias), host(dout), host(inp),
                           host(weight), weight_type, N, C, OC);
}

static void offset_embedding_forward(float *out, const int32_t *ids, const void *table,
                                     hn_weight_type table_type, int N, int C)
{
    cpu()->embedding_forward(host(out), host(ids), host(table), table_type, N, C);
}

static void offset_embedding_backward(float *dtable, const float *dout, const int32_t *ids,
                                      int N, int C)
{
    cpu()->embedding_backward(host(dtable), host(dout), host(ids), N, C);
}

static void offset_rmsnorm_forward(float *out, float *rstd, const float *inp,
                                   const float *weight, float eps, int N, int C)
{
    cpu()->rmsnorm_forward(host(out), host(rstd), host(inp), host(weight), eps, N, C);
}

static void offset_rmsnorm_backward(float *dinp, float *dweight, const float *dout,
                                    const float *inp, const float *weight, const float *rstd,
                                    int N, int C)
{
    cpu()->rmsnorm_backward(host(dinp), host(dweight), host(dout), host(inp), host(weight),
                            host(rstd), N, C);
}

static void offset_swiglu_forward(float *out, const float *gate, const float *up, int N, int H)
{
    cpu()->swiglu_forward(host(out), host(gate), host(up), N, H);
}

static void offset_swiglu_backward(float *dgate, float *dup, const float *dout,
                                   const float *gate, const float *up, int N, int H)
{
    cpu()->swiglu_backward(host(dgate), host(dup), host(dout), host(gate), host(up), N, H);
}

static void offset_rope_forward(float *out, const float *inp, const int32_t *position_ids,
                                const float *inv_freq, float attention_factor, int B, int T,
                                int NH, int HD)
{
    cpu()->rope_forward(host(out), host(inp), host(position_ids), host(inv_freq),
                        attention_factor, B, T, NH, HD);
}

static void offset_rope_backward(float *dinp, const float *dout, const int32_t *position_ids,
                                 const float *inv_freq, float attention_factor, int B, int T,
                                 int NH, int HD)
{
    cpu()->rope_backward(host(dinp), host(dout), host(position_ids), host(inv_freq),
                         attention_factor, B, T, NH, HD);
}

static void offset_attention_forward(float *out, float *lse, const float *q, const float *k,
                                     const float *v, const int32_t *doc_start, float scale,
                                     int window, int B, int T, int NH, int NKV, int HD)
{
    cpu()->attention_forward(host(out), host(lse), host(q), host(k), host(v), host(doc_start),
                             scale, window, B, T, NH, NKV, HD);
}

static void offset_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                                      const float *q, const float *k, const float *v,
                                      const float *out, const float *lse,
                                      const int32_t *doc_start, float scale, int window, int B,
                                      int T, int NH, int NKV, int HD)
{
    cpu()->attention_backward(host(dq), host(dk), host(dv), host(dout), host(q), host(k),
                              host(v), host(out), host(lse), host(doc_start), scale, window, B,
                              T, NH, NKV, HD);
}

static void offset_attention_cached_forward(float *out, const float *q, const float *k,
                                            const float *v, float scale, int window, int past,
                                            int T, int NH, int NKV, int HD)
{
    cpu()->attention_cached_forward(host(out), host(q), host(k), host(v), scale, window, past, T,
                                    NH, NKV, HD);
}

static void offset_cross_entropy_forward(float *losses, float *lse, const float *hidden,
                                         const void *weight, hn_weight_type weight_type,
                                         const int32_t *targets, int N, int C, int V)
{
    cpu()->cross_entropy_forward(host(losses), host(lse), host(hidden), host(weight),
                                 weight_type, host(targets), N, C, V);
}

static void offset_cross_entropy_backward(float *dhidden, float *dweight, const float *dlosses,
                                          const float *hidden, const void *weight,
                                          hn_weight_type weight_type, const int32_t *targets,
                                          const float *lse, int N, int C, int V)
{
    cpu()->cross_entropy_backward(host(dhidden), host(dweight), host(dlosses), host(hidden),
                                  host(weight), weight_type, host(targets), host(lse), N, C, V);
}

static void offset_dropout_forward(float *out, const float *inp, float p, uint64_t seed, size_t n)
{
    cpu()->dropout_forward(host(out), host(inp), p, seed, n);
}

static void offset_dropout_backward(float *dinp, const float *dout, float p, uint64_t seed,
                                    size_t n)
{
    cpu()->dropout_backward(host(dinp), host(dout), p, seed, n);
}

static void offset_dora_norm_forward(float *norm, const void *weight, hn_weight_type weight_type,
                                     const float *lora_a, const float *lora_b, float scaling,
                                     int C, int OC, int r)
{
    cpu()->dora_norm_forward(host(norm), host(weight), weight_type, host(lora_a), host(lora_b),
                             scaling, C, OC, r);
}

static void offset_dora_scale_forward(float *out, const float *inp, const float *magnitude,
                                      const float *norm, const float *bias, int N, int OC)
{
    cpu()->dora_scale_forward(host(out), host(inp), host(magnitude), host(norm), host(bias), N,
                              OC);
}

static void offset_dora_scale_backward(float *dinp, float *dmagnitude, float *dbias,
                                       const float *dout, const float *inp,
                                       const float *magnitude, const float *norm, int N, int OC)
{
    cpu()->dora_scale_backward(host(dinp), host(dmagnitude), host(dbias), host(dout), host(inp),
                               host(magnitude), host(norm), N, OC);
}

static void offset_norm_squared_accumulate(float *sum_squares, const float *x, size_t n)
{
    cpu()->norm_squared_accumulate(host(sum_squares), host(x), n);
}

static void offset_adamw_step(float *param, float *m, float *v, const float *grad, size_t n,
                              double lr, double beta1, double beta2, double eps,
                              double weight_decay, float grad_scale, int64_t step)
{
    cpu()->adamw_step(host(param), host(m), host(v), host(grad), n, lr, beta1, beta2, eps,
                      weight_decay, grad_scale, step);
}

static const hn_backend offset_backend = {
    .name = "offset",
    .alloc = offset_alloc,
    .free = offset_free,
    .zero = offset_zero,
    .copy_to_device = offset_copy_to_device,
    .copy_to_host = offset_copy_to_host,
    .copy = offset_copy,
    .synchronize = NULL, /* set from the CPU's (it touches no memory) */
    .axpy = offset_axpy,
    .matmul_forward = offset_matmul_forward,
    .block_matvec_int8 = offset_block_matvec_int8,
    .block_matvec_group = offset_block_matvec_group,
    .matmul_backward = offset_matmul_backward,
    .embedding_forward = offset_embedding_forward,
    .embedding_backward = offset_embedding_backward,
    .rmsnorm_forward = offset_rmsnorm_forward,
    .rmsnorm_backward = offset_rmsnorm_backward,
    .swiglu_forward = offset_swiglu_forward,
    .swiglu_backward = offset_swiglu_backward,
    .rope_forward = offset_rope_forward,
    .rope_backward = offset_rope_backward,
    .attention_forward = offset_attention_forward,
    .attention_backward = offset_attention_backward,
    .attention_cached_forward = offset_attention_cached_forward,
    .cross_entropy_forward = offset_cross_entropy_forward,
    .cross_entropy_backward = offset_cross_entropy_backward,
    .dropout_forward = offset_dropout_forward,
    .dropout_backward = offset_dropout_backward,
    .dora_norm_forward = offset_dora_norm_forward,
    .dora_scale_forward = offset_dora_scale_forward,
    .dora_scale_backward = offset_dora_scale_backward,
    .norm_squared_accumulate = offset_norm_squared_accumulate,
    .adamw_step = offset_adamw_step,
};

const hn_backend *test_offset_backend(void)
{
    static hn_backend table;
    static gsize ready = 0;
    if (g_once_init_enter(&ready)) {
        table = offset_backend;
        table.synchronize = cpu()->synchronize;
        g_once_init_leave(&ready, 1);
    }
    return &table;
}
