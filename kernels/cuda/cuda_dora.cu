// DoRA, weight-decomposed LoRA (Liu et al., arXiv:2402.09353), on the GPU as PEFT computes it
// (peft/tuners/lora/dora.py, DoraLinearLayer): the row norms ||W + scaling B A|| (eq. 5;
// get_weight_norm, detached, no backward) and the scale of each output column by
// magnitude / norm with its backward. Column sums (dmagnitude, dbias) are deterministic.
#include "cuda_elementwise_ops.h"
#include "cuda_kernels.cuh"

// Block o: norm[o] = sqrt(sum over c of (W[o, c] + scaling * B[o, :] . A[:, c])^2), the square
// sum in double (as the CPU backend). B's row o is read once into shared memory; the threads
// walk the channels c, so their reads of A's rows are coalesced.
__global__ static void dora_norm_kernel(float *norm, const void *weight,
                                        hn_weight_type weight_type, const float *lora_a,
                                        const float *lora_b, float scaling, int C, int r)
{
    extern __shared__ float b_row[]; // [r]
    const size_t o = blockIdx.x;
    for (int k = threadIdx.x; k < r; k += blockDim.x)
        b_row[k] = lora_b[o * r + k];
    __syncthreads();
    double sum_squares = 0.0;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float delta = 0.0f; // (B @ A)[o, c]
        for (int k = 0; k < r; k++)
            delta += b_row[k] * lora_a[(size_t)k * C + c];
        const float value = hn_cuda_weight_at(weight, weight_type, o, c, C) + scaling * delta;
        sum_squares += (double)value * value;
    }
    sum_squares = hn_block_sum(sum_squares);
    if (threadIdx.x == 0)
        norm[o] = (float)sqrt(sum_squares);
}

// out = inp * (magnitude / norm) + bias, column o = i % OC; out may equal inp.
__global__ static void dora_scale_forward_kernel(float *out, const float *inp,
                                                 const float *magnitude, const float *norm,
                                                 const float *bias, size_t count, int OC)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count;
         i += (size_t)gridDim.x * blockDim.x) {
        const int o = (int)(i % (size_t)OC);
        const float g = magnitude[o] / norm[o];
        out[i] = inp[i] * g + (bias != nullptr ? bias[o] : 0.0f);
    }
}

__global__ static void dora_scale_backward_input_kernel(float *dinp, const float *dout,
                                                        const float *magnitude,
                                                        const float *norm, size_t count, int OC)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count;
         i += (size_t)gridDim.x * blockDim.x) {
        const int o = (int)(i % (size_t)OC);
        dinp[i] += dout[i] * (magnitude[o] / norm[o]);
    }
}

namespace {
// dout * inp of row n, column o: the terms of dmagnitude (before the division by norm).
struct product_term {
    const float *dout, *inp;
    int OC;
    __device__ float operator()(int n, int o) const
    {
        size_t i = (size_t)n * OC + o;
        return dout[i] * inp[i];
    }
};
// dout of row n, column o: the terms of dbias.
struct dout_term {
    const float *dout;
    int OC;
    __device__ float operator()(int n, int o) const { return dout[(size_t)n * OC + o]; }
};
struct divide_by_norm {
    const float *norm;
    __device__ float operator()(int o, float sum) const { return sum / norm[o]; }
};
} // namespace

extern "C" void hn_cuda_dora_norm_forward(float *norm, const void *weight,
                                          hn_weight_type weight_type, const float *lora_a,
                                          const float *lora_b, float scaling, int C, int OC,
                                          int r)
{
    if (OC <= 0 || C <= 0)
        return;
    const size_t shared = (size_t)(r > 0 ? r : 0) * sizeof(float);
    // the default 48 KiB of shared memory per block, less hn_block_sum's static 32 doubles
    if (shared > 48 * 1024 - 32 * sizeof(double)) {
        hn_cuda_record_error("dora_norm_forward", "LoRA rank above 12224 is not supported");
        return;
    }
    dora_norm_kernel<<<(unsigned)OC, HN_CUDA_THREADS, shared, hn_cuda_current_stream()>>>(
        norm, weight, weight_type, lora_a, lora_b, scaling, C, r);
    hn_cuda_check_launch("dora_norm_forward");
}

extern "C" void hn_cuda_dora_scale_forward(float *out, const float *inp, const float *magnitude,
                                           const float *norm, const float *bias, int N, int OC)
{
    const size_t count = (size_t)N * OC;
    if (count == 0)
        return;
    dora_scale_forward_kernel<<<hn_cuda_blocks(count, HN_CUDA_THREADS), HN_CUDA_THREADS, 0,
                                hn_cuda_current_stream()>>>(out, inp, magnitude, norm, bias,
                                                            count, OC);
    hn_cuda_check_launch("dora_scale_forward");
}

extern "C" void hn_cuda_dora_scale_backward(float *dinp, float *dmagnitude, float *dbias,
                                            const float *dout, const float *inp,
                                            const float *magnitude, const float *norm, int N,
                                            int OC)
{
    const size_t count = (size_t)N * OC;
    if (count == 0)
        return;
    if (dinp != nullptr) {
        dora_scale_backward_input_kernel<<<hn_cuda_blocks(count, HN_CUDA_THREADS),
                                           HN_CUDA_THREADS, 0, hn_cuda_current_stream()>>>(
            dinp, dout, magnitude, norm, count, OC);
        hn_cuda_check_launch("dora_scale_backward");
    }
    if (dbias != nullptr)
        hn_cuda_column_sums(dbias, N, OC, dout_term{dout, OC}, hn_plain_sum{},
                            "dora_scale_backward");
    if (dmagnitude != nullptr)
        hn_cuda_column_sums(dmagnitude, N, OC, product_term{dout, inp, OC},
                            divide_by_norm{norm}, "dora_scale_backward");
}
