// The optimizer's ops on the GPU: the squared L2 norm of gradients (for clipping as
// torch.nn.utils.clip_grad_norm_), summed in double, and one AdamW step (Loshchilov & Hutter,
// arXiv:1711.05101) in the order of operations of torch.optim.AdamW's single-tensor path
// (torch/optim/adamw.py, adam.py), the same as the CPU backend's cpu/adamw.c.
#include <math.h>

#include "cuda_elementwise_ops.h"
#include "cuda_kernels.cuh"

// Blocks of the first pass of the norm: a function of n only, so the sum's order (and bits)
// are the same every run.
static constexpr unsigned NORM_MAX_BLOCKS = 1024;

// partial[block] = sum of x^2 over the block's grid-stride share, in double.
__global__ static void norm_partial_kernel(double *partial, const float *x, size_t n)
{
    double sum = 0.0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        sum += (double)x[i] * x[i];
    sum = hn_block_sum(sum);
    if (threadIdx.x == 0)
        partial[blockIdx.x] = sum;
}

// sum_squares[0] += the partials' sum: one block, one add into the float.
__global__ static void norm_finish_kernel(float *sum_squares, const double *partial,
                                          unsigned count)
{
    double sum = 0.0;
    for (unsigned i = threadIdx.x; i < count; i += blockDim.x)
        sum += partial[i];
    sum = hn_block_sum(sum);
    if (threadIdx.x == 0)
        sum_squares[0] = (float)((double)sum_squares[0] + sum);
}

extern "C" void hn_cuda_norm_squared_accumulate(float *sum_squares, const float *x, size_t n)
{
    if (n == 0)
        return;
    unsigned blocks = hn_cuda_blocks(n, HN_CUDA_THREADS * 4);
    if (blocks > NORM_MAX_BLOCKS)
        blocks = NORM_MAX_BLOCKS;
    double *partial = (double *)hn_cuda_scratch(HN_CUDA_SLOT_PARTIALS, blocks * sizeof(double));
    if (partial == nullptr)
        return; // the scratch recorded the error
    cudaStream_t stream = hn_cuda_current_stream();
    norm_partial_kernel<<<blocks, HN_CUDA_THREADS, 0, stream>>>(partial, x, n);
    hn_cuda_check_launch("norm_squared_accumulate");
    norm_finish_kernel<<<1, HN_CUDA_THREADS, 0, stream>>>(sum_squares, partial, blocks);
    hn_cuda_check_launch("norm_squared_accumulate");
}

// The scalars of one step, computed on the host in double as torch does in Python, then used
// in fp32 (cpu/adamw.c forms them the same way).
struct adamw_scalars {
    float decay, step_size, bias_correction2_sqrt, m_weight, v_weight, beta1, beta2, eps,
        grad_scale;
    bool lerp_from_m; // m.lerp_(g, 1 - beta1): torch's lerp is exact at its nearer end
};

// Each product and sum rounded on its own (__fmul_rn, __fadd_rn: never fused into an FMA), so
// the step has the bits of the CPU backend's unfused fp32 arithmetic.
__global__ static void adamw_kernel(float *param, float *m, float *v, const float *grad,
                                    size_t n, adamw_scalars s)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        const float g = __fmul_rn(grad[i], s.grad_scale);
        const float p = __fmul_rn(param[i], s.decay);
        const float mi = s.lerp_from_m
                             ? __fadd_rn(m[i], __fmul_rn(s.m_weight, __fsub_rn(g, m[i])))
                             : __fsub_rn(g, __fmul_rn(__fsub_rn(g, m[i]), s.beta1));
        const float vi = __fadd_rn(__fmul_rn(v[i], s.beta2),
                                   __fmul_rn(__fmul_rn(s.v_weight, g), g));
        const float denominator =
            __fadd_rn(__fdiv_rn(sqrtf(vi), s.bias_correction2_sqrt), s.eps);
        param[i] = __fsub_rn(p, __fmul_rn(s.step_size, __fdiv_rn(mi, denominator)));
        m[i] = mi;
        v[i] = vi;
    }
}

extern "C" void hn_cuda_adamw_step(float *param, float *m, float *v, const float *grad, size_t n,
                                   double lr, double beta1, double beta2, double eps,
                                   double weight_decay, float grad_scale, int64_t step)
{
    if (n == 0)
        return;
    adamw_scalars s;
    s.decay = (float)(1.0 - lr * weight_decay);
    s.step_size = (float)(lr / (1.0 - pow(beta1, (double)step)));
    s.bias_correction2_sqrt = (float)sqrt(1.0 - pow(beta2, (double)step));
    s.m_weight = (float)(1.0 - beta1);
    s.v_weight = (float)(1.0 - beta2);
    s.beta1 = (float)beta1;
    s.beta2 = (float)beta2;
    s.eps = (float)eps;
    s.grad_scale = grad_scale;
    s.lerp_from_m = s.m_weight < 0.5f;
    adamw_kernel<<<hn_cuda_blocks(n, HN_CUDA_THREADS), HN_CUDA_THREADS, 0,
                   hn_cuda_current_stream()>>>(param, m, v, grad, n, s);
    hn_cuda_check_launch("adamw_step");
}
