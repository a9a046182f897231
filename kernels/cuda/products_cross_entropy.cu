// The LM head and cross-entropy fused on the GPU, as cpu/cross_entropy.c does it: the
// vocabulary in chunks, a chunk's logits [N, chunk] computed by cuBLASLt into scratch, never
// [N, V] at once. Forward: a running max and sum per row across chunks (online log-sum-exp,
// Milakov & Gimelshein, arXiv:1805.02867), the target's logit picked from its chunk. Backward:
// the chunk's logits recomputed, dlogits = (softmax - onehot(target)) * dloss in place, then
// dhidden += dlogits @ W_chunk and dW_chunk += dlogits^T @ hidden (beta = 1), the same two
// requests as the linear layer's backward (gemm_plan.h). Rows whose target is ignored are
// computed with the rest (no compaction: their count is only known on the device) and get
// loss = lse = 0 and dlogits = 0, so they add nothing.
#include <math.h>

#include <cuda_runtime.h>

#include "cuda_ops.h"
#include "products.h"

namespace {

constexpr int kThreads = 256;

// Per-row state across chunks, in the ROWS scratch slot.
struct row_state {
    float max;           // running max of the logits
    float target_logit;  // the target's logit, once its chunk is seen
    double sum;          // of exp(logit - max), in double as the CPU backend keeps it
};

// Grid-stride: grid_for caps the grid, and N may exceed its threads.
__global__ void init_rows_kernel(row_state *rows, int N)
{
    for (int n = blockIdx.x * blockDim.x + threadIdx.x; n < N; n += gridDim.x * blockDim.x)
        rows[n] = row_state{-INFINITY, 0.0f, 0.0};
}

// A block's sum (double) or max (float) of one value per thread; every thread gets it.
template <typename T, typename Op> __device__ T block_reduce(T value, Op op, T *shared)
{
    for (int offset = 16; offset > 0; offset /= 2)
        value = op(value, __shfl_xor_sync(0xffffffffu, value, offset));
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0)
        shared[warp] = value;
    __syncthreads();
    T total = shared[0];
    for (int w = 1; w < kThreads / 32; w++)
        total = op(total, shared[w]);
    __syncthreads(); // shared is reused by the next reduction
    return total;
}

struct max_op {
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct sum_op {
    __device__ double operator()(double a, double b) const { return a + b; }
};

// One block per row: folds the chunk's logits [first, first + count) into the row's state.
__global__ void fold_chunk_kernel(row_state *rows, const float *logits, const int32_t *targets,
                                  int first, int count)
{
    __shared__ float shared_max[kThreads / 32];
    __shared__ double shared_sum[kThreads / 32];
    int n = blockIdx.x;
    int target = targets[n];
    if (target == HN_IGNORE_INDEX)
        return; // the whole block leaves together
    const float *row = logits + (size_t)n * count;
    float chunk_max = -INFINITY;
    for (int j = threadIdx.x; j < count; j += kThreads)
        chunk_max = fmaxf(chunk_max, row[j]);
    chunk_max = block_reduce(chunk_max, max_op(), shared_max);
    row_state state = rows[n];
    float new_max = fmaxf(state.max, chunk_max);
    float partial = 0.0f; // at most count / kThreads terms per thread
    for (int j = threadIdx.x; j < count; j += kThreads)
        partial += expf(row[j] - new_max);
    double sum = block_reduce((double)partial, sum_op(), shared_sum);
    if (threadIdx.x == 0) {
        state.sum = state.sum * (double)expf(state.max - new_max) + sum;
        state.max = new_max;
        if (target >= first && target < first + count)
            state.target_logit = row[target - first];
        rows[n] = state;
    }
}

__global__ void finish_kernel(float *losses, float *lse, const row_state *rows,
                              const int32_t *targets, int N)
{
    for (int n = blockIdx.x * blockDim.x + threadIdx.x; n < N; n += gridDim.x * blockDim.x) {
        if (targets[n] == HN_IGNORE_INDEX) {
            losses[n] = 0.0f;
            lse[n] = 0.0f;
            continue;
        }
        float row_lse = (float)((double)rows[n].max + log(rows[n].sum));
        lse[n] = row_lse;
        losses[n] = row_lse - rows[n].target_logit;
    }
}

// logits [N, count] -> dlogits in place: exp(logit - lse) * dloss, minus dloss at the target,
// 0 on ignored rows.
__global__ void dlogits_kernel(float *logits, const float *lse, const float *dlosses,
                               const int32_t *targets, int first, int count, size_t total)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t n = i / (size_t)count;
        int j = (int)(i % (size_t)count), target = targets[n];
        float gradient = 0.0f;
        if (target != HN_IGNORE_INDEX) {
            gradient = expf(logits[i] - lse[n]) * dlosses[n];
            if (target == first + j)
                gradient -= dlosses[n];
        }
        logits[i] = gradient;
    }
}

// Vocabulary rows per chunk: logits of about 16 MiB (the CPU backend's chunk, so the backend
// tests' "chunked" cases take several chunks here too) and a widened chunk of at most 16 MiB,
// at least 128 rows (when V has them).
int vocab_chunk(int N, int C, int V)
{
    size_t budget = (size_t)1 << 22; // floats
    size_t rows = budget / (size_t)(N > 0 ? N : 1);
    size_t by_weight = budget / (size_t)(C > 0 ? C : 1);
    if (by_weight < rows)
        rows = by_weight;
    if (rows < 128)
        rows = 128;
    rows = rows / 64 * 64; /* chunk offsets and the logits' leading dimension stay aligned for
                              cuBLASLt's fast kernels */
    return rows < (size_t)V ? (int)rows : V;
}

// The chunk's weight rows as fp32: the weight itself, or widened into scratch.
const float *chunk_weight(const void *weight, hn_weight_type type, int first, int count, int C,
                          int chunk)
{
    if (type == HN_WEIGHT_F32)
        return static_cast<const float *>(weight) + (size_t)first * C;
    float *tile = static_cast<float *>(
        hn_cuda_scratch(HN_PRODUCTS_SLOT_WEIGHT, (size_t)chunk * C * sizeof(float)));
    if (tile == nullptr || !hn_cuda_widen_rows(tile, weight, type, (size_t)first, count, C))
        return nullptr;
    return tile;
}

unsigned grid_for(size_t total)
{
    size_t blocks = (total + kThreads - 1) / kThreads;
    return (unsigned)(blocks < 8192 ? blocks : 8192);
}

} // namespace

extern "C" void hn_cuda_cross_entropy_forward(float *losses, float *lse, const float *hidden,
                                              const void *weight, hn_weight_type weight_type,
                                              const int32_t *targets, int N, int C, int V)
{
    const char *where = "cross_entropy_forward";
    cudaStream_t stream = hn_cuda_stream();
    int chunk = vocab_chunk(N, C, V);
    float *logits = static_cast<float *>(
        hn_cuda_scratch(HN_PRODUCTS_SLOT_LOGITS, (size_t)N * chunk * sizeof(float)));
    row_state *rows = static_cast<row_state *>(
        hn_cuda_scratch(HN_PRODUCTS_SLOT_ROWS, (size_t)N * sizeof(row_state)));
    if (logits == nullptr || rows == nullptr)
        return;
    init_rows_kernel<<<grid_for((size_t)N), kThreads, 0, stream>>>(rows, N);
    if (!hn_cuda_products_launched(where))
        return;
    for (int first = 0; first < V; first += chunk) {
        int count = first + chunk <= V ? chunk : V - first;
        const float *w = chunk_weight(weight, weight_type, first, count, C, chunk);
        // logits[N, count] = hidden @ w^T
        hn_gemm_request request = hn_gemm_linear_forward(N, C, count, count);
        if (w == nullptr ||
            !hn_cuda_gemm(&request, hidden, w, logits, 1.0f, 0.0f, nullptr, where))
            return;
        fold_chunk_kernel<<<N, kThreads, 0, stream>>>(rows, logits, targets, first, count);
        if (!hn_cuda_products_launched(where))
            return;
    }
    finish_kernel<<<grid_for((size_t)N), kThreads, 0, stream>>>(losses, lse, rows, targets, N);
    hn_cuda_products_launched(where);
}

extern "C" void hn_cuda_cross_entropy_backward(float *dhidden, float *dweight,
                                               const float *dlosses, const float *hidden,
                                               const void *weight, hn_weight_type weight_type,
                                               const int32_t *targets, const float *lse, int N,
                                               int C, int V)
{
    const char *where = "cross_entropy_backward";
    cudaStream_t stream = hn_cuda_stream();
    int chunk = vocab_chunk(N, C, V);
    float *dlogits = static_cast<float *>(
        hn_cuda_scratch(HN_PRODUCTS_SLOT_LOGITS, (size_t)N * chunk * sizeof(float)));
    if (dlogits == nullptr)
        return;
    for (int first = 0; first < V; first += chunk) {
        int count = first + chunk <= V ? chunk : V - first;
        const float *w = chunk_weight(weight, weight_type, first, count, C, chunk);
        hn_gemm_request logits_request = hn_gemm_linear_forward(N, C, count, count);
        if (w == nullptr ||
            !hn_cuda_gemm(&logits_request, hidden, w, dlogits, 1.0f, 0.0f, nullptr, where))
            return;
        size_t total = (size_t)N * count;
        dlogits_kernel<<<grid_for(total), kThreads, 0, stream>>>(dlogits, lse, dlosses, targets,
                                                                 first, count, total);
        if (!hn_cuda_products_launched(where))
            return;
        // dhidden[N, C] += dlogits[N, count] @ w[count, C]
        hn_gemm_request dinp = hn_gemm_linear_dinp(N, C, count, count);
        if (!hn_cuda_gemm(&dinp, dlogits, w, dhidden, 1.0f, 1.0f, nullptr, where))
            return;
        // dweight[first : first + count, C] += dlogits^T @ hidden
        if (dweight != nullptr) {
            hn_gemm_request dw = hn_gemm_linear_dweight(N, C, count, count);
            if (!hn_cuda_gemm(&dw, dlogits, hidden, dweight + (size_t)first * C, 1.0f, 1.0f,
                              nullptr, where))
                return;
        }
    }
}
