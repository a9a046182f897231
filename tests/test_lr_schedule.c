/* Learning-rate schedules against transformers' get_scheduler (tests/reference/
 * lr_schedule_ref.py): every type, with and without warmup, with lr_scheduler_kwargs, every
 * step to past the end; warmup_steps/warmup_ratio as TrainingArguments reads them; bad
 * schedules. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "lr_schedule.h"
#include "test_util.h"

static double number(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItem(obj, key)->valuedouble;
}

static void check_case(const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "type")->valuestring;
    hn_lr_scheduler_type type;
    g_assert_true(hn_lr_scheduler_parse(name, &type));
    g_assert_cmpstr(hn_lr_scheduler_name(type), ==, name);
    hn_lr_schedule s;
    hn_lr_schedule_init(&s, type, number(c, "lr"), (int64_t)number(c, "warmup"),
                        (int64_t)number(c, "total"));
    const cJSON *kwargs = cJSON_GetObjectItem(c, "kwargs");
    const cJSON *kw;
    cJSON_ArrayForEach(kw, kwargs)
    {
        if (strcmp(kw->string, "num_cycles") == 0)
            s.num_cycles = kw->valuedouble;
        else if (strcmp(kw->string, "lr_end") == 0)
            s.lr_end = kw->valuedouble;
        else if (strcmp(kw->string, "power") == 0)
            s.power = kw->valuedouble;
        else if (strcmp(kw->string, "timescale") == 0)
            s.timescale = (int64_t)kw->valuedouble;
        else
            g_error("unknown kwarg %s", kw->string);
    }
    hn_error err = {0};
    if (hn_lr_schedule_check(&s, &err) != HN_OK)
        g_error("%s", err.message);
    const cJSON *lrs = cJSON_GetObjectItem(c, "lrs");
    for (int step = 0; step < cJSON_GetArraySize(lrs); step++) {
        double want = cJSON_GetArrayItem(lrs, step)->valuedouble, got = hn_lr_at(&s, step);
        /* the same formula in doubles: equal up to rounding of the last bits */
        if (!(fabs(got - want) <= 1e-12 * fabs(want) + 1e-18))
            g_error("%s warmup %" G_GINT64_FORMAT " total %" G_GINT64_FORMAT " step %d: got %.17g,"
                    " transformers %.17g", name, s.warmup_steps, s.total_steps, step, got, want);
    }
}

static void test_against_transformers(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("lr_schedule_ref.py", "write", dir);
    char *path = g_build_filename(dir, "expected.json", NULL);
    cJSON *expected = test_load_json(path);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(expected, "cases"))
    {
        check_case(c);
        n++;
    }
    g_assert_cmpint(n, >=, 60);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(expected, "warmup_cases"))
    {
        double steps = cJSON_GetArrayItem(c, 0)->valuedouble;
        int64_t total = (int64_t)cJSON_GetArrayItem(c, 1)->valuedouble;
        int64_t want = (int64_t)cJSON_GetArrayItem(c, 2)->valuedouble;
        g_assert_cmpint(hn_lr_warmup_steps(steps, 0, total), ==, want);
        if (steps > 0 && steps < 1) /* the same share given as warmup_ratio */
            g_assert_cmpint(hn_lr_warmup_steps(0, steps, total), ==, want);
    }
    g_test_message("%d schedules equal transformers' get_scheduler", n);
    cJSON_Delete(expected);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

static void expect_error(const hn_lr_schedule *s, const char *needle)
{
    hn_error err = {0};
    g_assert_cmpint(hn_lr_schedule_check(s, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, needle);
}

static void test_bad_schedules(void)
{
    hn_lr_scheduler_type type;
    g_assert_false(hn_lr_scheduler_parse("cosine_with_min_lr", &type));
    test_assert_contains(hn_lr_scheduler_choices(), "inverse_sqrt");
    hn_lr_schedule s;
    hn_lr_schedule_init(&s, HN_LR_POLYNOMIAL, 1e-4, 10, 10);
    expect_error(&s, "the warmup (10 steps) must be shorter than the training (10 steps)");
    hn_lr_schedule_init(&s, HN_LR_POLYNOMIAL, 1e-7, 0, 10);
    expect_error(&s, "lr_end (1e-07) must be smaller than the learning rate (1e-07)");
    hn_lr_schedule_init(&s, HN_LR_LINEAR, 1e-4, -1, 10);
    expect_error(&s, "cannot be negative");
    hn_lr_schedule_init(&s, HN_LR_INVERSE_SQRT, 1e-4, 0, 10);
    s.timescale = 0;
    expect_error(&s, "timescale must be positive");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/lr_schedule/bad-schedules", test_bad_schedules);
    g_test_add_func("/reference/lr_schedule/transformers", test_against_transformers);
    return g_test_run();
}
