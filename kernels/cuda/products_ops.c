/* The product half of the CUDA backend's table (cuda_ops.h): cuBLASLt opened (and its handle
 * created) first, then the matmul, cross-entropy and attention entries. The optional one-row
 * block products (block_matvec_int8, block_matvec_group) are left NULL: matmul_forward
 * covers block weights by widening them. */
#include "cublaslt_api.h"
#include "cuda_ops.h"
#include "products.h"

bool hn_cuda_fill_product_ops(hn_backend *table, char *error, size_t error_size)
{
    if (hn_cublaslt_open(error, error_size) == NULL)
        return false;
    table->matmul_forward = hn_cuda_matmul_forward;
    table->matmul_backward = hn_cuda_matmul_backward;
    table->block_matvec_int8 = NULL;
    table->block_matvec_group = NULL;
    table->cross_entropy_forward = hn_cuda_cross_entropy_forward;
    table->cross_entropy_backward = hn_cuda_cross_entropy_backward;
    table->attention_forward = hn_cuda_attention_forward;
    table->attention_backward = hn_cuda_attention_backward;
    table->attention_cached_forward = hn_cuda_attention_cached_forward;
    return true;
}
