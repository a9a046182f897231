/* `hone export CONFIG.yaml [--key value ...]`: merges a LoRA adapter into its base model and
 * writes a Hugging Face folder, an Ollama Modelfile and optionally a GGUF file, as
 * LLaMA-Factory's `llamafactory-cli export` (engine/export.h). Progress goes to stderr. Ctrl-C
 * cancels: the export stops before its next tensor or file, removes what it wrote and exits 130;
 * a second Ctrl-C quits at once (the staging folder may then stay behind in export_dir). */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "export.h"

static void print_usage(void)
{
    printf("Usage: hone export [CONFIG.yaml|CONFIG.json] [--key value ...]\n\n"
           "Merges LoRA adapters into their base model and writes it, as LLaMA-Factory's\n"
           "`llamafactory-cli export`.\n"
           "Keys (LLaMA-Factory's names; in the file or as --key value):\n"
           "  model_name_or_path    the base model: a folder or GGUF file (required)\n"
           "  adapter_name_or_path  PEFT LoRA/DoRA folders (commas between), merged in order\n"
           "  export_dir            the folder to write (required; must be empty or new)\n"
           "  export_size           GB (10^9 bytes) per safetensors shard (5; fractions allowed)\n"
           "  infer_dtype           auto, float32, float16 or bfloat16 (auto: the model's own,\n"
           "                        float32 for a GGUF source, as upstream on a CPU)\n"
           "  template              a LLaMA-Factory template name: writes the Ollama Modelfile\n"
           "  default_system        the Modelfile's SYSTEM (default: the template's)\n"
           "  export_device         cpu or auto (accepted; Hone merges on the CPU)\n"
           "Hone's keys:\n"
           "  export_gguf           f16, bf16 or q8_0: also write EXPORT_DIR/NAME-TYPE.gguf\n"
           "                        (from a GGUF source model)\n"
           "  overwrite_output_dir  true: write into a non-empty export_dir\n"
           "Writes model.safetensors (or model-0000k-of-0000n.safetensors shards and\n"
           "model.safetensors.index.json), config.json, generation_config.json, the tokenizer\n"
           "files of a model folder (a GGUF source has none: its tokenizer stays in the GGUF),\n"
           "and Modelfile. Ctrl-C stops the export and removes what it wrote (exit 130).\n");
}

static atomic_bool cancel_export;

static void on_interrupt(int sig)
{
    (void)sig;
    atomic_store(&cancel_export, true);
    signal(SIGINT, SIG_DFL); /* the next Ctrl-C quits at once */
}

static hn_status set_export_arg(void *user, const char *key, const char *value,
                                const char *where, hn_error *err)
{
    return hn_export_args_set(user, key, value, where, err);
}

static void show_progress(void *user, const char *what, size_t index, size_t total)
{
    (void)user;
    if (index < total)
        fprintf(stderr, "hone export: [%zu/%zu] %s\n", index + 1, total, what);
    else
        fprintf(stderr, "hone export: writing %s\n", what);
}

int hone_cmd_export(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage();
            return HONE_EXIT_OK;
        }
    hn_export_args args;
    hn_export_args_init(&args);
    hn_error err = {0};
    int code = hone_read_config("export", argc, argv, set_export_arg, &args);
    if (code == HONE_EXIT_OK && hn_export_args_check(&args, &err) != HN_OK)
        code = hone_usage_error("export", "%s", err.message);
    if (code == HONE_EXIT_OK) {
        signal(SIGINT, on_interrupt);
        hn_status s = hn_export_run(&args, show_progress, NULL, &cancel_export, &err);
        signal(SIGINT, SIG_DFL);
        if (s == HN_ERR_STOPPED) {
            fprintf(stderr, "hone export: %s\n", err.message);
            code = HONE_EXIT_INTERRUPTED;
        } else if (s != HN_OK) {
            code = hone_fail("export", "%s", err.message);
        } else {
            fprintf(stderr, "hone export: the model is in %s\n", args.export_dir);
        }
    }
    hn_export_args_clear(&args);
    return code;
}
