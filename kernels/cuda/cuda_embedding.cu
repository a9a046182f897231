// Token embedding on the GPU (torch.nn.functional.embedding): forward gathers table rows,
// widening bf16 and decoding GGUF blocks (Q8_0, Q4_1) element by element as weight_blocks.h
// does; backward scatter-adds into the table's gradient.
#include "cuda_elementwise_ops.h"
#include "cuda_kernels.cuh"

// Block n writes row n; its threads stride over the C channels.
__global__ static void embedding_forward_kernel(float *out, const int32_t *ids,
                                                const void *table, hn_weight_type table_type,
                                                int C)
{
    const size_t n = blockIdx.x;
    const size_t id = (size_t)ids[n];
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        out[n * C + c] = hn_cuda_weight_at(table, table_type, id, c, C);
}

// Repeated ids must add up without races. Each thread owns one channel c and walks the tokens
// in order, as the CPU backend's column blocks do: no atomics, and the same bits as the CPU.
// The parallelism is only C threads, each with N steps: fine for an embedding gradient (once a
// step, and only when the embedding trains), not a pattern for hot ops.
__global__ static void embedding_backward_kernel(float *__restrict__ dtable,
                                                 const float *__restrict__ dout,
                                                 const int32_t *__restrict__ ids, int N, int C)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C)
        return;
    for (int n = 0; n < N; n++)
        dtable[(size_t)ids[n] * C + c] += dout[(size_t)n * C + c];
}

extern "C" void hn_cuda_embedding_forward(float *out, const int32_t *ids, const void *table,
                                          hn_weight_type table_type, int N, int C)
{
    if (N <= 0 || C <= 0)
        return;
    embedding_forward_kernel<<<(unsigned)N, hn_cuda_row_threads(C), 0,
                               hn_cuda_current_stream()>>>(out, ids, table, table_type, C);
    hn_cuda_check_launch("embedding_forward");
}

extern "C" void hn_cuda_embedding_backward(float *dtable, const float *dout, const int32_t *ids,
                                           int N, int C)
{
    if (N <= 0 || C <= 0)
        return;
    // 64 threads a block spreads the C channels over more multiprocessors
    const unsigned threads = 64;
    embedding_backward_kernel<<<((unsigned)C + threads - 1) / threads, threads, 0,
                                hn_cuda_current_stream()>>>(dtable, dout, ids, N, C);
    hn_cuda_check_launch("embedding_backward");
}
