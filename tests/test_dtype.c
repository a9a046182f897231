/* Element types: names, sizes and the fp16 / bf16 bit conversions at their edge cases. */
#include <math.h>
#include <string.h>

#include "dtype.h"
#include "test_util.h"

static void test_names(void)
{
    for (int d = 0; d < HN_DTYPE_COUNT; d++) {
        g_assert_cmpint(hn_dtype_from_name(hn_dtype_name((hn_dtype)d)), ==, d);
        g_assert_cmpuint(hn_dtype_size((hn_dtype)d), >=, 1);
    }
    g_assert_cmpint(hn_dtype_from_name("F8_E4M3"), ==, HN_DTYPE_INVALID);
    g_assert_cmpint(hn_dtype_from_name("f32"), ==, HN_DTYPE_INVALID);
    g_assert_cmpuint(hn_dtype_size(HN_DTYPE_BF16), ==, 2);
    g_assert_cmpuint(hn_dtype_size(HN_DTYPE_I64), ==, 8);
}

static void test_f16(void)
{
    g_assert_cmpfloat(hn_f16_to_f32(0x3c00), ==, 1.0f);
    g_assert_cmpfloat(hn_f16_to_f32(0xc000), ==, -2.0f);
    g_assert_cmpfloat(hn_f16_to_f32(0x7bff), ==, 65504.0f);
    g_assert_cmpfloat(hn_f16_to_f32(0x0400), ==, ldexpf(1.0f, -14)); /* smallest normal */
    g_assert_cmpfloat(hn_f16_to_f32(0x0001), ==, ldexpf(1.0f, -24)); /* smallest subnormal */
    g_assert_cmpfloat(hn_f16_to_f32(0x03ff), ==, 1023.0f * ldexpf(1.0f, -24));
    g_assert_true(isinf(hn_f16_to_f32(0x7c00)) && hn_f16_to_f32(0x7c00) > 0);
    g_assert_true(isinf(hn_f16_to_f32(0xfc00)) && hn_f16_to_f32(0xfc00) < 0);
    g_assert_true(isnan(hn_f16_to_f32(0x7e00)));
    g_assert_true(signbit(hn_f16_to_f32(0x8000)) && hn_f16_to_f32(0x8000) == 0.0f);
}

static float from_bits(guint32 bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void test_bf16(void)
{
    g_assert_cmphex(hn_f32_to_bf16(1.0f), ==, 0x3f80);
    g_assert_cmphex(hn_f32_to_bf16(-1.0f), ==, 0xbf80);
    /* Round to nearest, ties to even. */
    g_assert_cmphex(hn_f32_to_bf16(from_bits(0x3f808000)), ==, 0x3f80); /* tie, even stays */
    g_assert_cmphex(hn_f32_to_bf16(from_bits(0x3f818000)), ==, 0x3f82); /* tie, odd goes up */
    g_assert_cmphex(hn_f32_to_bf16(from_bits(0x3f808001)), ==, 0x3f81); /* above the tie */
    g_assert_cmphex(hn_f32_to_bf16(from_bits(0x3f807fff)), ==, 0x3f80); /* below the tie */
    g_assert_cmphex(hn_f32_to_bf16(from_bits(0x7f7fffff)), ==, 0x7f80); /* FLT_MAX -> inf */
    g_assert_cmphex(hn_f32_to_bf16(INFINITY), ==, 0x7f80);
    /* NaN stays NaN (never rounds into infinity), quiet, sign kept. */
    g_assert_cmphex(hn_f32_to_bf16(from_bits(0x7f800001)), ==, 0x7fc0);
    g_assert_cmphex(hn_f32_to_bf16(from_bits(0xffffffff)), ==, 0xffff);
    g_assert_true(isnan(hn_bf16_to_f32(hn_f32_to_bf16(NAN))));
    g_assert_cmpfloat(hn_bf16_to_f32(0x4049), ==, 3.140625f);
}

/* fp32 -> fp16: every finite half comes back unchanged; the point halfway between two
 * neighbours goes to the one with an even mantissa; past 65504 + half a step is inf; NaN stays
 * NaN. (The GGUF export in test_export also compares whole tensors with numpy's astype.) */
static void test_f32_to_f16(void)
{
    for (guint32 h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0) {
            guint16 back = hn_f32_to_f16(hn_f16_to_f32((guint16)h));
            g_assert_true((back & 0x7c00u) == 0x7c00u && (back & 0x3ffu) != 0);
            continue;
        }
        g_assert_cmpuint(hn_f32_to_f16(hn_f16_to_f32((guint16)h)), ==, h);
        guint32 next = h + 1;
        if ((h & 0x7fffu) >= 0x7c00u || (next & 0x7fffu) >= 0x7c00u)
            continue;
        /* the midpoint (exact in fp32) and values just around it */
        float lo = hn_f16_to_f32((guint16)h), hi = hn_f16_to_f32((guint16)next);
        float mid = (lo + hi) / 2;
        guint32 even = (h & 1u) == 0 ? h : next;
        g_assert_cmpuint(hn_f32_to_f16(mid), ==, even);
        g_assert_cmpuint(hn_f32_to_f16(nextafterf(mid, lo)), ==, h);
        g_assert_cmpuint(hn_f32_to_f16(nextafterf(mid, hi)), ==, next);
    }
    g_assert_cmpuint(hn_f32_to_f16(65519.99f), ==, 0x7bff);
    g_assert_cmpuint(hn_f32_to_f16(65520.0f), ==, 0x7c00);
    g_assert_cmpuint(hn_f32_to_f16(-1e30f), ==, 0xfc00);
    g_assert_cmpuint(hn_f32_to_f16(ldexpf(1.0f, -26)), ==, 0); /* below half the smallest */
    g_assert_true(isnan(hn_f16_to_f32(hn_f32_to_f16(NAN))));
}

static void test_convert_integers_and_bool(void)
{
    const gint64 i64[] = {-5, 0, 1 << 20, G_MAXINT32};
    const guint8 flags[] = {0, 1, 2, 255};
    const gint8 i8[] = {-128, -1, 0, 127};
    float out[4];
    hn_convert_to_f32(out, i64, HN_DTYPE_I64, 4);
    g_assert_cmpfloat(out[0], ==, -5.0f);
    g_assert_cmpfloat(out[2], ==, 1048576.0f);
    g_assert_cmpfloat(out[3], ==, 2147483648.0f); /* nearest float to 2^31 - 1 */
    hn_convert_to_f32(out, flags, HN_DTYPE_BOOL, 4);
    g_assert_cmpfloat(out[0], ==, 0.0f);
    g_assert_cmpfloat(out[2], ==, 1.0f);
    g_assert_cmpfloat(out[3], ==, 1.0f);
    hn_convert_to_f32(out, i8, HN_DTYPE_I8, 4);
    g_assert_cmpfloat(out[0], ==, -128.0f);
    g_assert_cmpfloat(out[3], ==, 127.0f);
}

/* Conversions read unaligned sources (tensors inside a mapping need not be aligned). */
static void test_convert_unaligned(void)
{
    unsigned char buffer[1 + 3 * sizeof(double)];
    const double values[3] = {1.5, -2.25, 1e300};
    memcpy(buffer + 1, values, sizeof values);
    float out[3];
    hn_convert_to_f32(out, buffer + 1, HN_DTYPE_F64, 3);
    g_assert_cmpfloat(out[0], ==, 1.5f);
    g_assert_cmpfloat(out[1], ==, -2.25f);
    g_assert_true(isinf(out[2]));
    guint16 bf[3];
    hn_convert_to_bf16(bf, buffer + 1, HN_DTYPE_F64, 3);
    g_assert_cmphex(bf[0], ==, 0x3fc0);
    g_assert_cmphex(bf[1], ==, 0xc010);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/dtype/names", test_names);
    g_test_add_func("/engine/dtype/f16", test_f16);
    g_test_add_func("/engine/dtype/bf16", test_bf16);
    g_test_add_func("/engine/dtype/f32_to_f16", test_f32_to_f16);
    g_test_add_func("/engine/dtype/integers-and-bool", test_convert_integers_and_bool);
    g_test_add_func("/engine/dtype/unaligned", test_convert_unaligned);
    return g_test_run();
}
