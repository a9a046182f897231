// Device-side helpers shared by the CUDA backend's kernel files: launch sizes and error
// checks, warp/block sums, reading one weight element in any hn_weight_type, and deterministic
// column sums (per-block partials in scratch, then a second kernel adding them in order).
#pragma once

#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_ops.h"
#include "weight_blocks.h"

static constexpr unsigned HN_CUDA_THREADS = 256;       // threads per block, elementwise kernels
static constexpr unsigned HN_CUDA_MAX_BLOCKS = 1u << 20; // grid-stride loops cover any n

// The stream of this process (cuda_ops.h declares it without the runtime's header).
static inline cudaStream_t hn_cuda_current_stream()
{
    return hn_cuda_stream();
}

// Blocks of `threads` for n elements, capped for grid-stride loops.
static inline unsigned hn_cuda_blocks(size_t n, unsigned threads)
{
    size_t blocks = (n + threads - 1) / threads;
    if (blocks < 1)
        blocks = 1;
    return blocks > HN_CUDA_MAX_BLOCKS ? HN_CUDA_MAX_BLOCKS : (unsigned)blocks;
}

// Threads for one block per row of C elements: a multiple of the warp size, at most 256.
static inline unsigned hn_cuda_row_threads(int C)
{
    unsigned threads = ((unsigned)C + 31u) / 32u * 32u;
    return threads > HN_CUDA_THREADS ? HN_CUDA_THREADS : (threads < 32u ? 32u : threads);
}

// Records the launch error of the kernel just queued, if any, under the op's name.
static inline void hn_cuda_check_launch(const char *where)
{
    cudaError_t status = cudaGetLastError();
    if (status != cudaSuccess)
        hn_cuda_record_error(where, cudaGetErrorString(status));
}

// Sum over the 32 lanes of a warp, the same total in every lane (a butterfly: the order of
// additions is fixed, so the result is deterministic).
template <typename T> __device__ inline T hn_warp_sum(T value)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024), returned to every thread.
// Every thread of the block must call it; it may be called several times in one kernel.
template <typename T> __device__ inline T hn_block_sum(T value)
{
    __shared__ T warp_sums[32];
    const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    const unsigned warps = blockDim.x >> 5;
    value = hn_warp_sum(value);
    __syncthreads(); // warp_sums may still be read by a previous call
    if (lane == 0)
        warp_sums[warp] = value;
    __syncthreads();
    return hn_warp_sum(lane < warps ? warp_sums[lane] : T(0));
}

// The fp16 stored little-endian at p (any alignment).
__device__ inline float hn_cuda_half_at(const uint8_t *p)
{
    return hn_half_to_f32((uint16_t)(p[0] | (p[1] << 8)));
}

// Element c of row `row` of a [rows, C] weight stored as `type` (weight_blocks.h's layouts:
// bf16 is the upper half of an fp32; block_q8_0 x = d * q; block_q4_1 x = d * q + m, element j
// in the low nibble of qs[j], element j + 16 in its high nibble).
__device__ inline float hn_cuda_weight_at(const void *weight, hn_weight_type type, size_t row,
                                          int c, int C)
{
    const uint8_t *src = (const uint8_t *)weight + row * hn_weight_row_bytes(type, C);
    switch (type) {
    case HN_WEIGHT_BF16: {
        uint16_t bits = ((const uint16_t *)src)[c]; // rows of bf16 are 2-byte aligned
        return __uint_as_float((uint32_t)bits << 16);
    }
    case HN_WEIGHT_Q8_0: {
        const uint8_t *block = src + (size_t)(c / HN_BLOCK_ELEMENTS) * HN_Q8_0_BLOCK_BYTES;
        int8_t q = (int8_t)block[2 + c % HN_BLOCK_ELEMENTS];
        return hn_cuda_half_at(block) * (float)q;
    }
    case HN_WEIGHT_Q4_1: {
        const uint8_t *block = src + (size_t)(c / HN_BLOCK_ELEMENTS) * HN_Q4_1_BLOCK_BYTES;
        int j = c % HN_BLOCK_ELEMENTS, half = HN_BLOCK_ELEMENTS / 2;
        uint8_t byte = block[4 + j % half];
        float q = (float)(j < half ? (byte & 0x0f) : (byte >> 4));
        // d * q is exact in fp32, so this equals the CPU's d * q + m fused or not
        return hn_cuda_half_at(block) * q + hn_cuda_half_at(block + 2);
    }
    default:
        return ((const float *)src)[c];
    }
}

// ---- deterministic column sums --------------------------------------------------------------
// dst[c] (+)= finish(c, sum over n of term(n, c)) for a [N, C] term, without atomics: the rows
// are split into `groups` ranges; block (x, g) sums rows of range g for HN_CUDA_THREADS columns
// in row order into partial[g, c]; then one thread per column adds the groups' sums in order.
// The groups depend only on N, so the result has the same bits every run.

// The finish of a plain column sum: dst[c] += sum.
struct hn_plain_sum {
    __device__ float operator()(int, float sum) const { return sum; }
};

static inline int hn_cuda_row_groups(int N)
{
    return N < 128 ? N : 128;
}

template <typename Term>
__global__ void hn_partial_column_sums(float *partial, int N, int C, int groups, Term term)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int g = blockIdx.y;
    if (c >= C)
        return;
    const int begin = (int)((int64_t)N * g / groups), end = (int)((int64_t)N * (g + 1) / groups);
    float sum = 0.0f;
    for (int n = begin; n < end; n++)
        sum += term(n, c);
    partial[(size_t)g * C + c] = sum;
}

template <typename Finish>
__global__ void hn_finish_column_sums(float *dst, const float *partial, int C, int groups,
                                      Finish finish)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C)
        return;
    float sum = 0.0f;
    for (int g = 0; g < groups; g++)
        sum += partial[(size_t)g * C + c];
    dst[c] += finish(c, sum);
}

// Queues both kernels, with scratch slot 0 for the partial sums; `where` names the op in errors.
template <typename Term, typename Finish>
static void hn_cuda_column_sums(float *dst, int N, int C, Term term, Finish finish,
                                const char *where)
{
    const int groups = hn_cuda_row_groups(N);
    float *partial = (float *)hn_cuda_scratch(HN_CUDA_SLOT_PARTIALS, (size_t)groups * C * sizeof(float));
    if (partial == NULL)
        return; // the scratch recorded the error
    const unsigned column_blocks = ((unsigned)C + HN_CUDA_THREADS - 1) / HN_CUDA_THREADS;
    cudaStream_t stream = hn_cuda_current_stream();
    hn_partial_column_sums<<<dim3(column_blocks, (unsigned)groups), HN_CUDA_THREADS, 0, stream>>>(
        partial, N, C, groups, term);
    hn_cuda_check_launch(where);
    hn_finish_column_sums<<<column_blocks, HN_CUDA_THREADS, 0, stream>>>(dst, partial, C, groups,
                                                                         finish);
    hn_cuda_check_launch(where);
}
