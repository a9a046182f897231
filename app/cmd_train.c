/* `hone train CONFIG.yaml|CONFIG.json [--key value ...]`: a training run from LLaMA-Factory's
 * keys; keys on the command line override the file. Prints what it will do, a line per
 * logging step (a live progress line on a terminal: train_progress.c), and where the results
 * went. The first Ctrl-C stops after the current step, the second at once. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "train_history.h"
#include "train_progress.h"
#include "trainer.h"

/* What the callbacks share. */
typedef struct {
    hone_train_progress *progress;
    int64_t first_step; /* a resumed run's checkpoint step, else 0 */
} train_view;

static volatile sig_atomic_t interrupted;

/* The first Ctrl-C asks the trainer to stop after the step it is in (it polls should_stop);
 * the second ends the process at once. Only async-signal-safe calls here (write, _exit). */
static void on_interrupt(int sig)
{
    (void)sig;
    if (interrupted) {
        _exit(130); /* 128 + SIGINT, as a shell reports a process that Ctrl-C ended */
    }
    interrupted = 1;
    static const char message[] = "\nhone train: stopping after this step; writing a checkpoint "
                                  "- press Ctrl-C again to quit at once\n";
    ssize_t written = write(STDERR_FILENO, message, sizeof message - 1);
    (void)written;
}

static void catch_interrupts(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
}

static bool should_stop(void *user)
{
    (void)user;
    return interrupted != 0;
}

static void on_start(void *user, int64_t examples, int64_t total_steps, int64_t trained,
                     int64_t total)
{
    char a[32], b[32], c[32], d[32];
    printf("hone train: %s examples, %s optimizer steps; training %s of %s parameters (%.2f%%)\n",
           hone_format_count(examples, a, sizeof a), hone_format_count(total_steps, b, sizeof b),
           hone_format_count(trained, c, sizeof c), hone_format_count(total, d, sizeof d),
           100.0 * (double)trained / (double)(total > 0 ? total : 1));
    fflush(stdout);
    train_view *view = user;
    hone_train_progress_start(view->progress, view->first_step, total_steps);
}

static void on_log(void *user, const hn_train_log *log)
{
    train_view *view = user;
    if (isnan(log->eval_loss)) {
        hone_train_progress_log(view->progress, log);
        return;
    }
    hn_train_eval eval = {.step = log->step, .epoch = log->epoch, .loss = log->eval_loss,
                          .has_metrics = log->has_metrics};
    memcpy(eval.metrics, log->metrics, sizeof eval.metrics);
    hone_train_progress_eval(view->progress, &eval);
}

static void on_step(void *user, int64_t step)
{
    train_view *view = user;
    hone_train_progress_step(view->progress, step);
}

static void on_resume(void *user, const char *checkpoint, int64_t step)
{
    train_view *view = user;
    view->first_step = step;
    char *line = g_strdup_printf("hone train: resuming from %s (step %lld)", checkpoint,
                                 (long long)step);
    hone_train_progress_message(view->progress, line);
    g_free(line);
}

static void on_note(void *user, const char *text)
{
    train_view *view = user;
    char *line = g_strdup_printf("hone train: %s", text);
    hone_train_progress_message(view->progress, line);
    g_free(line);
}

static void print_usage(void)
{
    printf("Usage: hone train CONFIG.yaml|CONFIG.json [--key value ...]\n\n"
           "Trains a model as LLaMA-Factory's `llamafactory-cli train` does, from a config with\n"
           "its key names (model_name_or_path, stage, finetuning_type, dataset, template,\n"
           "output_dir, learning_rate, ...). --key value (or --key=value) overrides the file;\n"
           "a config file is optional when every key is given that way. Keys Hone does not use\n"
           "are listed and ignored. Built so far: stages pt and sft with finetuning_type lora,\n"
           "freeze or full on the CPU, packing, evaluation (val_size, eval_dataset), checkpoints\n"
           "every save_steps; a run whose output_dir holds a checkpoint resumes from it. Ctrl-C\n"
           "saves a checkpoint and stops (exit code 130); a second Ctrl-C quits at once.\n");
}

static hn_status set_train_arg(void *user, const char *key, const char *value,
                               const char *where, hn_error *err)
{
    return hn_train_args_set(user, key, value, where, err);
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
    hn_error err = {0};
    int code = hone_read_config("train", argc, argv, set_train_arg, &args);
    if (code == HONE_EXIT_OK) {
        catch_interrupts();
        train_view view = {hone_train_progress_new_stdout(), 0};
        hn_train_callbacks callbacks = {
            .on_start = on_start, .on_log = on_log, .should_stop = should_stop, .user = &view,
            .on_resume = on_resume, .on_note = on_note, .on_step = on_step,
        };
        hn_status s = hn_train_run(&args, &callbacks, &err);
        hone_train_progress_finish(view.progress);
        hone_train_progress_free(view.progress);
        if (s == HN_ERR_STOPPED) {
            fprintf(stderr, "hone train: %s\n", err.message);
            code = HONE_EXIT_INTERRUPTED;
        } else if (s != HN_OK) {
            code = hone_fail("train", "%s", err.message);
        } else {
            printf("hone train: done; results in %s\n", args.output_dir);
        }
    }
    hn_train_args_clear(&args);
    return code;
}
