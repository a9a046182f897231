/* `hone train`'s progress display (app/train_progress.c) with a clock the test sets: h:mm:ss
 * times, the live line's fields, bar and width, the redraw sequence on a terminal (a log, a
 * step between logs with the remaining time from the session's pace, an evaluation on a line
 * of its own) and the plain lines when the output is not a terminal. */
#include <math.h>
#include <string.h>

#include "test_util.h"
#include "train_progress.h"

static double fake_now;

static double fake_clock(void)
{
    return fake_now;
}

static void test_hms(void)
{
    char buf[32];
    g_assert_cmpstr(hone_format_hms(0, buf, sizeof buf), ==, "0:00:00");
    g_assert_cmpstr(hone_format_hms(59.4, buf, sizeof buf), ==, "0:00:59");
    g_assert_cmpstr(hone_format_hms(59.6, buf, sizeof buf), ==, "0:01:00");
    g_assert_cmpstr(hone_format_hms(3723.4, buf, sizeof buf), ==, "1:02:03");
    g_assert_cmpstr(hone_format_hms(360000, buf, sizeof buf), ==, "100:00:00");
    g_assert_cmpstr(hone_format_hms(-1, buf, sizeof buf), ==, "-:--:--");
    g_assert_cmpstr(hone_format_hms(NAN, buf, sizeof buf), ==, "-:--:--");
}

static void test_line(void)
{
    hone_progress_values v = {.step = 25, .total_steps = 100, .loss = 1.23456,
                              .learning_rate = 2.5e-4, .tokens_per_s = 1234.4, .elapsed_s = 83.4,
                              .remaining_s = 250.2};
    char line[512];
    /* 80 columns: the text around the bar takes 61, so the bar gets 80 - 1 - 61 - 4 = 14
     * cells, a quarter of them (floor) filled */
    hone_progress_format_line(&v, 80, line, sizeof line);
    g_assert_cmpstr(line, ==, "25/100 [###-----------]  25% loss 1.2346 lr 2.50e-04 1234 tok/s "
                              "0:01:23<0:04:10");
    g_assert_cmpuint(strlen(line), ==, 79);
    /* wide: the bar stops at 40 cells */
    hone_progress_format_line(&v, 200, line, sizeof line);
    g_assert_cmpstr(line, ==, "25/100 [##########------------------------------]  25% loss 1.2346 "
                              "lr 2.50e-04 1234 tok/s 0:01:23<0:04:10");
    /* narrow: no bar, then cut to the width */
    hone_progress_format_line(&v, 60, line, sizeof line);
    g_assert_cmpstr(line, ==, "25/100  25% loss 1.2346 lr 2.50e-04 1234 tok/s 0:01:23<0:04");
    g_assert_cmpuint(strlen(line), ==, 59);
    /* done */
    v.step = 100;
    v.remaining_s = 0;
    hone_progress_format_line(&v, 80, line, sizeof line);
    g_assert_cmpstr(line, ==, "100/100 [#############] 100% loss 1.2346 lr 2.50e-04 1234 tok/s "
                              "0:01:23<0:00:00");
}

static char *capture(bool terminal, void (*script)(hone_train_progress *))
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    hone_train_progress *p = hone_train_progress_new(out, terminal, 100, fake_clock);
    script(p);
    hone_train_progress_free(p);
    fclose(out);
    return text;
}

static void run_script(hone_train_progress *p)
{
    fake_now = 1000;
    hone_train_progress_start(p, 0, 10);
    fake_now = 1030; /* 2 steps in 30 s */
    hn_train_log log = {.step = 2, .total_steps = 10, .loss = 2.5, .learning_rate = 1e-3,
                        .grad_norm = 0.75, .epoch = 0.5, .elapsed_s = 29.5, .remaining_s = 118,
                        .tokens_per_s = 512.4, .total_tokens = 15117};
    hone_train_progress_log(p, &log);
    fake_now = 1045; /* step 3 at 45 s: 15 s a step, 7 to go */
    hone_train_progress_step(p, 3);
    hn_train_eval eval = {.step = 3, .epoch = 0.75, .loss = 1.875, .runtime_s = 2.5,
                          .samples = 10, .batch_size = 4};
    hone_train_progress_eval(p, &eval);
    hone_train_progress_finish(p);
}

static void test_terminal(void)
{
    char *text = capture(true, run_script);
    /* 100 columns: at the start the full 40-cell bar (no loss, learning rate or remaining time
     * yet), then 37 cells; the log's line takes the elapsed time from the clock (30 s)
     * and the remaining time from the log (118 s); the step's line estimates it from the
     * pace, 45 s / 3 steps x 7 steps left = 105 s */
    const char *want =
        "\r0/10 [----------------------------------------]   0% loss - lr - 0 tok/s "
        "0:00:00<-:--:--\033[K"
        "\r2/10 [#######------------------------------]  20% loss 2.5000 lr 1.00e-03 512 tok/s "
        "0:00:30<0:01:58\033[K"
        "\r3/10 [###########--------------------------]  30% loss 2.5000 lr 1.00e-03 512 tok/s "
        "0:00:45<0:01:45\033[K"
        "\r\033[Keval at step 3  eval_loss 1.8750  2.5s  4.0 samples/s\n"
        "\r3/10 [###########--------------------------]  30% loss 2.5000 lr 1.00e-03 512 tok/s "
        "0:00:45<0:01:45\033[K"
        "\n";
    g_assert_cmpstr(text, ==, want);
    free(text);
}

static void test_plain(void)
{
    char *text = capture(false, run_script);
    /* the log line test_train asserts on ("step 2/2  loss "), no bar, no escapes */
    g_assert_cmpstr(text, ==,
                    "step 2/10  loss 2.5000  lr 0.001  grad_norm 0.750  epoch 0.50  512 tok/s  "
                    "elapsed 30s  remaining 118s\n"
                    "eval at step 3  eval_loss 1.8750  2.5s  4.0 samples/s\n");
    free(text);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/train_progress/hms", test_hms);
    g_test_add_func("/train_progress/line", test_line);
    g_test_add_func("/train_progress/terminal", test_terminal);
    g_test_add_func("/train_progress/plain", test_plain);
    return g_test_run();
}
