// RMSNorm on the GPU (Zhang & Sennrich, arXiv:1910.07467) as transformers' LlamaRMSNorm
// computes it, in fp32: y = x * r * w with r = rsqrt(mean(x^2) + eps).
// Backward, with g = dy * w: dx = r * g - x * r^3 * sum(g * x) / C; dw = sum over rows of
// dy * x * r, summed deterministically (per-group partials, then the groups in order).
// One block per row; sums over a row are block reductions with warp shuffles.
#include "cuda_elementwise_ops.h"
#include "cuda_kernels.cuh"

__global__ static void rmsnorm_forward_kernel(float *out, float *rstd, const float *inp,
                                              const float *weight, float eps, int C)
{
    const size_t n = blockIdx.x;
    const float *x = inp + n * C;
    float *y = out + n * C;
    float sum_squares = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        sum_squares += x[c] * x[c];
    sum_squares = hn_block_sum(sum_squares);
    // 1 / sqrtf as the CPU backend (IEEE division and square root, nvcc's defaults)
    const float r = 1.0f / sqrtf(sum_squares / (float)C + eps);
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        y[c] = x[c] * r * weight[c];
    if (rstd != nullptr && threadIdx.x == 0)
        rstd[n] = r;
}

__global__ static void rmsnorm_backward_input_kernel(float *dinp, const float *dout,
                                                     const float *inp, const float *weight,
                                                     const float *rstd, int C)
{
    const size_t n = blockIdx.x;
    const float *x = inp + n * C;
    const float *dy = dout + n * C;
    float *dx = dinp + n * C;
    const float r = rstd[n];
    float dot = 0.0f; // sum(dy * w * x)
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        dot += dy[c] * weight[c] * x[c];
    dot = hn_block_sum(dot);
    const float correction = r * r * r * dot / (float)C;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        dx[c] += r * dy[c] * weight[c] - x[c] * correction;
}

namespace {
// dy * x * r of row n, channel c: the terms of dweight.
struct dweight_term {
    const float *dout, *inp, *rstd;
    int C;
    __device__ float operator()(int n, int c) const
    {
        size_t i = (size_t)n * C + c;
        return dout[i] * inp[i] * rstd[n];
    }
};
} // namespace

extern "C" void hn_cuda_rmsnorm_forward(float *out, float *rstd, const float *inp,
                                        const float *weight, float eps, int N, int C)
{
    if (N <= 0 || C <= 0)
        return;
    rmsnorm_forward_kernel<<<(unsigned)N, hn_cuda_row_threads(C), 0,
                             hn_cuda_current_stream()>>>(out, rstd, inp, weight, eps, C);
    hn_cuda_check_launch("rmsnorm_forward");
}

extern "C" void hn_cuda_rmsnorm_backward(float *dinp, float *dweight, const float *dout,
                                         const float *inp, const float *weight,
                                         const float *rstd, int N, int C)
{
    if (N <= 0 || C <= 0)
        return;
    rmsnorm_backward_input_kernel<<<(unsigned)N, hn_cuda_row_threads(C), 0,
                                    hn_cuda_current_stream()>>>(dinp, dout, inp, weight, rstd, C);
    hn_cuda_check_launch("rmsnorm_backward");
    if (dweight != nullptr)
        hn_cuda_column_sums(dweight, N, C, dweight_term{dout, inp, rstd, C}, hn_plain_sum{},
                            "rmsnorm_backward");
}
