/* `hone train CONFIG.yaml|CONFIG.json [--key value ...]`: a training run from LLaMA-Factory's
 * keys; keys on the command line override the file. Prints what it will do, a line per
 * logging step (a live line on a terminal), and where the results went. Ctrl-C stops between
 * steps. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "trainer.h"

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

static bool should_stop(void *user)
{
    (void)user;
    return interrupted != 0;
}

static void on_start(void *user, int64_t examples, int64_t total_steps, int64_t trained,
                     int64_t total)
{
    (void)user;
    char a[32], b[32], c[32], d[32];
    printf("hone train: %s examples, %s optimizer steps; training %s of %s parameters (%.2f%%)\n",
           hone_format_count(examples, a, sizeof a), hone_format_count(total_steps, b, sizeof b),
           hone_format_count(trained, c, sizeof c), hone_format_count(total, d, sizeof d),
           100.0 * (double)trained / (double)(total > 0 ? total : 1));
    fflush(stdout);
}

static void on_log(void *user, const hn_train_log *log)
{
    (void)user;
    if (!isnan(log->eval_loss)) {
        printf("step %lld/%lld  eval_loss %.4f\n", (long long)log->step,
               (long long)log->total_steps, log->eval_loss);
        fflush(stdout);
        return;
    }
    printf("step %lld/%lld  loss %.4f  lr %.3g  grad_norm %.3f  epoch %.2f  %.0f tok/s  "
           "elapsed %.0fs  remaining %.0fs\n",
           (long long)log->step, (long long)log->total_steps, log->loss, log->learning_rate,
           log->grad_norm, log->epoch, log->tokens_per_s, log->elapsed_s, log->remaining_s);
    fflush(stdout);
}

static void on_resume(void *user, const char *checkpoint, int64_t step)
{
    (void)user;
    printf("hone train: resuming from %s (step %lld)\n", checkpoint, (long long)step);
    fflush(stdout);
}

static void print_usage(void)
{
    printf("Usage: hone train CONFIG.yaml|CONFIG.json [--key value ...]\n\n"
           "Trains a model as LLaMA-Factory's `llamafactory-cli train` does, from a config with\n"
           "its key names (model_name_or_path, stage, finetuning_type, dataset, template,\n"
           "output_dir, learning_rate, ...). --key value (or --key=value) overrides the file;\n"
           "a config file is optional when every key is given that way. Keys Hone does not use\n"
           "are listed and ignored. Built so far: stage sft with finetuning_type lora, freeze or\n"
           "full on the CPU, evaluation (val_size, eval_dataset), checkpoints every save_steps;\n"
           "a run whose output_dir holds a checkpoint resumes from it. Ctrl-C saves a\n"
           "checkpoint and stops (exit code 130). Packing is not built yet.\n");
}

/* Applies --key value pairs from argv[first..]. */
static int apply_overrides(hn_train_args *args, int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            return hone_usage_error("train", "unexpected argument \"%s\" (expected --key value)",
                                    argv[i]);
        char *key = g_strdup(argv[i] + 2), *value = strchr(key, '=');
        if (value != NULL) {
            *value++ = '\0';
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            g_free(key);
            return hone_usage_error("train", "%s needs a value", argv[i]);
        }
        hn_error err = {0};
        char *where = g_strdup_printf("--%s", key);
        hn_status s = hn_train_args_set(args, key, value, where, &err);
        int code = s == HN_OK ? HONE_EXIT_OK
                   : s == HN_ERR_UNSUPPORTED
                       ? hone_usage_error("train", "--%s: not a key Hone reads", key)
                       : hone_usage_error("train", "%s", err.message);
        g_free(where);
        g_free(key);
        if (code != HONE_EXIT_OK)
            return code;
    }
    return HONE_EXIT_OK;
}

int hone_cmd_train(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage();
            return HONE_EXIT_OK;
        }
    hn_train_args args;
    hn_train_args_init(&args);
    int first_override = 1, code = HONE_EXIT_OK;
    hn_error err = {0};
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        char **ignored = NULL;
        if (hn_train_args_load(&args, argv[1], &ignored, &err) != HN_OK) {
            code = hone_fail("train", "%s", err.message);
        } else if (ignored != NULL && ignored[0] != NULL) {
            char *list = g_strjoinv(", ", ignored);
            printf("hone train: ignoring keys Hone does not use: %s\n", list);
            g_free(list);
        }
        g_strfreev(ignored);
        first_override = 2;
    }
    if (code == HONE_EXIT_OK)
        code = apply_overrides(&args, argc, argv, first_override);
    if (code == HONE_EXIT_OK) {
        signal(SIGINT, on_interrupt);
        hn_train_callbacks callbacks = {on_start, on_log, should_stop, NULL, on_resume};
        hn_status s = hn_train_run(&args, &callbacks, &err);
        if (s == HN_ERR_STOPPED) {
            fprintf(stderr, "hone train: %s\n", err.message);
            code = HONE_EXIT_INTERRUPTED;
        } else if (s != HN_OK) {
            code = hone_fail("train", "%s", err.message);
        } else
            printf("hone train: done; results in %s\n", args.output_dir);
    }
    hn_train_args_clear(&args);
    return code;
}
