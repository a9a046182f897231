/* One token through a GGUF block weight with int8 activations (matvec_int8.h), the scheme of
 * llama.cpp's vec_dot_q8_0_q8_0 / vec_dot_q4_1_q8_1 (ggml-cpu/quants.c; written here anew):
 * the input is quantized per block of 32 to int8 with one fp32 scale d_x (and the sum of its
 * q), and each weight block's dot with it is an integer sum,
 *   Q8_0: d_w * d_x * sum(q_w * q_x)
 *   Q4_1: d_w * d_x * sum(q_w * q_x) + m_w * d_x * sum(q_x)   (x = d_w * q_w + m_w),
 * so a block costs a few integer instructions instead of 32 conversions and fp32 FMAs.
 * Paths: AVX-512 VNNI (vpdpbusd: u8 x s8 -> s32 in one instruction, two blocks per 512-bit
 * step), AVX2 (vpmaddubsw then vpmaddwd), plain C; chosen at run time as matvec_blocks.c does. vpdpbusd and vpmaddubsw take
 * unsigned bytes times signed bytes: Q4_1's nibbles are unsigned already; for Q8_0 the
 * product w * x is |w| * (x with w's sign) (|-128| = 128 as an unsigned byte; x is never
 * -128, so negating it cannot overflow). vpmaddubsw adds two products into int16 with
 * saturation, which is never reached: 2 * 128 * 127 = 32512 < 32767. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "cpu_ops.h"
#include "matvec_int8.h"
#include "matvec_split.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HN_X86 1
#endif

enum { BLOCK = HN_BLOCK_ELEMENTS };

static const float ROUNDER = 12582912.0f; /* 1.5 * 2^23 */

static void quantize_plain(int8_t *q, float *d, int32_t *sums, const float *x, int C)
{
    for (int b = 0; b < C / BLOCK; b++) {
        const float *xb = x + (size_t)b * BLOCK;
        float amax = 0.0f, poison = 0.0f; /* poison: NaN when the block holds an Inf or NaN */
        for (int j = 0; j < BLOCK; j++) {
            amax = hn_cpu_max(amax, fabsf(xb[j]));
            poison += xb[j] * 0.0f;
        }
        float scale = amax / 127.0f, inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
        int32_t sum = 0;
        for (int j = 0; j < BLOCK; j++) {
            /* round to nearest (even) as nearbyintf does, without a library call: adding and
             * subtracting 1.5 * 2^23 leaves no fraction bits for |v| < 2^22 */
            float v = (xb[j] * inverse + ROUNDER) - ROUNDER;
            int8_t v8 = (int8_t)(v >= 127.0f ? 127 : v <= -127.0f ? -127 : v == v ? (int)v : 0);
            q[(size_t)b * BLOCK + j] = v8;
            sum += v8;
        }
        d[b] = scale + poison; /* a non-finite input gives NaN outputs, as the fp32 product */
        sums[b] = sum;
    }
}

/* One product: the quantized input and the weight, rows of C / 32 blocks. */
typedef struct {
    const int8_t *q;
    const float *d;
    const int32_t *sums;
    const uint8_t *weight;
    const float *factors; /* [2 * C / 32]: d[b], d[b] * sums[b] per block (the SIMD paths) */
    hn_weight_type type;
    bool accumulate;
    int C;
} job;

static inline void store(float *out, int o, float sum, bool accumulate)
{
    out[o] = accumulate ? out[o] + sum : sum;
}

static size_t block_bytes(hn_weight_type type)
{
    return type == HN_WEIGHT_Q8_0 ? HN_Q8_0_BLOCK_BYTES : HN_Q4_1_BLOCK_BYTES;
}

/* ---- plain C --------------------------------------------------------------------------- */

static int32_t dot_plain(const uint8_t *block, hn_weight_type type, const int8_t *q)
{
    int32_t sum = 0;
    if (type == HN_WEIGHT_Q8_0) {
        const int8_t *w = (const int8_t *)(block + 2);
        for (int j = 0; j < BLOCK; j++)
            sum += (int32_t)w[j] * q[j];
    } else {
        const uint8_t *w = block + 4;
        for (int j = 0; j < BLOCK / 2; j++)
            sum += (int32_t)(w[j] & 0x0f) * q[j] + (int32_t)(w[j] >> 4) * q[j + BLOCK / 2];
    }
    return sum;
}

/* One row's blocks: the scaled integer dots and, for Q4_1, the min terms. */
/* Rows [first, last): each row's blocks, the scaled integer dots and for Q4_1 the min terms. */
static void rows_plain(float *out, const job *j, int first, int last)
{
    size_t bytes = block_bytes(j->type);
    const uint8_t *block = j->weight + (size_t)first * hn_weight_row_bytes(j->type, j->C);
    for (int o = first; o < last; o++) {
        float total = 0.0f;
        for (int b = 0; b < j->C / BLOCK; b++, block += bytes) {
            int32_t dot = dot_plain(block, j->type, j->q + (size_t)b * BLOCK);
            total += hn_half_at(block) * j->d[b] * (float)dot;
            if (j->type == HN_WEIGHT_Q4_1)
                total += hn_half_at(block + 2) * j->d[b] * (float)j->sums[b];
        }
        store(out, o, total, j->accumulate);
    }
}

#ifdef HN_X86
#define AVX2 __attribute__((target("avx2,fma,f16c"), always_inline)) static inline
#define VNNI __attribute__((target("avx512vnni,avx512vl,avx2,fma,f16c"), always_inline)) static inline
#define VNNI512                                                                                   \
    __attribute__((target("avx512vnni,avx512vl,avx512bw,avx512f,avx2,fma,f16c"), always_inline)) \
    static inline

AVX2 float half_f16c(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return _cvtsh_ss(h);
}

/* The block's weights as 32 unsigned bytes u and the input as 32 signed bytes s with
 * u[j] * s[j] = w_j * q[j]. */
AVX2 void operands(const uint8_t *block, hn_weight_type type, const int8_t *q, __m256i *u,
                   __m256i *s)
{
    __m256i x = _mm256_loadu_si256((const __m256i *)q);
    if (type == HN_WEIGHT_Q8_0) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(block + 2));
        *u = _mm256_sign_epi8(w, w); /* |w|; -128 stays 0x80 = 128 unsigned */
        *s = _mm256_sign_epi8(x, w); /* x with w's sign (0 where w = 0) */
    } else {
        const __m128i low = _mm_set1_epi8(0x0f);
        __m128i packed = _mm_loadu_si128((const __m128i *)(block + 4));
        __m128i lo = _mm_and_si128(packed, low);
        __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low);
        *u = _mm256_set_m128i(hi, lo); /* elements 0..15 low nibbles, 16..31 high */
        *s = x;
    }
}

/* Eight int32 lanes that sum to the block's integer dot. */
AVX2 __m256i lanes_avx2(const uint8_t *block, hn_weight_type type, const int8_t *q)
{
    __m256i u, s;
    operands(block, type, q, &u, &s);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

VNNI __m256i lanes_vnni(const uint8_t *block, hn_weight_type type, const int8_t *q)
{
    __m256i u, s;
    operands(block, type, q, &u, &s);
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

AVX2 int32_t sum_lanes(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

AVX2 float sum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The block's first 4 bytes (d_w, and Q4_1's m_w, as fp16) converted at once and multiplied by
 * block b's (d_x, d_x * sum(q_x)) from factors: lane 0 the dot's scale, lane 1 Q4_1's min term
 * (unused for Q8_0). */
AVX2 __m128 block_scales(const uint8_t *block, const float *factors, size_t b)
{
    int32_t head;
    memcpy(&head, block, sizeof head);
    return _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(head)),
                      _mm_castpd_ps(_mm_load_sd((const double *)(factors + 2 * b))));
}

/* Rows [first, last) on either SIMD path (type and lanes constants after inlining), one
 * contiguous stream per thread as matvec_blocks.c: the lanes of each block converted to fp32
 * and multiplied into the accumulator by d_w * d_x; Q4_1's min terms summed beside it. */
AVX2 void rows_simd(float *out, const job *j, int first, int last, hn_weight_type type,
                    __m256i (*lanes)(const uint8_t *, hn_weight_type, const int8_t *))
{
    size_t bytes = block_bytes(type);
    const uint8_t *row = j->weight + (size_t)first * hn_weight_row_bytes(type, j->C);
    for (int o = first; o < last; o++) {
        __m256 acc = _mm256_setzero_ps();
        __m128 mins = _mm_setzero_ps(); /* lane 1: the sum of Q4_1's m_w * d_x * sum(q_x) */
        for (int b = 0; b < j->C / BLOCK; b++, row += bytes) {
            __m256 dots = _mm256_cvtepi32_ps(lanes(row, type, j->q + (size_t)b * BLOCK));
            __m128 scales = block_scales(row, j->factors, (size_t)b);
            acc = _mm256_fmadd_ps(dots, _mm256_broadcastss_ps(scales), acc);
            if (type == HN_WEIGHT_Q4_1)
                mins = _mm_add_ps(mins, scales);
        }
        float total = sum8(acc);
        if (type == HN_WEIGHT_Q4_1)
            total += _mm_cvtss_f32(_mm_shuffle_ps(mins, mins, 1));
        store(out, o, total, j->accumulate);
    }
}

__attribute__((target("avx2,fma,f16c"))) static int32_t
dot_avx2(const uint8_t *block, hn_weight_type type, const int8_t *q)
{
    return sum_lanes(lanes_avx2(block, type, q));
}

__attribute__((target("avx512vnni,avx512vl,avx2,fma,f16c"))) static int32_t
dot_vnni(const uint8_t *block, hn_weight_type type, const int8_t *q)
{
    return sum_lanes(lanes_vnni(block, type, q));
}

__attribute__((target("avx2,fma,f16c"))) static void
rows_avx2(float *out, const job *j, int first, int last)
{
    if (j->type == HN_WEIGHT_Q8_0)
        rows_simd(out, j, first, last, HN_WEIGHT_Q8_0, lanes_avx2);
    else
        rows_simd(out, j, first, last, HN_WEIGHT_Q4_1, lanes_avx2);
}

/* Two consecutive blocks (b at `block`, b + 1 `bytes` later) as 64 unsigned weight bytes u
 * and the 64 matching signed input bytes s (q of both blocks, contiguous), as operands() does
 * for one block. Q4_1: each block's 16 packed bytes twice, [b, b, b+1, b+1] by 128-bit lanes,
 * lanes 1 and 3 shifted right by 4, then masked: [low b, high b, low b+1, high b+1]. Q8_0:
 * |w| and x negated where w < 0 (AVX-512 has no byte vpsign). */
VNNI512 void operands_pair(const uint8_t *block, size_t bytes, hn_weight_type type,
                           const int8_t *q, __m512i *u, __m512i *s)
{
    __m512i x = _mm512_loadu_si512((const void *)q);
    if (type == HN_WEIGHT_Q8_0) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(block + 2));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(block + bytes + 2));
        __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1);
        *u = _mm512_abs_epi8(w); /* -128 stays 0x80 = 128 unsigned */
        *s = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
    } else {
        __m256i p0 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(block + 4)));
        __m256i p1 =
            _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(block + bytes + 4)));
        __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(p0), p1, 1);
        v = _mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4); /* 16-bit lanes 8-15 and 24-31 */
        *u = _mm512_and_si512(v, _mm512_set1_epi8(0x0f));
        *s = x;
    }
}

/* Rows [first, last) with AVX-512 VNNI, two blocks per 512-bit step (half the instructions of
 * a block per 256-bit step: the kernel is bound by its instruction count, not by memory, see
 * docs/PERFORMANCE.md): the 16 int32 lanes of vpdpbusd converted to fp32 and multiplied by
 * d_w * d_x of their block (lanes 0-7 block b, 8-15 block b + 1); an odd last block on the
 * 256-bit step. */
VNNI512 void rows_vnni512_typed(float *out, const job *j, int first, int last, hn_weight_type type)
{
    size_t bytes = block_bytes(type);
    int blocks = j->C / BLOCK;
    const __m512i spread_index = _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0);
    const uint8_t *row = j->weight + (size_t)first * hn_weight_row_bytes(type, j->C);
    for (int o = first; o < last; o++) {
        __m512 acc = _mm512_setzero_ps();
        __m128 mins = _mm_setzero_ps(); /* lanes 1 and 3: Q4_1's m_w * d_x * sum(q_x) */
        const int8_t *q = j->q;
        const float *factors = j->factors;
        const uint8_t *end = row + (size_t)(blocks & ~1) * bytes;
        for (; row < end; row += 2 * bytes, q += 2 * BLOCK, factors += 4) {
            __m512i u, s;
            operands_pair(row, bytes, type, q, &u, &s);
            __m512 dots = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u, s));
            /* both blocks' first 4 bytes (d_w, and Q4_1's m_w, as fp16) times
             * (d_x, d_x * sum(q_x)) of each block; Q8_0's second and fourth lanes unused */
            int32_t head0, head1;
            memcpy(&head0, row, sizeof head0);
            memcpy(&head1, row + bytes, sizeof head1);
            __m128i heads = _mm_insert_epi32(_mm_cvtsi32_si128(head0), head1, 1);
            __m128 scales = _mm_mul_ps(_mm_cvtph_ps(heads), _mm_loadu_ps(factors));
            acc = _mm512_fmadd_ps(
                dots, _mm512_permutexvar_ps(spread_index, _mm512_castps128_ps512(scales)), acc);
            if (type == HN_WEIGHT_Q4_1)
                mins = _mm_add_ps(mins, scales);
        }
        int b = blocks & ~1;
        float total = _mm512_reduce_add_ps(acc);
        if (b < blocks) { /* the odd last block */
            __m256 dots = _mm256_cvtepi32_ps(lanes_vnni(row, type, j->q + (size_t)b * BLOCK));
            __m128 scales = block_scales(row, j->factors, (size_t)b);
            total += sum8(_mm256_mul_ps(dots, _mm256_broadcastss_ps(scales)));
            if (type == HN_WEIGHT_Q4_1)
                mins = _mm_add_ps(mins, scales);
            row += bytes;
        }
        if (type == HN_WEIGHT_Q4_1)
            total += _mm_cvtss_f32(_mm_shuffle_ps(mins, mins, 1)) +
                     _mm_cvtss_f32(_mm_shuffle_ps(mins, mins, 3));
        store(out, o, total, j->accumulate);
    }
}

/* quantize_plain with AVX-512, the same bytes and scales (a non-finite block's q aside, whose
 * d is NaN either way): products rounded to nearest even by vcvtps2dq as the plain version's
 * 1.5 * 2^23 addition does, clamped to [-127, 127] before (so an infinite product gives +-127
 * as there), NaN products 0. It runs on one thread before each parallel product, so its speed
 * counts twice. */
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void
quantize_avx512(int8_t *q, float *d, int32_t *sums, const float *x, int C)
{
    const __m512 zero = _mm512_setzero_ps(), top = _mm512_set1_ps(127.0f),
                 bottom = _mm512_set1_ps(-127.0f);
    for (int b = 0; b < C / BLOCK; b++) {
        const float *xb = x + (size_t)b * BLOCK;
        __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
        float poison = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_mul_ps(x0, zero),
                                                          _mm512_mul_ps(x1, zero)));
        float inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
        __m512 p0 = _mm512_mul_ps(x0, _mm512_set1_ps(inverse));
        __m512 p1 = _mm512_mul_ps(x1, _mm512_set1_ps(inverse));
        __mmask16 finite0 = _mm512_cmp_ps_mask(p0, p0, _CMP_ORD_Q);
        __mmask16 finite1 = _mm512_cmp_ps_mask(p1, p1, _CMP_ORD_Q);
        __m512i v0 = _mm512_maskz_cvtps_epi32(finite0, _mm512_min_ps(_mm512_max_ps(p0, bottom), top));
        __m512i v1 = _mm512_maskz_cvtps_epi32(finite1, _mm512_min_ps(_mm512_max_ps(p1, bottom), top));
        _mm_storeu_si128((__m128i *)(q + (size_t)b * BLOCK), _mm512_cvtsepi32_epi8(v0));
        _mm_storeu_si128((__m128i *)(q + (size_t)b * BLOCK + 16), _mm512_cvtsepi32_epi8(v1));
        d[b] = amax / 127.0f + poison;
        sums[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(v0, v1));
    }
}

__attribute__((target("avx512vnni,avx512vl,avx512bw,avx512f,avx2,fma,f16c"))) static void
rows_vnni512(float *out, const job *j, int first, int last)
{
    if (j->type == HN_WEIGHT_Q8_0)
        rows_vnni512_typed(out, j, first, last, HN_WEIGHT_Q8_0);
    else
        rows_vnni512_typed(out, j, first, last, HN_WEIGHT_Q4_1);
}
#endif

typedef struct {
    int32_t (*dot)(const uint8_t *block, hn_weight_type type, const int8_t *q);
    void (*rows)(float *out, const job *j, int first, int last);
    void (*quantize)(int8_t *q, float *d, int32_t *sums, const float *x, int C);
} kernel;

/* The fastest path this CPU runs; HONE_CPU_KERNELS=avx2 or =plain caps it (as
 * matvec_blocks.c reads it). */
static kernel choose(void)
{
    const char *forced = g_getenv("HONE_CPU_KERNELS");
    bool plain = forced != NULL && strcmp(forced, "plain") == 0;
#ifdef HN_X86
    bool avx2 = !plain && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                __builtin_cpu_supports("f16c");
    bool best = avx2 && (forced == NULL || strcmp(forced, "avx2") != 0);
    if (best && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
        return (kernel){dot_vnni, rows_vnni512, quantize_avx512};
    if (avx2)
        return (kernel){dot_avx2, rows_avx2, quantize_plain};
#else
    (void)plain;
#endif
    return (kernel){dot_plain, rows_plain, quantize_plain};
}

void hn_cpu_quantize_int8(int8_t *q, float *d, int32_t *sums, const float *x, int C)
{
    choose().quantize(q, d, sums, x, C);
}

int32_t hn_cpu_int8_block_dot(const uint8_t *block, hn_weight_type type, const int8_t *q)
{
    return choose().dot(block, type, q);
}

/* The products' rows on the int8 kernel: one quantized input for every part. */
typedef struct {
    const hn_matvec_part *parts;
    const int8_t *q;
    const float *d;
    const int32_t *sums;
    const float *factors;
    bool accumulate; /* add to out (also where a part has a bias, copied there first) */
    int C;
    kernel k;
} int8_job;

static void part_rows(const void *context, int part, int first, int last)
{
    const int8_job *g = context;
    const hn_matvec_part *p = &g->parts[part];
    bool accumulate = g->accumulate || p->bias != NULL;
    job j = {g->q, g->d, g->sums, p->weight, g->factors, p->type, accumulate, g->C};
    g->k.rows(p->out, &j, first, last);
}

static void matvec_quantized_parts(const hn_matvec_part *parts, int count, const int8_t *q,
                                   const float *d, const int32_t *sums, bool accumulate, int C)
{
    int blocks = C / BLOCK;
    float *factors = g_new(float, 2 * (size_t)blocks);
    for (int b = 0; b < blocks; b++) {
        factors[2 * b] = d[b];
        factors[2 * b + 1] = d[b] * (float)sums[b];
    }
    int8_job g = {parts, q, d, sums, factors, accumulate, C, choose()};
    hn_cpu_matvec_parts_parallel(parts, count, C, part_rows, &g);
    g_free(factors);
}

void hn_cpu_block_matvec_quantized(float *out, const int8_t *q, const float *d,
                                   const int32_t *sums, const void *weight, hn_weight_type type,
                                   bool accumulate, int C, int OC)
{
    hn_matvec_part part = {out, weight, type, NULL, OC};
    matvec_quantized_parts(&part, 1, q, d, sums, accumulate, C);
}

void hn_cpu_block_matvec_int8_group(const hn_matvec_part *parts, int count, const float *x,
                                    int C)
{
    int blocks = C / BLOCK;
    int8_t *q = g_malloc((size_t)C + (size_t)blocks * (sizeof(float) + sizeof(int32_t)));
    float *d = (float *)(q + C); /* C is a multiple of 32: aligned for floats */
    int32_t *sums = (int32_t *)(d + blocks);
    hn_cpu_quantize_int8(q, d, sums, x, C);
    hn_cpu_matvec_parts_bias(parts, count);
    matvec_quantized_parts(parts, count, q, d, sums, false, C);
    g_free(q);
}

void hn_cpu_block_matvec_int8(float *out, const float *x, const void *weight,
                              hn_weight_type type, const float *bias, int C, int OC)
{
    hn_matvec_part part = {out, weight, type, bias, OC};
    hn_cpu_block_matvec_int8_group(&part, 1, x, C);
}
