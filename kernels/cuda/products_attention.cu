// Causal attention on the GPU as plain fp32 kernels, tiled as FlashAttention does it, so memory
// grows with T and never T^2 (the meaning is backend.h's and cpu/attention_forward.c's:
// grouped KV heads, per-document masks, sliding window, scale).
//
// Forward (FlashAttention, Dao et al., arXiv:2205.14135, with FlashAttention-2's online
// softmax, Dao, arXiv:2307.08691, Algorithm 1): a block takes kQueries queries of one (batch
// row, query head), a warp kRowsPerWarp of them; key tiles of kKeys keys and values go
// through shared memory, a lane scores one key of the tile, and each query row keeps a running
// max m, sum l and output o (lane owns dims lane + 32 i):
//   m' = max(m, max_j s_j),  l = l e^(m - m') + sum_j e^(s_j - m'),  o = o e^(m - m') + sum_j
//   e^(s_j - m') v_j;  finally out = o / l, lse = m + log l.
// The same kernel serves attention_cached_forward (queries at positions past .. past + T - 1
// against past + T cached keys, no lse).
//
// Backward (FlashAttention-2, Algorithm 2, split in two kernels so that every gradient element
// has one writer and no atomics: deterministic): D = rowsum(dO * O); then
//   dq kernel, per query row over its keys:  P = exp(scale q.k - lse), dP = dO.v,
//     dS = P (dP - D), dq += scale * sum_j dS_j k_j;
//   dkdv kernel, per key row of a KV head over every query head of its group and every query
//     that sees it: dv += sum_t P_t dO_t, dk += scale * sum_t dS_t q_t,
// so the query heads sharing a KV head add into dk, dv in a fixed order (one warp owns a key
// row for the whole group).
//
// What cuDNN's SDPA (the cuDNN graph API's scaled-dot-product attention, forward and
// backward, bf16/fp16 on tensor cores) would replace: all of this file for training shapes;
// it is not wired in yet. These kernels favour clarity over speed (CUDA cores, fp32, a warp
// reduction per key tile).
#include <math.h>

#include <cuda_runtime.h>

#include "attention_tiles.h"
#include "cuda_ops.h"
#include "products.h"

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kQueries = HN_ATTENTION_QUERIES;
constexpr int kKeys = HN_ATTENTION_KEYS;
constexpr int kKeyRows = HN_ATTENTION_KEY_ROWS;
constexpr int kQueryTile = HN_ATTENTION_QUERY_TILE;
constexpr int kRowsPerWarp = kQueries / kWarps;
static_assert(kQueries % kWarps == 0 && kKeyRows == kQueries, "a warp owns kRowsPerWarp rows");
static_assert(kKeys == 32 && kQueryTile == 32, "one key or query per lane");
constexpr int kPerLane = 8;                     // head dims per lane
constexpr int kMaxHD = 32 * kPerLane;
constexpr unsigned kFull = 0xffffffffu;

struct attention_params {
    const float *q, *k, *v, *dout;
    const float *lse, *D;      // [B, NH, T]
    hn_attention_mask mask;    // doc_start, T, past, window
    float scale;
    int T, keys, NH, NKV, HD, group;
};

__device__ size_t q_index(const attention_params &p, int b, int t, int h)
{
    return (((size_t)b * p.T + t) * p.NH + h) * p.HD;
}

__device__ size_t kv_index(const attention_params &p, int b, int s, int kv)
{
    return (((size_t)b * p.keys + s) * p.NKV + kv) * p.HD;
}

__device__ size_t lse_index(const attention_params &p, int b, int h, int t)
{
    return ((size_t)b * p.NH + h) * p.T + t;
}

__device__ int first_key(const attention_params &p, int b, int t)
{
    return hn_attention_first_key(&p.mask, b, t);
}

__device__ float warp_max(float x)
{
    for (int offset = 16; offset > 0; offset /= 2)
        x = fmaxf(x, __shfl_xor_sync(kFull, x, offset));
    return x;
}

__device__ float warp_sum(float x)
{
    for (int offset = 16; offset > 0; offset /= 2)
        x += __shfl_xor_sync(kFull, x, offset);
    return x;
}

__device__ float dot(const float *x, const float *y, int n)
{
    float sum = 0.0f;
    for (int d = 0; d < n; d++)
        sum += x[d] * y[d];
    return sum;
}

// rows[count, HD] from global rows of `stride_rows` floats apart, into shared rows of `pitch`
// floats; rows past `valid` are zero.
__device__ void load_rows(float *shared, int pitch, const float *global, size_t stride_rows,
                          int count, int valid, int HD)
{
    for (int i = threadIdx.x; i < count * HD; i += blockDim.x) {
        int r = i / HD, d = i % HD;
        shared[r * pitch + d] = r < valid ? global[(size_t)r * stride_rows + d] : 0.0f;
    }
}

// grid (query blocks, NH, B). Shared: q [kQueries, HD], k and v [kKeys, HD + 1].
__global__ void forward_kernel(float *out, float *lse, attention_params p)
{
    extern __shared__ float shared[];
    const int HD = p.HD, pitch = HD + 1;
    float *q_s = shared, *k_s = q_s + kQueries * HD, *v_s = k_s + kKeys * pitch;
    const int b = blockIdx.z, h = blockIdx.y, t0 = blockIdx.x * kQueries;
    const int kv = h / p.group, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rows = min(kQueries, p.T - t0);
    load_rows(q_s, HD, p.q + q_index(p, b, t0, h), (size_t)p.NH * HD, kQueries, rows, HD);

    float m[kRowsPerWarp], l[kRowsPerWarp], o[kRowsPerWarp][kPerLane];
    int from[kRowsPerWarp], to[kRowsPerWarp];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; rr++) {
        int r = warp + rr * kWarps;
        from[rr] = r < rows ? first_key(p, b, t0 + r) : 1;
        to[rr] = r < rows ? p.mask.past + t0 + r : 0;
        m[rr] = -INFINITY;
        l[rr] = 0.0f;
#pragma unroll
        for (int i = 0; i < kPerLane; i++)
            o[rr][i] = 0.0f;
    }
    int key_begin, key_end;
    hn_attention_block_keys(&p.mask, b, t0, rows, &key_begin, &key_end);
    for (int s0 = key_begin; s0 <= key_end; s0 += kKeys) {
        __syncthreads(); // the previous tile is consumed (and q_s loaded)
        int valid = min(kKeys, key_end - s0 + 1);
        load_rows(k_s, pitch, p.k + kv_index(p, b, s0, kv), (size_t)p.NKV * HD, kKeys, valid,
                  HD);
        load_rows(v_s, pitch, p.v + kv_index(p, b, s0, kv), (size_t)p.NKV * HD, kKeys, valid,
                  HD);
        __syncthreads();
        const int s = s0 + lane;
#pragma unroll
        for (int rr = 0; rr < kRowsPerWarp; rr++) {
            int r = warp + rr * kWarps;
            if (r >= rows) // warp-uniform
                continue;
            bool visible = s >= from[rr] && s <= to[rr];
            float score = visible ? dot(q_s + r * HD, k_s + lane * pitch, HD) * p.scale : 0.0f;
            float new_max = fmaxf(m[rr], warp_max(visible ? score : -INFINITY));
            if (new_max == -INFINITY) // nothing visible yet (warp-uniform)
                continue;
            float probability = visible ? expf(score - new_max) : 0.0f;
            float correction = expf(m[rr] - new_max); // 0 while m is -inf
            l[rr] = l[rr] * correction + warp_sum(probability);
            m[rr] = new_max;
#pragma unroll
            for (int i = 0; i < kPerLane; i++)
                o[rr][i] *= correction;
            for (int j = 0; j < kKeys; j++) {
                float pj = __shfl_sync(kFull, probability, j);
#pragma unroll
                for (int i = 0; i < kPerLane; i++) {
                    int d = lane + 32 * i;
                    if (d < HD)
                        o[rr][i] += pj * v_s[j * pitch + d];
                }
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; rr++) {
        int r = warp + rr * kWarps;
        if (r >= rows)
            continue;
        float *row = out + q_index(p, b, t0 + r, h);
#pragma unroll
        for (int i = 0; i < kPerLane; i++) {
            int d = lane + 32 * i;
            if (d < HD)
                row[d] = o[rr][i] / l[rr];
        }
        if (lse != nullptr && lane == 0)
            lse[lse_index(p, b, h, t0 + r)] = m[rr] + logf(l[rr]);
    }
}

// D[b, h, t] = dout . out, a warp per row of [B, T, NH].
__global__ void output_dots_kernel(float *D, const float *dout, const float *out,
                                   attention_params p, size_t total_rows)
{
    size_t row = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (row >= total_rows) // warp-uniform
        return;
    float sum = 0.0f;
    for (int d = lane; d < p.HD; d += 32)
        sum += dout[row * p.HD + d] * out[row * p.HD + d];
    sum = warp_sum(sum);
    int h = (int)(row % (size_t)p.NH), t = (int)(row / p.NH % (size_t)p.T);
    int b = (int)(row / p.NH / p.T);
    if (lane == 0)
        D[lse_index(p, b, h, t)] = sum;
}

// grid (query blocks, NH, B). Shared: q, dout [kQueries, HD]; k, v [kKeys, HD + 1].
__global__ void dq_kernel(float *dq, attention_params p)
{
    extern __shared__ float shared[];
    const int HD = p.HD, pitch = HD + 1;
    float *q_s = shared, *do_s = q_s + kQueries * HD, *k_s = do_s + kQueries * HD;
    float *v_s = k_s + kKeys * pitch;
    const int b = blockIdx.z, h = blockIdx.y, t0 = blockIdx.x * kQueries;
    const int kv = h / p.group, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rows = min(kQueries, p.T - t0);
    load_rows(q_s, HD, p.q + q_index(p, b, t0, h), (size_t)p.NH * HD, kQueries, rows, HD);
    load_rows(do_s, HD, p.dout + q_index(p, b, t0, h), (size_t)p.NH * HD, kQueries, rows, HD);

    float acc[kRowsPerWarp][kPerLane], row_lse[kRowsPerWarp], row_D[kRowsPerWarp];
    int from[kRowsPerWarp], to[kRowsPerWarp];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; rr++) {
        int r = warp + rr * kWarps;
        bool valid = r < rows;
        from[rr] = valid ? first_key(p, b, t0 + r) : 1;
        to[rr] = valid ? t0 + r : 0;
        row_lse[rr] = valid ? p.lse[lse_index(p, b, h, t0 + r)] : 0.0f;
        row_D[rr] = valid ? p.D[lse_index(p, b, h, t0 + r)] : 0.0f;
#pragma unroll
        for (int i = 0; i < kPerLane; i++)
            acc[rr][i] = 0.0f;
    }
    int key_begin, key_end; // training: past = 0
    hn_attention_block_keys(&p.mask, b, t0, rows, &key_begin, &key_end);
    for (int s0 = key_begin; s0 <= key_end; s0 += kKeys) {
        __syncthreads();
        int valid = min(kKeys, key_end - s0 + 1);
        load_rows(k_s, pitch, p.k + kv_index(p, b, s0, kv), (size_t)p.NKV * HD, kKeys, valid,
                  HD);
        load_rows(v_s, pitch, p.v + kv_index(p, b, s0, kv), (size_t)p.NKV * HD, kKeys, valid,
                  HD);
        __syncthreads();
        const int s = s0 + lane;
#pragma unroll
        for (int rr = 0; rr < kRowsPerWarp; rr++) {
            int r = warp + rr * kWarps;
            if (r >= rows)
                continue;
            float dscore = 0.0f;
            if (s >= from[rr] && s <= to[rr]) {
                float probability =
                    expf(dot(q_s + r * HD, k_s + lane * pitch, HD) * p.scale - row_lse[rr]);
                float dprobability = dot(do_s + r * HD, v_s + lane * pitch, HD);
                dscore = probability * (dprobability - row_D[rr]);
            }
            for (int j = 0; j < kKeys; j++) {
                float dsj = __shfl_sync(kFull, dscore, j);
#pragma unroll
                for (int i = 0; i < kPerLane; i++) {
                    int d = lane + 32 * i;
                    if (d < HD)
                        acc[rr][i] += dsj * k_s[j * pitch + d];
                }
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; rr++) {
        int r = warp + rr * kWarps;
        if (r >= rows)
            continue;
        float *row = dq + q_index(p, b, t0 + r, h);
#pragma unroll
        for (int i = 0; i < kPerLane; i++) {
            int d = lane + 32 * i;
            if (d < HD)
                row[d] += p.scale * acc[rr][i];
        }
    }
}

// grid (key blocks, NKV, B). Shared: k, v [kKeyRows, HD]; q, dout [kQueryTile, HD + 1];
// lse, D, first key of the tile's queries [kQueryTile].
__global__ void dkdv_kernel(float *dk, float *dv, attention_params p)
{
    extern __shared__ float shared[];
    const int HD = p.HD, pitch = HD + 1;
    float *k_s = shared, *v_s = k_s + kKeyRows * HD, *q_s = v_s + kKeyRows * HD;
    float *do_s = q_s + kQueryTile * pitch, *lse_s = do_s + kQueryTile * pitch;
    float *D_s = lse_s + kQueryTile;
    int *from_s = reinterpret_cast<int *>(D_s + kQueryTile);
    const int b = blockIdx.z, kv = blockIdx.y, k0 = blockIdx.x * kKeyRows;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int keys = min(kKeyRows, p.T - k0), key_last = k0 + keys - 1;
    load_rows(k_s, HD, p.k + kv_index(p, b, k0, kv), (size_t)p.NKV * HD, kKeyRows, keys, HD);
    load_rows(v_s, HD, p.v + kv_index(p, b, k0, kv), (size_t)p.NKV * HD, kKeyRows, keys, HD);

    float dk_acc[kRowsPerWarp][kPerLane], dv_acc[kRowsPerWarp][kPerLane];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; rr++)
#pragma unroll
        for (int i = 0; i < kPerLane; i++)
            dk_acc[rr][i] = dv_acc[rr][i] = 0.0f;

    for (int g = 0; g < p.group; g++) {
        const int h = kv * p.group + g;
        for (int t0 = k0; hn_attention_query_tile_needed(&p.mask, b, t0, key_last);
             t0 += kQueryTile) {
            const int queries = min(kQueryTile, p.T - t0);
            __syncthreads(); // the previous tile is consumed (and k_s, v_s loaded)
            load_rows(q_s, pitch, p.q + q_index(p, b, t0, h), (size_t)p.NH * HD, kQueryTile,
                      queries, HD);
            load_rows(do_s, pitch, p.dout + q_index(p, b, t0, h), (size_t)p.NH * HD,
                      kQueryTile, queries, HD);
            for (int i = threadIdx.x; i < kQueryTile; i += blockDim.x) {
                bool valid = i < queries;
                lse_s[i] = valid ? p.lse[lse_index(p, b, h, t0 + i)] : 0.0f;
                D_s[i] = valid ? p.D[lse_index(p, b, h, t0 + i)] : 0.0f;
                from_s[i] = valid ? first_key(p, b, t0 + i) : p.T; // invalid: sees nothing
            }
            __syncthreads();
            const int t = t0 + lane; // this lane's query
#pragma unroll
            for (int rr = 0; rr < kRowsPerWarp; rr++) {
                int j = warp + rr * kWarps, s = k0 + j;
                if (j >= keys)
                    continue;
                float probability = 0.0f, dscore = 0.0f;
                if (lane < queries && from_s[lane] <= s && s <= t) { // visible (past = 0)
                    probability = expf(dot(q_s + lane * pitch, k_s + j * HD, HD) * p.scale -
                                       lse_s[lane]);
                    float dprobability = dot(do_s + lane * pitch, v_s + j * HD, HD);
                    dscore = probability * (dprobability - D_s[lane]);
                }
                for (int i = 0; i < kQueryTile; i++) {
                    float pi = __shfl_sync(kFull, probability, i);
                    float dsi = __shfl_sync(kFull, dscore, i);
#pragma unroll
                    for (int e = 0; e < kPerLane; e++) {
                        int d = lane + 32 * e;
                        if (d < HD) {
                            dv_acc[rr][e] += pi * do_s[i * pitch + d];
                            dk_acc[rr][e] += dsi * q_s[i * pitch + d];
                        }
                    }
                }
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; rr++) {
        int j = warp + rr * kWarps;
        if (j >= keys)
            continue;
        float *dk_row = dk + kv_index(p, b, k0 + j, kv), *dv_row = dv + kv_index(p, b, k0 + j, kv);
#pragma unroll
        for (int e = 0; e < kPerLane; e++) {
            int d = lane + 32 * e;
            if (d < HD) {
                dk_row[d] += p.scale * dk_acc[rr][e];
                dv_row[d] += dv_acc[rr][e];
            }
        }
    }
}

// Checks HD and lets `kernel` use `bytes` of dynamic shared memory; false with the error
// recorded.
template <typename Kernel> bool prepare(Kernel kernel, size_t bytes, int HD, const char *where)
{
    if (HD > kMaxHD) {
        hn_cuda_record_error(where, "head dim above 256 is not supported by the CUDA attention "
                                    "kernels");
        return false;
    }
    if (bytes > 48 * 1024) {
        cudaError_t status = cudaFuncSetAttribute(
            kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
        if (status != cudaSuccess) {
            (void)cudaGetLastError(); /* recorded here, not blamed on the next launch */
            hn_cuda_record_error(where, cudaGetErrorString(status));
            return false;
        }
    }
    return true;
}

attention_params make_params(const float *q, const float *k, const float *v,
                             const int32_t *doc_start, float scale, int window, int T, int keys,
                             int past, int NH, int NKV, int HD)
{
    attention_params p = {};
    p.q = q;
    p.k = k;
    p.v = v;
    p.mask.doc_start = doc_start;
    p.mask.T = T;
    p.mask.past = past;
    p.mask.window = window;
    p.scale = scale;
    p.T = T;
    p.keys = keys;
    p.NH = NH;
    p.NKV = NKV;
    p.HD = HD;
    p.group = NH / NKV;
    return p;
}

void launch_forward(float *out, float *lse, const attention_params &p, int B, const char *where)
{
    size_t bytes = ((size_t)kQueries * p.HD + 2 * (size_t)kKeys * (p.HD + 1)) * sizeof(float);
    if (!prepare(forward_kernel, bytes, p.HD, where))
        return;
    dim3 grid((p.T + kQueries - 1) / kQueries, p.NH, B);
    forward_kernel<<<grid, kThreads, bytes, hn_cuda_stream()>>>(out, lse, p);
    hn_cuda_products_launched(where);
}

} // namespace

extern "C" void hn_cuda_attention_forward(float *out, float *lse, const float *q, const float *k,
                                          const float *v, const int32_t *doc_start, float scale,
                                          int window, int B, int T, int NH, int NKV, int HD)
{
    attention_params p = make_params(q, k, v, doc_start, scale, window, T, T, 0, NH, NKV, HD);
    launch_forward(out, lse, p, B, "attention_forward");
}

extern "C" void hn_cuda_attention_cached_forward(float *out, const float *q, const float *k,
                                                 const float *v, float scale, int window,
                                                 int past, int T, int NH, int NKV, int HD)
{
    attention_params p =
        make_params(q, k, v, nullptr, scale, window, T, past + T, past, NH, NKV, HD);
    launch_forward(out, nullptr, p, 1, "attention_cached_forward");
}

extern "C" void hn_cuda_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                                           const float *q, const float *k, const float *v,
                                           const float *out, const float *lse,
                                           const int32_t *doc_start, float scale, int window,
                                           int B, int T, int NH, int NKV, int HD)
{
    const char *where = "attention_backward";
    cudaStream_t stream = hn_cuda_stream();
    attention_params p = make_params(q, k, v, doc_start, scale, window, T, T, 0, NH, NKV, HD);
    p.dout = dout;
    p.lse = lse;
    size_t rows = (size_t)B * T * NH;
    float *D = static_cast<float *>(hn_cuda_scratch(HN_PRODUCTS_SLOT_ROWS, rows * sizeof(float)));
    if (D == nullptr)
        return;
    p.D = D;
    size_t dot_blocks = (rows * 32 + kThreads - 1) / kThreads;
    output_dots_kernel<<<(unsigned)dot_blocks, kThreads, 0, stream>>>(D, dout, out, p, rows);
    if (!hn_cuda_products_launched(where))
        return;

    size_t dq_bytes =
        (2 * (size_t)kQueries * HD + 2 * (size_t)kKeys * (HD + 1)) * sizeof(float);
    if (!prepare(dq_kernel, dq_bytes, HD, where))
        return;
    dim3 dq_grid((T + kQueries - 1) / kQueries, NH, B);
    dq_kernel<<<dq_grid, kThreads, dq_bytes, stream>>>(dq, p);
    if (!hn_cuda_products_launched(where))
        return;

    size_t dkdv_bytes = (2 * (size_t)kKeyRows * HD + 2 * (size_t)kQueryTile * (HD + 1) +
                         3 * (size_t)kQueryTile) * sizeof(float);
    if (!prepare(dkdv_kernel, dkdv_bytes, HD, where))
        return;
    dim3 dkdv_grid((T + kKeyRows - 1) / kKeyRows, NKV, B);
    dkdv_kernel<<<dkdv_grid, kThreads, dkdv_bytes, stream>>>(dk, dv, p);
    hn_cuda_products_launched(where);
}
