/* The CUDA backend's internal contract between its files (not for the engine): the run's
 * stream and error state (cuda_backend.c), and the two halves of the op table, each filled by
 * the files that implement them. Every op has the signature and meaning of its hn_backend
 * entry (backend.h); pointers are device pointers; ops are queued on hn_cuda_stream() and
 * never synchronize. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CUstream_st *hn_cuda_stream_t; /* cudaStream_t without the runtime's header */

/* The stream every op of this process queues on (one device, one stream per run). */
hn_cuda_stream_t hn_cuda_stream(void);

/* The GEMM math chosen with hn_cuda_backend. */
hn_gpu_math hn_cuda_math(void);

/* Records the first error of a launch or library call ("where: what"); synchronize reports it
 * and clears it. Ops call it instead of aborting: the engine sees the error at its next
 * synchronize and fails with the message. */
void hn_cuda_record_error(const char *where, const char *what);

/* Scratch device memory owned by the backend, valid until the next call on the stream that
 * asks for scratch with the same slot; grows as needed (NULL and an error recorded when out of
 * memory). Slots let one op hold two buffers at once. */
enum { HN_CUDA_SCRATCH_SLOTS = 5 };
/* The slot of the elementwise ops' partial sums (the products use 0-3, products.h). */
enum { HN_CUDA_SLOT_PARTIALS = 4 };
void *hn_cuda_scratch(int slot, size_t bytes);

/* Elementwise, normalization, position, optimizer ops (cuda_elementwise_table.c, cuda_*.cu):
 * axpy, embedding, rmsnorm, swiglu, rope, dropout, dora_norm/dora_scale, norm_squared_accumulate,
 * adamw_step. */
void hn_cuda_fill_elementwise_ops(hn_backend *table);

/* Products (products_ops.c, products_*.cu / .c): matmul_forward/backward through cuBLASLt,
 * cross_entropy_forward/backward, attention_forward/backward, attention_cached_forward. Returns
 * false with a message when cuBLASLt cannot be opened. */
bool hn_cuda_fill_product_ops(hn_backend *table, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif
