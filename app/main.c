/* hone: the entry point. Dispatches to one front end per subcommand (see cli.h). */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"

const hone_command hone_commands[] = {
    {"gui", "open the desktop app (also what `hone` alone does)", hone_cmd_gui},
    {"train", "train a model: hone train CONFIG.yaml [--key value ...]", hone_cmd_train},
    {"chat", "chat with a model in the terminal: hone chat CONFIG.yaml or --model_name_or_path PATH", hone_cmd_chat},
    {"eval", "evaluation loss, perplexity and predictions: hone eval CONFIG.yaml [--key value ...]", hone_cmd_eval},
    {"export", "merge an adapter and write a model folder, a Modelfile and GGUF: hone export CONFIG.yaml", hone_cmd_export},
    {"tokenize", "show the token ids of text (or decode ids) with a model's tokenizer", hone_cmd_tokenize},
    {"score", "log-probabilities, loss and perplexity of text under a model", hone_cmd_score},
    {"env", "what this build and machine can do; --model PATH describes a model", hone_cmd_env},
    {NULL, NULL, NULL},
};

static void print_usage(FILE *out)
{
    fprintf(out,
            "Usage: hone [COMMAND] [OPTIONS]\n"
            "\n"
            "Hone fine-tunes large language models: a desktop app and a command line over one\n"
            "engine (CPU and NVIDIA GPUs). Configs use LLaMA-Factory's key names.\n"
            "\n"
            "Commands:\n");
    for (const hone_command *c = hone_commands; c->name != NULL; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out,
            "\n"
            "Options:\n"
            "  -h, --help     show this help\n"
            "  -V, --version  show the version\n"
            "\n"
            "'hone COMMAND --help' describes a command. Exit codes: 0 success, 1 failure,\n"
            "2 usage error.\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C"); /* numbers in files and logs always use '.' */

    if (argc < 2) {
        char *gui_argv[] = {"gui", NULL};
        return hone_cmd_gui(1, gui_argv);
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 || strcmp(first, "help") == 0) {
        print_usage(stdout);
        return HONE_EXIT_OK;
    }
    if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
        printf("hone %s\n", HONE_VERSION);
        return HONE_EXIT_OK;
    }
    if (first[0] == '-') {
        fprintf(stderr, "hone: unknown option '%s'\nTry 'hone --help'.\n", first);
        return HONE_EXIT_USAGE;
    }
    for (const hone_command *c = hone_commands; c->name != NULL; c++)
        if (strcmp(first, c->name) == 0)
            return c->run(argc - 1, argv + 1);

    fprintf(stderr, "hone: unknown command '%s'. Commands:", first);
    for (const hone_command *c = hone_commands; c->name != NULL; c++)
        fprintf(stderr, " %s", c->name);
    fprintf(stderr, "\nTry 'hone --help'.\n");
    return HONE_EXIT_USAGE;
}
