/* Rotary position embedding (Su et al., arXiv:2104.09864) in the half-split layout of
 * transformers' apply_rotary_pos_emb (models/llama/modeling_llama.py):
 *   out = x * cos + rotate_half(x) * sin,  rotate_half(x) = cat(-x[HD/2:], x[:HD/2]),
 * so the pair (i, i + HD/2) turns by angle = position * inv_freq[i]:
 *   out[i] = x[i] c - x[i + HD/2] s,   out[i + HD/2] = x[i + HD/2] c + x[i] s,
 * with c, s = cos, sin(angle) * attention_factor. The backward applies the transpose
 * (the rotation by -angle, times the same factor). */
#include <math.h>

#include "cpu_ops.h"

/* Rotates every head of one token [NH, HD] by the token's angles; sign -1 rotates backwards.
 * accumulate adds into dst (the backward) instead of writing it. */
static void rotate_token(float *dst, const float *src, int32_t position, const float *inv_freq,
                         float attention_factor, float sign, bool accumulate, int NH, int HD)
{
    int half = HD / 2;
    for (int i = 0; i < half; i++) {
        /* fp32 product as transformers forms it: position_ids.float() * inv_freq */
        float angle = (float)position * inv_freq[i];
        float c = cosf(angle) * attention_factor;
        float s = sinf(angle) * attention_factor * sign;
        for (int h = 0; h < NH; h++) {
            const float *x = src + (size_t)h * HD;
            float *y = dst + (size_t)h * HD;
            float first = x[i] * c - x[i + half] * s;
            float second = x[i + half] * c + x[i] * s;
            if (accumulate) {
                y[i] += first;
                y[i + half] += second;
            } else {
                y[i] = first;
                y[i + half] = second;
            }
        }
    }
}

void hn_cpu_rope_forward(float *out, const float *inp, const int32_t *position_ids,
                         const float *inv_freq, float attention_factor, int B, int T, int NH,
                         int HD)
{
    size_t tokens = (size_t)B * T, token_size = (size_t)NH * HD;
#pragma omp parallel for schedule(static) if (tokens * token_size > 32768)
    for (size_t t = 0; t < tokens; t++)
        rotate_token(out + t * token_size, inp + t * token_size, position_ids[t], inv_freq,
                     attention_factor, 1.0f, false, NH, HD);
}

void hn_cpu_rope_backward(float *dinp, const float *dout, const int32_t *position_ids,
                          const float *inv_freq, float attention_factor, int B, int T, int NH,
                          int HD)
{
    size_t tokens = (size_t)B * T, token_size = (size_t)NH * HD;
#pragma omp parallel for schedule(static)
    for (size_t t = 0; t < tokens; t++)
        rotate_token(dinp + t * token_size, dout + t * token_size, position_ids[t], inv_freq,
                     attention_factor, -1.0f, true, NH, HD);
}
