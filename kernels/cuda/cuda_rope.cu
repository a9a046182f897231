// Rotary position embedding on the GPU (Su et al., arXiv:2104.09864) in the half-split layout
// of transformers' apply_rotary_pos_emb (models/llama/modeling_llama.py): the pair
// (i, i + HD/2) of every head turns by angle = position * inv_freq[i]:
//   out[i] = x[i] c - x[i + HD/2] s,   out[i + HD/2] = x[i + HD/2] c + x[i] s,
// c, s = cos, sin(angle) * attention_factor. The backward adds the transpose (the rotation by
// -angle, times the same factor). One thread per pair: it reads both elements before writing
// them, so out may equal inp.
#include "cuda_elementwise_ops.h"
#include "cuda_kernels.cuh"

// sign = 1: out = R x (forward); sign = -1 and accumulate: out += R^T x (backward).
__global__ static void rope_kernel(float *out, const float *inp, const int32_t *position_ids,
                                   const float *inv_freq, float attention_factor, float sign,
                                   bool accumulate, size_t pairs, int NH, int HD)
{
    const int half = HD / 2;
    for (size_t p = blockIdx.x * (size_t)blockDim.x + threadIdx.x; p < pairs;
         p += (size_t)gridDim.x * blockDim.x) {
        const size_t token = p / ((size_t)NH * half);
        const int i = (int)(p % (size_t)half);
        const size_t head = p / half; // token * NH + h
        // fp32 product as transformers forms it: position_ids.float() * inv_freq; sinf and
        // cosf are nvcc's full-range versions (not the fast intrinsics)
        const float angle = (float)position_ids[token] * inv_freq[i];
        const float c = cosf(angle) * attention_factor;
        const float s = sinf(angle) * attention_factor * sign;
        const float *x = inp + head * HD;
        float *y = out + head * HD;
        const float x1 = x[i], x2 = x[i + half];
        const float first = x1 * c - x2 * s;
        const float second = x2 * c + x1 * s;
        if (accumulate) {
            y[i] += first;
            y[i + half] += second;
        } else {
            y[i] = first;
            y[i + half] = second;
        }
    }
}

static void launch_rope(const char *where, float *out, const float *inp,
                        const int32_t *position_ids, const float *inv_freq,
                        float attention_factor, float sign, bool accumulate, int B, int T,
                        int NH, int HD)
{
    const size_t pairs = (size_t)B * T * NH * (HD / 2);
    if (pairs == 0)
        return;
    rope_kernel<<<hn_cuda_blocks(pairs, HN_CUDA_THREADS), HN_CUDA_THREADS, 0,
                  hn_cuda_current_stream()>>>(out, inp, position_ids, inv_freq, attention_factor,
                                              sign, accumulate, pairs, NH, HD);
    hn_cuda_check_launch(where);
}

extern "C" void hn_cuda_rope_forward(float *out, const float *inp, const int32_t *position_ids,
                                     const float *inv_freq, float attention_factor, int B, int T,
                                     int NH, int HD)
{
    launch_rope("rope_forward", out, inp, position_ids, inv_freq, attention_factor, 1.0f, false,
                B, T, NH, HD);
}

extern "C" void hn_cuda_rope_backward(float *dinp, const float *dout,
                                      const int32_t *position_ids, const float *inv_freq,
                                      float attention_factor, int B, int T, int NH, int HD)
{
    launch_rope("rope_backward", dinp, dout, position_ids, inv_freq, attention_factor, -1.0f,
                true, B, T, NH, HD);
}
