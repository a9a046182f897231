/* hn_cuda_fill_elementwise_ops: the CUDA backend's elementwise half of the op table.
 * block_matvec_int8 and block_matvec_group (optional) stay NULL: this backend has none. */
#include "cuda_elementwise_ops.h"
#include "cuda_ops.h"

void hn_cuda_fill_elementwise_ops(hn_backend *table)
{
    table->axpy = hn_cuda_axpy;
    table->embedding_forward = hn_cuda_embedding_forward;
    table->embedding_backward = hn_cuda_embedding_backward;
    table->rmsnorm_forward = hn_cuda_rmsnorm_forward;
    table->rmsnorm_backward = hn_cuda_rmsnorm_backward;
    table->swiglu_forward = hn_cuda_swiglu_forward;
    table->swiglu_backward = hn_cuda_swiglu_backward;
    table->rope_forward = hn_cuda_rope_forward;
    table->rope_backward = hn_cuda_rope_backward;
    table->dropout_forward = hn_cuda_dropout_forward;
    table->dropout_backward = hn_cuda_dropout_backward;
    table->dora_norm_forward = hn_cuda_dora_norm_forward;
    table->dora_scale_forward = hn_cuda_dora_scale_forward;
    table->dora_scale_backward = hn_cuda_dora_scale_backward;
    table->norm_squared_accumulate = hn_cuda_norm_squared_accumulate;
    table->adamw_step = hn_cuda_adamw_step;
}
