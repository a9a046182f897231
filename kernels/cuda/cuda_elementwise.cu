// Elementwise ops of the CUDA backend, one thread per element in grid-stride loops:
// axpy (y += alpha x), SwiGLU (Shazeer, arXiv:2002.05202; silu = torch.nn.functional.silu)
// and inverted dropout (Srivastava et al., JMLR 2014, as torch's nn.Dropout) with the mask of
// hn_dropout_keep, the same function the CPU backend draws from, so both give the same mask.
#include "cuda_elementwise_ops.h"
#include "cuda_kernels.cuh"

// ---- axpy -----------------------------------------------------------------------------------

__global__ static void axpy_kernel(float *y, const float *x, float alpha, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        y[i] += alpha * x[i];
}

extern "C" void hn_cuda_axpy(float *y, const float *x, float alpha, size_t n)
{
    if (n == 0)
        return;
    axpy_kernel<<<hn_cuda_blocks(n, HN_CUDA_THREADS), HN_CUDA_THREADS, 0,
                  hn_cuda_current_stream()>>>(y, x, alpha, n);
    hn_cuda_check_launch("axpy");
}

// ---- SwiGLU: out = silu(gate) * up; d silu(x)/dx = s (1 + x (1 - s)), s = sigmoid(x) ---------

// expf (not the fast __expf) overflows to inf for x < -88: s = 0, never NaN.
__device__ static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

__global__ static void swiglu_forward_kernel(float *out, const float *gate, const float *up,
                                             size_t count)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count;
         i += (size_t)gridDim.x * blockDim.x)
        out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

__global__ static void swiglu_backward_kernel(float *dgate, float *dup, const float *dout,
                                              const float *gate, const float *up, size_t count)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count;
         i += (size_t)gridDim.x * blockDim.x) {
        float g = gate[i];
        float s = sigmoid(g);
        dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
        dup[i] += dout[i] * g * s;
    }
}

extern "C" void hn_cuda_swiglu_forward(float *out, const float *gate, const float *up, int N,
                                       int H)
{
    size_t count = (size_t)N * H;
    if (count == 0)
        return;
    swiglu_forward_kernel<<<hn_cuda_blocks(count, HN_CUDA_THREADS), HN_CUDA_THREADS, 0,
                            hn_cuda_current_stream()>>>(out, gate, up, count);
    hn_cuda_check_launch("swiglu_forward");
}

extern "C" void hn_cuda_swiglu_backward(float *dgate, float *dup, const float *dout,
                                        const float *gate, const float *up, int N, int H)
{
    size_t count = (size_t)N * H;
    if (count == 0)
        return;
    swiglu_backward_kernel<<<hn_cuda_blocks(count, HN_CUDA_THREADS), HN_CUDA_THREADS, 0,
                             hn_cuda_current_stream()>>>(dgate, dup, dout, gate, up, count);
    hn_cuda_check_launch("swiglu_backward");
}

// ---- dropout: kept elements scaled by 1 / (1 - p), the mask recomputed in the backward ------

static inline float dropout_scale(float p)
{
    return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
}

// out may equal inp: each element is read, then written, by one thread.
__global__ static void dropout_forward_kernel(float *out, const float *inp, float p,
                                              float scale, uint64_t seed, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        out[i] = hn_dropout_keep(seed, i, p) ? inp[i] * scale : 0.0f;
}

__global__ static void dropout_backward_kernel(float *dinp, const float *dout, float p,
                                               float scale, uint64_t seed, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        if (hn_dropout_keep(seed, i, p))
            dinp[i] += dout[i] * scale;
}

extern "C" void hn_cuda_dropout_forward(float *out, const float *inp, float p, uint64_t seed,
                                        size_t n)
{
    if (n == 0)
        return;
    dropout_forward_kernel<<<hn_cuda_blocks(n, HN_CUDA_THREADS), HN_CUDA_THREADS, 0,
                             hn_cuda_current_stream()>>>(out, inp, p, dropout_scale(p), seed, n);
    hn_cuda_check_launch("dropout_forward");
}

extern "C" void hn_cuda_dropout_backward(float *dinp, const float *dout, float p, uint64_t seed,
                                         size_t n)
{
    if (n == 0)
        return;
    dropout_backward_kernel<<<hn_cuda_blocks(n, HN_CUDA_THREADS), HN_CUDA_THREADS, 0,
                              hn_cuda_current_stream()>>>(dinp, dout, p, dropout_scale(p), seed, n);
    hn_cuda_check_launch("dropout_backward");
}
