/* The CUDA backend's elementwise, normalization, position, DoRA and optimizer ops, one
 * declaration per hn_backend entry (backend.h has each one's meaning); defined in the .cu files
 * named beside them and put in the table by cuda_elementwise_table.c. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cuda_elementwise.cu */
void hn_cuda_axpy(float *y, const float *x, float alpha, size_t n);
void hn_cuda_swiglu_forward(float *out, const float *gate, const float *up, int N, int H);
void hn_cuda_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                             const float *up, int N, int H);
void hn_cuda_dropout_forward(float *out, const float *inp, float p, uint64_t seed, size_t n);
void hn_cuda_dropout_backward(float *dinp, const float *dout, float p, uint64_t seed, size_t n);

/* cuda_embedding.cu */
void hn_cuda_embedding_forward(float *out, const int32_t *ids, const void *table,
                               hn_weight_type table_type, int N, int C);
void hn_cuda_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int N,
                                int C);

/* cuda_norms.cu */
void hn_cuda_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight,
                             float eps, int N, int C);
void hn_cuda_rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                              const float *weight, const float *rstd, int N, int C);

/* cuda_rope.cu */
void hn_cuda_rope_forward(float *out, const float *inp, const int32_t *position_ids,
                          const float *inv_freq, float attention_factor, int B, int T, int NH,
                          int HD);
void hn_cuda_rope_backward(float *dinp, const float *dout, const int32_t *position_ids,
                           const float *inv_freq, float attention_factor, int B, int T, int NH,
                           int HD);

/* cuda_dora.cu */
void hn_cuda_dora_norm_forward(float *norm, const void *weight, hn_weight_type weight_type,
                               const float *lora_a, const float *lora_b, float scaling, int C,
                               int OC, int r);
void hn_cuda_dora_scale_forward(float *out, const float *inp, const float *magnitude,
                                const float *norm, const float *bias, int N, int OC);
void hn_cuda_dora_scale_backward(float *dinp, float *dmagnitude, float *dbias, const float *dout,
                                 const float *inp, const float *magnitude, const float *norm,
                                 int N, int OC);

/* cuda_optimizer.cu */
void hn_cuda_norm_squared_accumulate(float *sum_squares, const float *x, size_t n);
void hn_cuda_adamw_step(float *param, float *m, float *v, const float *grad, size_t n, double lr,
                        double beta1, double beta2, double eps, double weight_decay,
                        float grad_scale, int64_t step);

#ifdef __cplusplus
}
#endif
