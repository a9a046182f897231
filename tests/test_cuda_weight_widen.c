/* The CUDA widening rule (kernels/cuda/weight_widen.h: one element of a bf16, Q8_0 or Q4_1
 * row as fp32, what products_matmul.cu's kernel applies on the device) against the CPU
 * backend's row decoding (hn_cpu_weight_row_to_f32, which uses weight_blocks.h's block
 * decoders), bit for bit, on rows of random bytes (fp16 scales kept finite). */
#include <string.h>

#include <glib.h>

#include "cpu/cpu_ops.h"
#include "cuda/weight_widen.h"

/* Random bytes; every fp16 at the given offsets of each block made finite. */
static uint8_t *random_rows(GRand *rng, hn_weight_type type, int rows, int C)
{
    size_t row_bytes = hn_weight_row_bytes(type, C), total = row_bytes * rows;
    uint8_t *bytes = g_new(uint8_t, total);
    for (size_t i = 0; i < total; i++)
        bytes[i] = (uint8_t)g_rand_int_range(rng, 0, 256);
    size_t block = type == HN_WEIGHT_Q8_0 ? HN_Q8_0_BLOCK_BYTES : HN_Q4_1_BLOCK_BYTES;
    int halves = type == HN_WEIGHT_Q8_0 ? 1 : type == HN_WEIGHT_Q4_1 ? 2 : 0;
    for (size_t start = 0; halves > 0 && start < total; start += block)
        for (int h = 0; h < halves; h++) {
            uint8_t *high = &bytes[start + 2 * h + 1];
            if ((*high & 0x7c) == 0x7c) /* exponent 31: inf or NaN */
                *high &= 0xfb;
        }
    return bytes;
}

static void check_type(hn_weight_type type, const char *name)
{
    GRand *rng = g_rand_new_with_seed(31 + type);
    const int rows = 7, C = 96;
    uint8_t *bytes = random_rows(rng, type, rows, C);
    size_t row_bytes = hn_weight_row_bytes(type, C);
    float expected[96];
    for (int r = 0; r < rows; r++) {
        hn_cpu_weight_row_to_f32(expected, bytes, type, (size_t)r, C);
        for (int c = 0; c < C; c++) {
            float got = hn_widen_element(bytes + r * row_bytes, type, c);
            if (memcmp(&got, &expected[c], sizeof got) != 0)
                g_error("%s row %d element %d: widened %.9g, CPU backend %.9g", name, r, c,
                        (double)got, (double)expected[c]);
        }
    }
    g_test_message("%s: %d x %d elements equal bit for bit", name, rows, C);
    g_free(bytes);
    g_rand_free(rng);
}

static void test_bf16(void) { check_type(HN_WEIGHT_BF16, "bf16"); }
static void test_q8_0(void) { check_type(HN_WEIGHT_Q8_0, "Q8_0"); }
static void test_q4_1(void) { check_type(HN_WEIGHT_Q4_1, "Q4_1"); }

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernels/cuda/weight_widen/bf16", test_bf16);
    g_test_add_func("/kernels/cuda/weight_widen/q8_0", test_q8_0);
    g_test_add_func("/kernels/cuda/weight_widen/q4_1", test_q4_1);
    return g_test_run();
}
