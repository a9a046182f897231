/* Hone's side of bench/train_step.py: training steps (forward, backward, AdamW) of a model on
 * random tokens, timed after warm-up steps; prints one JSON line with tokens per second, the
 * seconds per step and the peak resident memory.
 *
 *   bench_train_step MODEL full|lora|dora SEQ_LEN STEPS [WARMUP] [--recompute] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "optimizer.h"

/* Peak resident memory of this process image in MB (VmHWM: unlike getrusage's ru_maxrss,
 * it does not carry over the parent's peak across fork and exec). */
static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %lf kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb / 1024.0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL full|lora|dora SEQ_LEN STEPS [WARMUP] [--recompute]\n",
                argv[0]);
        return 2;
    }
    const char *path = argv[1];
    bool dora = strcmp(argv[2], "dora") == 0, lora = dora || strcmp(argv[2], "lora") == 0;
    int T = atoi(argv[3]), steps = atoi(argv[4]), warmup = argc > 5 ? atoi(argv[5]) : 1;
    bool recompute = argc > 6 && strcmp(argv[6], "--recompute") == 0;
    hn_error err = {0};
    hn_model_dir *dir = NULL;
    hn_model *model = NULL;
    hn_optimizer *opt = NULL;
    hn_model_options options;
    hn_model_options_init(&options);
    options.method = lora ? HN_METHOD_LORA : HN_METHOD_FULL;
    options.recompute = recompute;
    options.use_dora = dora;
    hn_optimizer_options opt_options;
    hn_optimizer_options_init(&opt_options);
    hn_lr_schedule_init(&opt_options.schedule, HN_LR_CONSTANT, 1e-4, 0, 0);
    if (hn_model_dir_open(path, &dir, &err) != HN_OK ||
        hn_model_new(dir, &options, &model, &err) != HN_OK ||
        hn_optimizer_new(model, &opt_options, &opt, &err) != HN_OK) {
        fprintf(stderr, "bench_train_step: %s\n", err.message);
        return 1;
    }
    int V = (int)dir->config.vocab_size;
    int32_t *ids = malloc((size_t)T * sizeof(int32_t));
    srand(1);
    for (int t = 0; t < T; t++)
        ids[t] = rand() % V;
    hn_batch batch = {ids, ids, NULL, NULL, 1, T};
    double start = 0, loss = 0;
    for (int step = 0; step < warmup + steps; step++) {
        if (step == warmup)
            start = now();
        double sum = 0;
        int64_t n = 0;
        if (hn_model_forward(model, &batch, &sum, &n, &err) != HN_OK ||
            hn_model_backward(model, 1.0f / (float)n, &err) != HN_OK ||
            hn_optimizer_step(opt, NULL, &err) != HN_OK) {
            fprintf(stderr, "bench_train_step: %s\n", err.message);
            return 1;
        }
        loss = sum / (double)n;
    }
    double seconds = (now() - start) / steps;
    printf("{\"tokens_per_s\": %.2f, \"step_s\": %.4f, \"peak_rss_mb\": %.1f, \"loss\": %.4f, "
           "\"trained\": %lld}\n",
           T / seconds, seconds, peak_rss_mb(), loss,
           (long long)hn_model_trained_count(model));
    hn_optimizer_free(opt);
    hn_model_free(model);
    hn_model_dir_close(dir);
    free(ids);
    return 0;
}
