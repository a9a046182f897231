/* One token through a linear layer whose weight stays in GGUF blocks (Q8_0, Q4_1): each
 * thread takes a contiguous range of rows and streams them once, decoding every block of 32
 * weights in registers and multiplying it with the fp32 input. Decoding a token is bound by
 * the bytes of weights read, and these formats are 3.8x (Q8_0) and 6.4x (Q4_1) smaller than
 * fp32. The decoded weights equal weight_blocks.h's (d * q is exact in fp32, so the fused
 * d * q + m of Q4_1 rounds the same); only the order of the additions differs from an fp32
 * matrix-vector product. AVX-512 and AVX2 paths are chosen at run time; plain C otherwise. */
#include <glib.h>

#include "cpu_ops.h"
#include "matvec_int8.h"
#include "matvec_split.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HN_X86 1
#endif

typedef void (*rows_fn)(float *out, const float *x, const uint8_t *weight, bool accumulate,
                        int C, int first, int last);

static inline void store(float *out, int o, float sum, bool accumulate)
{
    out[o] = accumulate ? out[o] + sum : sum;
}

/* ---- plain C --------------------------------------------------------------------------- */

static void rows_plain(float *out, const float *x, const uint8_t *weight, bool accumulate,
                       int C, int first, int last, hn_weight_type type)
{
    size_t row_bytes = hn_weight_row_bytes(type, C);
    size_t block_bytes = type == HN_WEIGHT_Q8_0 ? HN_Q8_0_BLOCK_BYTES : HN_Q4_1_BLOCK_BYTES;
    float w[HN_BLOCK_ELEMENTS];
    for (int o = first; o < last; o++) {
        const uint8_t *row = weight + (size_t)o * row_bytes;
        float sum = 0.0f;
        for (int b = 0; b < C / HN_BLOCK_ELEMENTS; b++) {
            if (type == HN_WEIGHT_Q8_0)
                hn_block_q8_0_to_f32(row + (size_t)b * block_bytes, w);
            else
                hn_block_q4_1_to_f32(row + (size_t)b * block_bytes, w);
            const float *xb = x + b * HN_BLOCK_ELEMENTS;
            for (int j = 0; j < HN_BLOCK_ELEMENTS; j++)
                sum += w[j] * xb[j];
        }
        store(out, o, sum, accumulate);
    }
}

static void rows_q8_0_plain(float *out, const float *x, const uint8_t *weight, bool accumulate,
                            int C, int first, int last)
{
    rows_plain(out, x, weight, accumulate, C, first, last, HN_WEIGHT_Q8_0);
}

static void rows_q4_1_plain(float *out, const float *x, const uint8_t *weight, bool accumulate,
                            int C, int first, int last)
{
    rows_plain(out, x, weight, accumulate, C, first, last, HN_WEIGHT_Q4_1);
}

#ifdef HN_X86
/* The fp16 at p through F16C's conversion instruction (exact, as hn_half_to_f32). */
__attribute__((target("f16c"), always_inline)) static inline float half_f16c(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return _cvtsh_ss(h);
}

/* ---- AVX-512: 16 weights per vector -------------------------------------------------- */

#define AVX512 __attribute__((target("avx512f,f16c"), always_inline)) static inline
#define AVX2 __attribute__((target("avx2,fma,f16c"), always_inline)) static inline

/* The 32 weights of a block as two vectors: elements 0..15 and 16..31. */
AVX512 void block_avx512(const uint8_t *block, hn_weight_type type, __m512 *w0, __m512 *w1)
{
    __m512 d = _mm512_set1_ps(half_f16c(block));
    if (type == HN_WEIGHT_Q8_0) {
        __m128i q0 = _mm_loadu_si128((const __m128i *)(block + 2));
        __m128i q1 = _mm_loadu_si128((const __m128i *)(block + 18));
        *w0 = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0)));
        *w1 = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1)));
    } else {
        const __m128i low = _mm_set1_epi8(0x0f);
        __m512 m = _mm512_set1_ps(half_f16c(block + 2));
        __m128i q = _mm_loadu_si128((const __m128i *)(block + 4));
        __m128i q0 = _mm_and_si128(q, low), q1 = _mm_and_si128(_mm_srli_epi16(q, 4), low);
        *w0 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(q0)), m);
        *w1 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(q1)), m);
    }
}

/* Rows [first, last): one contiguous stream per thread, which the hardware prefetcher follows
 * (interleaving 2 or 4 rows to share the loads of x measured slower). */
AVX512 void rows_avx512(float *out, const float *x, const uint8_t *weight, bool accumulate,
                        int C, int first, int last, hn_weight_type type)
{
    size_t block_bytes = type == HN_WEIGHT_Q8_0 ? HN_Q8_0_BLOCK_BYTES : HN_Q4_1_BLOCK_BYTES;
    const uint8_t *block = weight + (size_t)first * hn_weight_row_bytes(type, C);
    for (int o = first; o < last; o++) {
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        for (int c = 0; c < C; c += HN_BLOCK_ELEMENTS, block += block_bytes) {
            __m512 w0, w1;
            block_avx512(block, type, &w0, &w1);
            acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + c), acc0);
            acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + c + 16), acc1);
        }
        store(out, o, _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)), accumulate);
    }
}

__attribute__((target("avx512f,f16c"))) static void
rows_q8_0_avx512(float *out, const float *x, const uint8_t *weight, bool accumulate, int C,
                 int first, int last)
{
    rows_avx512(out, x, weight, accumulate, C, first, last, HN_WEIGHT_Q8_0);
}

__attribute__((target("avx512f,f16c"))) static void
rows_q4_1_avx512(float *out, const float *x, const uint8_t *weight, bool accumulate, int C,
                 int first, int last)
{
    rows_avx512(out, x, weight, accumulate, C, first, last, HN_WEIGHT_Q4_1);
}

/* ---- AVX2 + FMA: 8 weights per vector, the same scheme --------------------------------- */

AVX2 float sum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The 32 weights of a block as four vectors of 8. */
AVX2 void block_avx2(const uint8_t *block, hn_weight_type type, __m256 w[4])
{
    __m256 d = _mm256_set1_ps(half_f16c(block));
    if (type == HN_WEIGHT_Q8_0) {
        for (int k = 0; k < 4; k++) {
            __m128i q = _mm_loadl_epi64((const __m128i *)(block + 2 + 8 * k));
            w[k] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)));
        }
    } else {
        const __m128i low = _mm_set1_epi8(0x0f);
        __m256 m = _mm256_set1_ps(half_f16c(block + 2));
        __m128i q = _mm_loadu_si128((const __m128i *)(block + 4));
        __m128i lo = _mm_and_si128(q, low), hi = _mm_and_si128(_mm_srli_epi16(q, 4), low);
        __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        for (int k = 0; k < 4; k++)
            w[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k])), m);
    }
}

AVX2 void rows_avx2(float *out, const float *x, const uint8_t *weight, bool accumulate, int C,
                    int first, int last, hn_weight_type type)
{
    size_t block_bytes = type == HN_WEIGHT_Q8_0 ? HN_Q8_0_BLOCK_BYTES : HN_Q4_1_BLOCK_BYTES;
    const uint8_t *block = weight + (size_t)first * hn_weight_row_bytes(type, C);
    for (int o = first; o < last; o++) {
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (int c = 0; c < C; c += HN_BLOCK_ELEMENTS, block += block_bytes) {
            __m256 w[4];
            block_avx2(block, type, w);
            acc0 = _mm256_fmadd_ps(w[0], _mm256_loadu_ps(x + c), acc0);
            acc1 = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(x + c + 8), acc1);
            acc0 = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(x + c + 16), acc0);
            acc1 = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(x + c + 24), acc1);
        }
        store(out, o, sum8(_mm256_add_ps(acc0, acc1)), accumulate);
    }
}

__attribute__((target("avx2,fma,f16c"))) static void
rows_q8_0_avx2(float *out, const float *x, const uint8_t *weight, bool accumulate, int C,
               int first, int last)
{
    rows_avx2(out, x, weight, accumulate, C, first, last, HN_WEIGHT_Q8_0);
}

__attribute__((target("avx2,fma,f16c"))) static void
rows_q4_1_avx2(float *out, const float *x, const uint8_t *weight, bool accumulate, int C,
               int first, int last)
{
    rows_avx2(out, x, weight, accumulate, C, first, last, HN_WEIGHT_Q4_1);
}
#endif

/* The fastest row kernel this CPU runs for the format. HONE_CPU_KERNELS=avx2 or =plain caps
 * the choice (the tests compare the paths). */
static rows_fn choose(hn_weight_type type)
{
    const char *forced = g_getenv("HONE_CPU_KERNELS");
    bool plain = forced != NULL && strcmp(forced, "plain") == 0;
#ifdef HN_X86
    bool avx512 = !plain && (forced == NULL || strcmp(forced, "avx2") != 0);
    if (avx512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c"))
        return type == HN_WEIGHT_Q8_0 ? rows_q8_0_avx512 : rows_q4_1_avx512;
    if (!plain && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("f16c"))
        return type == HN_WEIGHT_Q8_0 ? rows_q8_0_avx2 : rows_q4_1_avx2;
#else
    (void)plain;
#endif
    return type == HN_WEIGHT_Q8_0 ? rows_q8_0_plain : rows_q4_1_plain;
}

/* The products' rows: the kernel for each part's format, chosen once per call. */
typedef struct {
    const hn_matvec_part *parts;
    const float *x;
    bool accumulate; /* add to out (also where a part has a bias, copied there first) */
    int C;
    rows_fn q8_0, q4_1;
} blocks_job;

static void part_rows(const void *context, int part, int first, int last)
{
    const blocks_job *j = context;
    const hn_matvec_part *p = &j->parts[part];
    rows_fn rows = p->type == HN_WEIGHT_Q8_0 ? j->q8_0 : j->q4_1;
    rows(p->out, j->x, p->weight, j->accumulate || p->bias != NULL, j->C, first, last);
}

static void block_matvec_parts(const hn_matvec_part *parts, int count, const float *x,
                               bool accumulate, int C)
{
    blocks_job j = {parts, x, accumulate, C, choose(HN_WEIGHT_Q8_0), choose(HN_WEIGHT_Q4_1)};
    hn_cpu_matvec_parts_parallel(parts, count, C, part_rows, &j);
}

void hn_cpu_block_matvec(float *out, const float *x, const void *weight, hn_weight_type type,
                         bool accumulate, int C, int OC)
{
    hn_matvec_part part = {out, weight, type, NULL, OC};
    block_matvec_parts(&part, 1, x, accumulate, C);
}

void hn_cpu_block_matvec_group(const hn_matvec_part *parts, int count, const float *x,
                               bool int8_activations, int C)
{
    if (int8_activations) {
        hn_cpu_block_matvec_int8_group(parts, count, x, C);
        return;
    }
    hn_cpu_matvec_parts_bias(parts, count);
    block_matvec_parts(parts, count, x, false, C);
}
