/* `hone train`'s progress display: the live line on a terminal ("\r", the line, erase to the
 * end of line), plain lines elsewhere. */
#include "train_progress.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BAR_MIN 10
#define BAR_MAX 40

const char *hone_format_hms(double seconds, char *buf, size_t size)
{
    if (!isfinite(seconds) || seconds < 0 || seconds > 1e12) {
        snprintf(buf, size, "-:--:--");
        return buf;
    }
    long long s = llround(seconds);
    snprintf(buf, size, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    return buf;
}

void hone_progress_format_line(const hone_progress_values *v, int width, char *buf, size_t size)
{
    char elapsed[32], remaining[32];
    double fraction = v->total_steps > 0 ? (double)v->step / (double)v->total_steps : 0;
    fraction = fmin(fmax(fraction, 0), 1);
    char *head = g_strdup_printf("%lld/%lld", (long long)v->step, (long long)v->total_steps);
    char loss[32] = "-", lr[32] = "-"; /* before the first log */
    if (isfinite(v->loss))
        snprintf(loss, sizeof loss, "%.4f", v->loss);
    if (isfinite(v->learning_rate))
        snprintf(lr, sizeof lr, "%.2e", v->learning_rate);
    char *tail = g_strdup_printf(
        "%3.0f%% loss %s lr %s %.0f tok/s %s<%s", 100 * fraction, loss, lr, v->tokens_per_s,
        hone_format_hms(v->elapsed_s, elapsed, sizeof elapsed),
        hone_format_hms(v->remaining_s, remaining, sizeof remaining));
    int room = width - 1 - (int)strlen(head) - (int)strlen(tail) - 4; /* " [" "] " */
    GString *line = g_string_new(head);
    if (room >= BAR_MIN) {
        int cells = room < BAR_MAX ? room : BAR_MAX;
        int filled = (int)floor(fraction * cells);
        g_string_append(line, " [");
        for (int i = 0; i < cells; i++)
            g_string_append_c(line, i < filled ? '#' : '-');
        g_string_append(line, "] ");
    } else {
        g_string_append_c(line, ' ');
    }
    g_string_append(line, tail);
    if (width > 1 && line->len > (size_t)(width - 1))
        g_string_truncate(line, (size_t)(width - 1));
    snprintf(buf, size, "%s", line->str);
    g_string_free(line, TRUE);
    g_free(head);
    g_free(tail);
}

/* Appends "  NAME VALUE" for each logged metric of a preference stage. */
static void append_metrics(bool has, const double *metrics, const char *prefix, char *buf,
                           size_t size)
{
    for (int m = 0; has && m < HN_METRIC_COUNT; m++) {
        size_t used = strlen(buf);
        if (!isnan(metrics[m]) && used < size)
            snprintf(buf + used, size - used, "  %s%s %.4f", prefix, HN_TRAIN_METRIC_NAMES[m],
                     metrics[m]);
    }
}

void hone_progress_format_log(const hn_train_log *log, char *buf, size_t size)
{
    snprintf(buf, size,
             "step %lld/%lld  loss %.4f  lr %.3g  grad_norm %.3f  epoch %.2f  %.0f tok/s  "
             "elapsed %.0fs  remaining %.0fs",
             (long long)log->step, (long long)log->total_steps, log->loss, log->learning_rate,
             log->grad_norm, log->epoch, log->tokens_per_s, log->elapsed_s, log->remaining_s);
    append_metrics(log->has_metrics, log->metrics, "", buf, size);
}

void hone_progress_format_eval(const hn_train_eval *eval, char *buf, size_t size)
{
    snprintf(buf, size, "eval at step %lld  eval_loss %.4f", (long long)eval->step, eval->loss);
    size_t used = strlen(buf);
    if (eval->runtime_s > 0 && used < size) /* the trainer's log carries no runtime */
        snprintf(buf + used, size - used, "  %.1fs  %.1f samples/s", eval->runtime_s,
                 (double)eval->samples / eval->runtime_s);
    append_metrics(eval->has_metrics, eval->metrics, "eval_", buf, size);
}

struct hone_train_progress {
    FILE *out;
    bool terminal;
    int width;
    double (*clock)(void);
    double start_time;
    int64_t first_step;
    hone_progress_values last; /* what the live line showed last */
    bool drawn;                /* the live line is on screen (no newline after it yet) */
};

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

hone_train_progress *hone_train_progress_new(FILE *out, bool terminal, int width,
                                             double (*clock)(void))
{
    hone_train_progress *p = g_new0(hone_train_progress, 1);
    p->out = out;
    p->terminal = terminal;
    p->width = width > 20 ? width : 80;
    p->clock = clock != NULL ? clock : monotonic_seconds;
    p->start_time = p->clock();
    return p;
}

hone_train_progress *hone_train_progress_new_stdout(void)
{
    bool terminal = isatty(STDOUT_FILENO) != 0;
    int width = 80;
    struct winsize ws;
    if (terminal && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        width = ws.ws_col;
    else if (g_getenv("COLUMNS") != NULL)
        width = atoi(g_getenv("COLUMNS"));
    return hone_train_progress_new(stdout, terminal, width, NULL);
}

void hone_train_progress_free(hone_train_progress *progress)
{
    g_free(progress);
}

static void draw(hone_train_progress *p)
{
    char line[1024];
    hone_progress_format_line(&p->last, p->width, line, sizeof line);
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
    p->drawn = true;
}

void hone_train_progress_start(hone_train_progress *progress, int64_t first_step,
                               int64_t total_steps)
{
    progress->start_time = progress->clock();
    progress->first_step = first_step;
    progress->last = (hone_progress_values){.step = first_step, .total_steps = total_steps,
                                            .loss = NAN, .learning_rate = NAN,
                                            .tokens_per_s = 0, .remaining_s = NAN};
    if (progress->terminal)
        draw(progress);
}

void hone_train_progress_log(hone_train_progress *progress, const hn_train_log *log)
{
    if (!progress->terminal) {
        char line[512];
        hone_progress_format_log(log, line, sizeof line);
        fprintf(progress->out, "%s\n", line);
        fflush(progress->out);
        return;
    }
    progress->last = (hone_progress_values){
        .step = log->step, .total_steps = log->total_steps, .loss = log->loss,
        .learning_rate = log->learning_rate, .tokens_per_s = log->tokens_per_s,
        .elapsed_s = progress->clock() - progress->start_time, .remaining_s = log->remaining_s};
    if (log->has_metrics) { /* the live line has no room for them: a line of their own */
        char line[512] = "";
        snprintf(line, sizeof line, "step %lld:", (long long)log->step);
        append_metrics(true, log->metrics, "", line, sizeof line);
        hone_train_progress_message(progress, line);
        return;
    }
    draw(progress);
}

void hone_train_progress_step(hone_train_progress *progress, int64_t step)
{
    if (!progress->terminal)
        return;
    hone_progress_values *v = &progress->last;
    double now = progress->clock();
    v->step = step;
    v->elapsed_s = now - progress->start_time;
    /* the pace of this session so far */
    int64_t done = step - progress->first_step;
    v->remaining_s = done > 0 ? v->elapsed_s / (double)done * (double)(v->total_steps - step)
                              : NAN;
    draw(progress);
}

void hone_train_progress_message(hone_train_progress *progress, const char *text)
{
    if (progress->terminal && progress->drawn)
        fprintf(progress->out, "\r\033[K");
    fprintf(progress->out, "%s\n", text);
    fflush(progress->out);
    if (progress->terminal && progress->drawn)
        draw(progress);
}

void hone_train_progress_eval(hone_train_progress *progress, const hn_train_eval *eval)
{
    char line[512];
    hone_progress_format_eval(eval, line, sizeof line);
    hone_train_progress_message(progress, line);
}

void hone_train_progress_finish(hone_train_progress *progress)
{
    if (progress->terminal && progress->drawn) {
        fputc('\n', progress->out);
        fflush(progress->out);
    }
    progress->drawn = false;
}
