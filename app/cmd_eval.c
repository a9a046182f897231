/* `hone eval CONFIG.yaml|CONFIG.json [--key value ...]`: evaluation without training, as
 * `llamafactory-cli train` runs with do_eval / do_predict (engine/eval_run.h). Notes and the
 * results on stdout; progress (examples done / total, tokens/s) on stderr, rewritten in place
 * on a terminal. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "eval_run.h"

typedef struct {
    bool terminal;   /* stderr is a terminal: progress rewrites one line */
    bool line_open;  /* a progress line is on the terminal */
    double last;     /* when the last plain progress line was printed */
} eval_view;

static void end_line(eval_view *view)
{
    if (view->line_open) {
        fputc('\n', stderr);
        view->line_open = false;
    }
}

static void on_note(void *user, const char *line)
{
    eval_view *view = user;
    end_line(view);
    printf("hone eval: %s\n", line);
    fflush(stdout);
}

static void on_progress(void *user, const char *phase, size_t done, size_t total,
                        double tokens_per_s)
{
    eval_view *view = user;
    double now = (double)g_get_monotonic_time() / 1e6;
    if (view->terminal) {
        fprintf(stderr, "\rhone eval: %s %zu/%zu examples, %.1f tokens/s\033[K", phase, done,
                total, tokens_per_s);
        view->line_open = true;
    } else if (done == total || now - view->last >= 10) { /* a log: a line every 10 s */
        fprintf(stderr, "hone eval: %s %zu/%zu examples, %.1f tokens/s\n", phase, done, total,
                tokens_per_s);
        view->last = now;
    }
    if (done == total)
        end_line(view);
    fflush(stderr);
}

static void print_usage(void)
{
    printf("Usage: hone eval CONFIG.yaml|CONFIG.json [--key value ...]\n\n"
           "Evaluates a model (and adapter_name_or_path) as LLaMA-Factory does with do_eval /\n"
           "do_predict and no training, from a config with its key names. --key value (or\n"
           "--key=value) overrides the file. The data is eval_dataset, or dataset when that is\n"
           "not set (max_samples, cutoff_len, template as for training).\n"
           "  do_eval: true         eval loss and perplexity -> output_dir/eval_results.json\n"
           "  do_predict: true      with predict_with_generate: true (stage sft): an answer\n"
           "                        per example -> generated_predictions.jsonl, and BLEU-4,\n"
           "                        ROUGE-1/2/L -> predict_results.json\n"
           "Generation keys: do_sample, temperature (0: greedy), top_p, top_k,\n"
           "repetition_penalty, max_new_tokens, skip_special_tokens; seed. Both phases also\n"
           "update output_dir/all_results.json. Progress goes to stderr.\n");
}

static hn_status set_arg(void *user, const char *key, const char *value, const char *where,
                         hn_error *err)
{
    return hn_train_args_set(user, key, value, where, err);
}

int hone_cmd_eval(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage();
            return HONE_EXIT_OK;
        }
    if (argc < 2)
        return hone_usage_error("eval", "a config file or --key value options are required");
    hn_train_args args;
    hn_train_args_init(&args);
    int code = hone_read_config("eval", argc, argv, set_arg, &args);
    if (code == HONE_EXIT_OK) {
        eval_view view = {.terminal = isatty(STDERR_FILENO) != 0};
        hn_eval_callbacks callbacks = {on_note, on_progress, &view, NULL};
        hn_error err = {0};
        hn_status s = hn_eval_run(&args, &callbacks, &err);
        end_line(&view);
        if (s != HN_OK)
            code = hone_fail("eval", "%s", err.message);
        else
            printf("hone eval: done; results in %s\n", args.output_dir);
    }
    hn_train_args_clear(&args);
    return code;
}
