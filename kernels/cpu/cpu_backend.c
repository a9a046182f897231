/* The CPU backend's table: host memory stands in for device memory, and the ops run on the
 * calling thread plus OpenMP's (GEMMs on OpenBLAS's). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "cpu_ops.h"
#include "matvec_int8.h"

enum {
    CPU_ALIGNMENT = 64,              /* a cache line, and room for AVX-512 loads */
    HUGE_PAGE = 2 * 1024 * 1024,     /* x86-64's transparent huge page */
};

/* Buffers of a huge page or more (the model's weights, the key/value cache) start on a huge
 * page boundary and ask the kernel for transparent huge pages (madvise(MADV_HUGEPAGE): needed
 * where THP is in "madvise" mode, Debian's default; ignored where THP is off). Decoding a
 * token streams every weight once, ~100 MB for SmolLM2-135M, and on 4 KiB pages the TLB
 * misses cost a third of that time (docs/PERFORMANCE.md, "Huge pages"). */
static void *cpu_alloc(size_t bytes)
{
    if (bytes < HUGE_PAGE) {
        size_t rounded = (bytes + CPU_ALIGNMENT - 1) / CPU_ALIGNMENT * CPU_ALIGNMENT;
        return aligned_alloc(CPU_ALIGNMENT, rounded > 0 ? rounded : CPU_ALIGNMENT);
    }
    size_t rounded = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *ptr = aligned_alloc(HUGE_PAGE, rounded);
    if (ptr != NULL)
        (void)madvise(ptr, rounded, MADV_HUGEPAGE); /* a hint: small pages if refused */
    return ptr;
}

static void cpu_free(void *ptr)
{
    free(ptr);
}

static void cpu_zero(void *ptr, size_t bytes)
{
    memset(ptr, 0, bytes);
}

static void cpu_copy(void *dst, const void *src, size_t bytes)
{
    memcpy(dst, src, bytes);
}

static bool cpu_synchronize(char *message, size_t size)
{
    if (size > 0)
        message[0] = '\0';
    return true;
}

static const hn_backend cpu_backend = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .free = cpu_free,
    .zero = cpu_zero,
    .copy_to_device = cpu_copy,
    .copy_to_host = cpu_copy,
    .copy = cpu_copy,
    .synchronize = cpu_synchronize,
    .axpy = hn_cpu_axpy,
    .matmul_forward = hn_cpu_matmul_forward,
    .block_matvec_int8 = hn_cpu_block_matvec_int8,
    .block_matvec_group = hn_cpu_block_matvec_group,
    .matmul_backward = hn_cpu_matmul_backward,
    .embedding_forward = hn_cpu_embedding_forward,
    .embedding_backward = hn_cpu_embedding_backward,
    .rmsnorm_forward = hn_cpu_rmsnorm_forward,
    .rmsnorm_backward = hn_cpu_rmsnorm_backward,
    .swiglu_forward = hn_cpu_swiglu_forward,
    .swiglu_backward = hn_cpu_swiglu_backward,
    .rope_forward = hn_cpu_rope_forward,
    .rope_backward = hn_cpu_rope_backward,
    .attention_forward = hn_cpu_attention_forward,
    .attention_backward = hn_cpu_attention_backward,
    .attention_cached_forward = hn_cpu_attention_cached_forward,
    .cross_entropy_forward = hn_cpu_cross_entropy_forward,
    .cross_entropy_backward = hn_cpu_cross_entropy_backward,
    .dropout_forward = hn_cpu_dropout_forward,
    .dropout_backward = hn_cpu_dropout_backward,
    .dora_norm_forward = hn_cpu_dora_norm_forward,
    .dora_scale_forward = hn_cpu_dora_scale_forward,
    .dora_scale_backward = hn_cpu_dora_scale_backward,
    .norm_squared_accumulate = hn_cpu_norm_squared_accumulate,
    .adamw_step = hn_cpu_adamw_step,
};

const hn_backend *hn_cpu_backend(void)
{
    return &cpu_backend;
}
