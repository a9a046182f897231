// The linear layer on the GPU (matmul.c's meaning: out = inp @ W^T + bias and its backward)
// through cuBLASLt (products_gemm.c), with the weight-widening kernel the products share and
// the bias gradient's column sums.
//
// Weights not in fp32 (bf16, GGUF Q8_0 / Q4_1) are widened to fp32 in scratch a tile of rows
// at a time (about 64 MiB) and go through the same fp32 GEMM. For bf16 this was chosen over a
// bf16 x bf16 GEMM: widening is exact, so every math mode keeps its meaning (HN_GPU_MATH_FP32
// stays exact fp32 against the CPU backend, where a bf16 GEMM would also round the fp32
// activations to bf16), the BIAS epilogue and all layouts stay the single fp32 path that
// gemm_plan is tested for, and the cost is one extra pass over the weight tile.
#include <cuda_runtime.h>

#include "cuda_ops.h"
#include "products.h"
#include "weight_widen.h"

namespace {

// dst[i] for i < count = rows * C: element (i / C, i % C) of the rows at src (weight_widen.h).
__global__ void widen_rows_kernel(float *dst, const uint8_t *src, hn_weight_type type,
                                  size_t row_bytes, size_t count, int C)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / (size_t)C;
        dst[i] = hn_widen_element(src + r * row_bytes, type, (int)(i % (size_t)C));
    }
}

// dst[o] += sum over n of src[n, o]: a block per 32 columns, 8 rows of threads each summing
// every 8th row (coalesced along the columns), then the 8 partial sums in a fixed order.
__global__ void add_column_sums_kernel(float *dst, const float *src, int N, int OC)
{
    __shared__ float partial[8][33];
    int column = blockIdx.x * 32 + threadIdx.x;
    float sum = 0.0f;
    if (column < OC)
        for (int n = threadIdx.y; n < N; n += 8)
            sum += src[(size_t)n * OC + column];
    partial[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && column < OC) {
        float total = 0.0f;
        for (int y = 0; y < 8; y++)
            total += partial[y][threadIdx.x];
        dst[column] += total;
    }
}

} // namespace

extern "C" int hn_cuda_widen_tile_rows(int C, int OC)
{
    int rows = (int)(((size_t)16 << 20) / (size_t)(C > 0 ? C : 1));
    rows = rows >= 64 ? rows / 64 * 64 : 1; /* tile offsets stay aligned for cuBLASLt */
    return rows < OC ? rows : OC;
}

extern "C" bool hn_cuda_widen_rows(float *dst, const void *weight, hn_weight_type type,
                                   size_t first, int rows, int C)
{
    size_t row_bytes = hn_weight_row_bytes(type, C), count = (size_t)rows * C;
    size_t blocks = (count + 255) / 256;
    widen_rows_kernel<<<(unsigned)(blocks < 8192 ? blocks : 8192), 256, 0, hn_cuda_stream()>>>(
        dst, static_cast<const uint8_t *>(weight) + first * row_bytes, type, row_bytes, count, C);
    return hn_cuda_products_launched("widen weight rows");
}

// Calls step(first, count, rows) over the weight's rows as fp32, rows[count, C] standing for
// weight rows first .. first + count - 1: the weight itself in one step when it is fp32, else
// widened into scratch a tile at a time. False as soon as a step or the widening failed (the
// error recorded).
template <typename Step>
static bool for_each_fp32_tile(const void *weight, hn_weight_type weight_type, int C, int OC,
                               Step step)
{
    if (weight_type == HN_WEIGHT_F32)
        return step(0, OC, static_cast<const float *>(weight));
    int rows = hn_cuda_widen_tile_rows(C, OC);
    float *tile = static_cast<float *>(
        hn_cuda_scratch(HN_PRODUCTS_SLOT_WEIGHT, (size_t)rows * C * sizeof(float)));
    if (tile == nullptr)
        return false;
    for (int first = 0; first < OC; first += rows) {
        int count = first + rows <= OC ? rows : OC - first;
        if (!hn_cuda_widen_rows(tile, weight, weight_type, (size_t)first, count, C) ||
            !step(first, count, tile))
            return false;
    }
    return true;
}

extern "C" void hn_cuda_matmul_forward(float *out, const float *inp, const void *weight,
                                       hn_weight_type weight_type, const float *bias, int N,
                                       int C, int OC)
{
    // out[:, first : first + count] = inp @ rows^T (+ bias[first : first + count])
    for_each_fp32_tile(weight, weight_type, C, OC, [&](int first, int count, const float *rows) {
        hn_gemm_request request = hn_gemm_linear_forward(N, C, count, OC);
        return hn_cuda_gemm(&request, inp, rows, out + first, 1.0f, 0.0f,
                            bias != nullptr ? bias + first : nullptr, "matmul_forward");
    });
}

extern "C" void hn_cuda_matmul_backward(float *dinp, float *dweight, float *dbias,
                                        const float *dout, const float *inp, const void *weight,
                                        hn_weight_type weight_type, int N, int C, int OC)
{
    // dinp[N, C] += dout[:, first : first + count] @ rows
    if (dinp != nullptr &&
        !for_each_fp32_tile(weight, weight_type, C, OC, [&](int first, int count,
                                                            const float *rows) {
            hn_gemm_request request = hn_gemm_linear_dinp(N, C, count, OC);
            return hn_cuda_gemm(&request, dout + first, rows, dinp, 1.0f, 1.0f, nullptr,
                                "matmul_backward (dinp)");
        }))
        return;
    if (dweight != nullptr) {
        // dweight[OC, C] += dout^T @ inp
        hn_gemm_request request = hn_gemm_linear_dweight(N, C, OC, OC);
        if (!hn_cuda_gemm(&request, dout, inp, dweight, 1.0f, 1.0f, nullptr,
                          "matmul_backward (dweight)"))
            return;
    }
    if (dbias != nullptr) {
        add_column_sums_kernel<<<(OC + 31) / 32, dim3(32, 8), 0, hn_cuda_stream()>>>(dbias, dout,
                                                                                    N, OC);
        hn_cuda_products_launched("matmul_backward (dbias)");
    }
}
