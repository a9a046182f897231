/* hone_state.json (engine/train_position.c): every field of a training position comes back bit
 * for bit, the log's running sums included (random doubles of every magnitude: cJSON's own
 * 15-digit printing would round some of them), and a broken file is refused with its name. */
#include <math.h>
#include <string.h>

#include "test_util.h"
#include "train_position.h"

static double random_double(void)
{
    return g_test_rand_double_range(-1, 1) * pow(10, g_test_rand_int_range(-30, 30));
}

static void test_round_trip(void)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "hone_state.json", NULL);
    hn_error err = {0};
    for (int round = 0; round < 200; round++) {
        hn_train_position p = {
            .step = g_test_rand_int_range(0, 1 << 30), .epoch = g_test_rand_int_range(0, 100),
            .epoch_shuffle = ((uint64_t)g_test_rand_int() << 32) ^ (uint32_t)g_test_rand_int(),
            .next_batch = g_test_rand_int_range(0, 1000),
            .dropout_position = (uint64_t)g_test_rand_int() << 20,
            .tokens = g_test_rand_int_range(0, 1 << 30), .loss_since_log = random_double(),
            .steps_since_log = g_test_rand_int_range(0, 100), .elapsed_s = fabs(random_double()),
            .examples = g_test_rand_int_range(1, 1000), .total_steps = g_test_rand_int_range(1, 1000),
            .batch_size = 2, .accumulation = 4, .seed = 42,
        };
        for (int m = 0; m < HN_POSITION_METRICS; m++) {
            p.metric_sums[m] = random_double();
            p.metric_weights[m] = g_test_rand_int_range(0, 50);
        }
        g_assert_cmpint(hn_train_position_write(&p, path, &err), ==, HN_OK);
        hn_train_position q;
        g_assert_cmpint(hn_train_position_read(&q, path, &err), ==, HN_OK);
        g_assert_true(memcmp(&p.loss_since_log, &q.loss_since_log, sizeof(double)) == 0);
        g_assert_true(memcmp(p.metric_sums, q.metric_sums, sizeof p.metric_sums) == 0);
        g_assert_true(memcmp(p.metric_weights, q.metric_weights, sizeof p.metric_weights) == 0);
        g_assert_cmpint(q.step, ==, p.step);
        g_assert_true(q.epoch_shuffle == p.epoch_shuffle);
        g_assert_true(q.dropout_position == p.dropout_position);
    }
    test_write_text(path, "{\"global_step\": 3, \"metric_sums\": [1, 2]}");
    hn_train_position q;
    g_assert_cmpint(hn_train_position_read(&q, path, &err), !=, HN_OK);
    test_assert_contains(err.message, path);
    test_remove_tree(dir);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/train_position/round_trip", test_round_trip);
    return g_test_run();
}
