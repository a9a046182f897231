/* The hone binary as a user runs it: help, version, env, exit codes, error messages. */
#include <glib/gstdio.h>
#include <string.h>

#include "chat_encode.h"
#include "chat_jinja.h"
#include "config.h"
#include "gguf_tokenizer.h"
#include "test_util.h"

typedef struct {
    int code;
    char *out, *err;
} run_result;

static run_result hone(const char *first, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_getenv("HONE_BIN"));
    va_list ap;
    va_start(ap, first);
    for (const char *arg = first; arg != NULL; arg = va_arg(ap, const char *))
        g_ptr_array_add(argv, (char *)arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    run_result r = {0};
    r.code = test_run((char **)argv->pdata, &r.out, &r.err);
    g_ptr_array_free(argv, TRUE);
    return r;
}

static void run_result_clear(run_result *r)
{
    g_free(r->out);
    g_free(r->err);
}

static void test_help_and_version(void)
{
    run_result r = hone("--version", NULL);
    g_assert_cmpint(r.code, ==, 0);
    g_assert_cmpstr(r.out, ==, "hone " HONE_VERSION "\n");
    run_result_clear(&r);

    r = hone("--help", NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "Commands:");
    for (const char *c = "train\0chat\0eval\0export\0env\0tokenize\0score\0gui\0"; *c; c += strlen(c) + 1)
        test_assert_contains(r.out, c);
    run_result_clear(&r);

    r = hone("env", "--help", NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "--model");
    run_result_clear(&r);
}

static void test_usage_errors(void)
{
    run_result r = hone("frobnicate", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "unknown command 'frobnicate'");
    run_result_clear(&r);

    r = hone("--frobnicate", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "unknown option '--frobnicate'");
    run_result_clear(&r);

    r = hone("env", "--bogus", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "--bogus");
    test_assert_contains(r.err, "Try 'hone env --help'");
    run_result_clear(&r);

    r = hone("env", "stray", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "unexpected argument 'stray'");
    run_result_clear(&r);
}

/* `hone gui` and `hone` alone open the desktop app; without a display they say so plainly
 * (the window itself is tested under Xvfb by test_gui_smoke.sh). */
static void test_gui_without_display(void)
{
    g_unsetenv("DISPLAY");
    g_unsetenv("WAYLAND_DISPLAY");
    const char *firsts[] = {"gui", NULL};
    for (int i = 0; i < 2; i++) {
        run_result r = hone(firsts[i], NULL);
        g_assert_cmpint(r.code, ==, 1);
#if HONE_HAVE_GUI
        test_assert_contains(r.err, "hone gui: cannot open a display");
#else
        test_assert_contains(r.err, "built without the desktop app");
#endif
        g_assert_cmpstr(r.out, ==, "");
        run_result_clear(&r);
    }
    run_result r = hone("gui", "--help", NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "Usage: hone gui");
    run_result_clear(&r);
    r = hone("gui", "stray", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "unexpected argument 'stray'");
    run_result_clear(&r);
}

/* `hone export` is built: a missing config is an error naming it, --help lists its keys (the
 * export itself is tested in test_export.c). */
static void test_export_command(void)
{
    run_result r = hone("export", "config.yaml", NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "hone export: error");
    test_assert_contains(r.err, "config.yaml");
    g_assert_cmpstr(r.out, ==, "");
    run_result_clear(&r);
    r = hone("export", "--help", NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "export_dir");
    test_assert_contains(r.out, "export_gguf");
    run_result_clear(&r);
}

/* `hone chat` is built: a missing config is an error naming it, --help lists its keys (the
 * chat itself is tested in test_generate.c). */
static void test_chat_command(void)
{
    run_result r = hone("chat", "config.yaml", NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "hone chat: error");
    test_assert_contains(r.err, "config.yaml");
    g_assert_cmpstr(r.out, ==, "");
    run_result_clear(&r);
    r = hone("chat", "--help", NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "model_name_or_path");
    test_assert_contains(r.out, "--query");
    run_result_clear(&r);
}

/* `hone eval` is built: a missing config is an error naming it, no arguments a usage error,
 * --help names its keys (the evaluation itself is tested in test_eval.c). */
static void test_eval_command(void)
{
    run_result r = hone("eval", "config.yaml", NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "hone eval: error");
    test_assert_contains(r.err, "config.yaml");
    g_assert_cmpstr(r.out, ==, "");
    run_result_clear(&r);
    r = hone("eval", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "a config file or --key value options are required");
    run_result_clear(&r);
    r = hone("eval", "--help", NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "do_predict");
    test_assert_contains(r.out, "predict_with_generate");
    run_result_clear(&r);
}

static void test_env(void)
{
    run_result r = hone("env", NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "hone " HONE_VERSION);
    test_assert_contains(r.out, "CPU backend: usable");
    test_assert_contains(r.out, "OpenBLAS");
    test_assert_contains(r.out, "GLib 2.");
#if HONE_HAVE_CUDA
    test_assert_contains(r.out, "backends:     cpu, cuda");
    /* Either a GPU ran the self-test kernel, or the reason there is none is given. */
    if (strstr(r.out, "CUDA backend: usable") == NULL)
        test_assert_contains(r.out, "CUDA backend: no usable GPU: ");
    test_assert_contains(r.out, "cuBLAS:");
    test_assert_contains(r.out, "cuDNN:");
#else
    test_assert_contains(r.out, "CUDA backend: not available: this build has no CUDA backend");
#endif
#if HONE_HAVE_GUI
    test_assert_contains(r.out, "GTK 4.");
    test_assert_contains(r.out, "libadwaita 1.");
#else
    test_assert_contains(r.out, "desktop app:  not built");
#endif
    run_result_clear(&r);
}

/* The binary starts without NVIDIA's libraries: none of them is a link-time dependency. */
/* The line `hone env` prints after "auto chooses: ". g_free it. */
static char *env_auto_line(void)
{
    run_result r = hone("env", NULL);
    g_assert_cmpint(r.code, ==, 0);
    const char *at = strstr(r.out, "\nauto chooses: backend: ");
    g_assert_nonnull(at);
    at += strlen("\nauto chooses: ");
    char *line = g_strndup(at, strcspn(at, "\n"));
    run_result_clear(&r);
    return line;
}

/* Every command that builds a model says which backend runs (the same line `hone env` gives
 * for auto), refuses `backend: cuda` when hn_cuda_backend cannot run with its reason, exit 1
 * and nothing written, and refuses fp16 and pure_bf16 saying what is not built. */
static void test_backend_choice(void)
{
    char *auto_line = env_auto_line();
    g_test_message("hone env: auto chooses: %s", auto_line);
    char *dir = test_make_tmpdir();
    char *output = g_build_filename(dir, "out", NULL);
    char *model = g_build_filename(dir, "no-model", NULL); /* the backend comes first */
    const char *train[] = {"train", "--do_train", "true", "--model_name_or_path", model,
                           "--dataset", "alpaca_en_demo", "--output_dir", output};
    /* auto: the note, then the missing model */
    run_result r = hone(train[0], train[1], train[2], train[3], train[4], train[5], train[6],
                        train[7], train[8], NULL);
    g_assert_cmpint(r.code, ==, 1);
    char *note = g_strdup_printf("hone train: %s\n", auto_line);
    test_assert_contains(r.out, note); /* hone train's notes go with its progress, on stdout */
    test_assert_contains(r.err, "no-model");
    g_free(note);
    run_result_clear(&r);
    if (g_str_has_prefix(auto_line, "backend: cpu (auto: no CUDA GPU: ")) {
        /* no CUDA here: backend cuda is refused with the same reason, in every command */
        const char *reason = auto_line + strlen("backend: cpu (auto: no CUDA GPU: ");
        char *want = g_strdup_printf("backend: cuda was asked for, but %.*s",
                                     (int)strlen(reason) - 1, reason);
        r = hone(train[0], train[1], train[2], train[3], train[4], train[5], train[6], train[7],
                 train[8], "--backend", "cuda", NULL);
        g_assert_cmpint(r.code, ==, 1);
        test_assert_contains(r.err, "hone train: error: ");
        test_assert_contains(r.err, want);
        g_assert_false(g_file_test(output, G_FILE_TEST_EXISTS));
        run_result_clear(&r);
        r = hone("eval", "--do_eval", "true", "--model_name_or_path", model, "--dataset",
                 "alpaca_en_demo", "--output_dir", output, "--backend", "cuda", NULL);
        g_assert_cmpint(r.code, ==, 1);
        test_assert_contains(r.err, want);
        g_assert_false(g_file_test(output, G_FILE_TEST_EXISTS));
        run_result_clear(&r);
        r = hone("score", "--model", model, "--backend", "cuda", NULL);
        g_assert_cmpint(r.code, ==, 1);
        test_assert_contains(r.err, want);
        run_result_clear(&r);
        r = hone("chat", "--model_name_or_path", model, "--backend", "cuda", "--query", "hi",
                 NULL);
        g_assert_cmpint(r.code, ==, 1);
        test_assert_contains(r.err, want);
        run_result_clear(&r);
        g_free(want);
    }
    const char *refused[][2] = {{"--fp16", "fp16 is not built: fp16 mixed precision needs "
                                           "dynamic loss scaling"},
                                {"--pure_bf16", "pure_bf16 is not built: it keeps the weights "
                                                "and optimizer state in bf16"}};
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        r = hone(train[0], train[1], train[2], train[3], train[4], train[5], train[6], train[7],
                 train[8], refused[i][0], "true", "--backend", "cpu", NULL);
        g_assert_cmpint(r.code, ==, 1);
        test_assert_contains(r.err, refused[i][1]);
        g_assert_false(g_file_test(output, G_FILE_TEST_EXISTS));
        run_result_clear(&r);
    }
    r = hone("chat", "--model_name_or_path", model, "--backend", "tpu", NULL);
    g_assert_cmpint(r.code, !=, 0);
    test_assert_contains(r.err, "backend must be auto, cpu or cuda, found \"tpu\"");
    run_result_clear(&r);
    test_remove_tree(dir);
    g_free(model);
    g_free(output);
    g_free(dir);
    g_free(auto_line);
}

static void test_no_cuda_link_dependencies(void)
{
    char *argv[] = {"ldd", (char *)g_getenv("HONE_BIN"), NULL};
    char *out = NULL, *err = NULL;
    g_assert_cmpint(test_run(argv, &out, &err), ==, 0);
    for (const char *lib = "libcublas\0libcudnn\0libcuda.so\0libcudart\0libnvidia\0"; *lib; lib += strlen(lib) + 1)
        if (strstr(out, lib) != NULL)
            g_error("hone links %s dynamically:\n%s", lib, out);
    g_free(out);
    g_free(err);
}

static void test_env_model(void)
{
    char *dir = test_make_tmpdir();
    test_make_tiny_llama(dir, 4096);
    run_result r = hone("env", "--model", dir, NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "architecture: LlamaForCausalLM (model_type llama)");
    test_assert_contains(r.out, "parameters:   7,504 in the weights; the config implies 7,504\n");
    test_assert_contains(r.out, "2 layers, hidden 16, intermediate 40, 4 heads (2 KV heads, head_dim 4), vocab 64");
    test_assert_contains(r.out, "tensor dtypes: BF16 x 21 tensors");
    test_assert_contains(r.out, "listed in model.safetensors.index.json");
    test_assert_contains(r.out, "model-00001-of-0000");
    test_assert_contains(r.out, "tokenizer:    tokenizer_config.json");
    test_assert_contains(r.out, "temperature 0.7");
    run_result_clear(&r);

    /* A damaged shard: exit 1 and a message naming it. */
    char *shard = NULL;
    GDir *listing = g_dir_open(dir, 0, NULL);
    for (const char *name; (name = g_dir_read_name(listing)) != NULL;)
        if (g_str_has_prefix(name, "model-00002-of-"))
            shard = g_build_filename(dir, name, NULL);
    g_dir_close(listing);
    g_assert_nonnull(shard);
    GBytes *bytes = test_read_file(shard);
    test_write_file(shard, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes) - 10);
    r = hone("env", "--model", dir, NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "hone env: error: ");
    test_assert_contains(r.err, shard);
    test_assert_contains(r.err, "the file may be truncated");
    run_result_clear(&r);
    g_bytes_unref(bytes);
    g_free(shard);

    char *missing = g_build_filename(dir, "nothing-here", NULL);
    r = hone("env", "--model", missing, NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, missing);
    test_assert_contains(r.err, "no such file or folder");
    run_result_clear(&r);
    g_free(missing);
    test_remove_tree(dir);
    g_free(dir);
}

/* Runs hone with `input` on standard input. */
static run_result hone_with_input(const char *input, const char *first, ...)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "stdin", NULL);
    test_write_text(path, input);
    GString *command = g_string_new(NULL);
    char *quoted = g_shell_quote(g_getenv("HONE_BIN"));
    g_string_append(command, quoted);
    g_free(quoted);
    va_list ap;
    va_start(ap, first);
    for (const char *arg = first; arg != NULL; arg = va_arg(ap, const char *)) {
        quoted = g_shell_quote(arg);
        g_string_append_printf(command, " %s", quoted);
        g_free(quoted);
    }
    va_end(ap);
    quoted = g_shell_quote(path);
    g_string_append_printf(command, " < %s", quoted);
    g_free(quoted);
    char *argv[] = {"sh", "-c", command->str, NULL};
    run_result r = {0};
    r.code = test_run(argv, &r.out, &r.err);
    g_string_free(command, TRUE);
    test_remove_tree(dir);
    g_free(path);
    g_free(dir);
    return r;
}

/* A tiny BPE tokenizer: "a" "b" merge to "ab", "ab" "ab" to "abab"; <s> is added by the
 * post-processor. */
static const char *tiny_tokenizer =
    "{\"added_tokens\": [{\"id\": 5, \"content\": \"<s>\", \"special\": true, "
    "\"normalized\": false}],"
    " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": "
    "{\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], "
    "\"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [5], \"tokens\": [\"<s>\"]}}},"
    " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2, \" \": 3, "
    "\"abab\": 4}, \"merges\": [[\"a\", \"b\"], [\"ab\", \"ab\"]]}}";

static void test_tokenize(void)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "tokenizer.json", NULL);
    test_write_text(path, tiny_tokenizer);
    run_result r = hone_with_input("ababab a", "tokenize", "--model", dir, NULL);
    g_assert_cmpint(r.code, ==, 0);
    g_assert_cmpstr(r.out, ==, "[5, 4, 2, 3, 0]\n");
    run_result_clear(&r);
    r = hone_with_input("ab", "tokenize", "--model", path, "--no-special", NULL);
    g_assert_cmpstr(r.out, ==, "[2]\n");
    run_result_clear(&r);
    r = hone_with_input("[5, 4, 3, 1]", "tokenize", "--model", dir, "--decode", NULL);
    g_assert_cmpint(r.code, ==, 0);
    g_assert_cmpstr(r.out, ==, "<s> abab   b\n"); /* no decoder: tokens joined by spaces, as upstream */
    run_result_clear(&r);
    r = hone_with_input("[5, 4]", "tokenize", "--model", dir, "--decode", "--skip-special", NULL);
    g_assert_cmpstr(r.out, ==, "abab\n");
    run_result_clear(&r);

    r = hone_with_input("[5, 99]", "tokenize", "--model", dir, "--decode", NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "token id 99 at position 1 is not in the vocabulary");
    run_result_clear(&r);
    r = hone_with_input("[5, ", "tokenize", "--model", dir, "--decode", NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "not valid JSON (expected a JSON array of token ids)");
    run_result_clear(&r);
    r = hone_with_input("ok \xff", "tokenize", "--model", dir, NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "the text is not valid UTF-8 at byte 3");
    run_result_clear(&r);
    r = hone_with_input("", "tokenize", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "--model PATH is required");
    run_result_clear(&r);
    char *missing = g_build_filename(dir, "nope", NULL);
    r = hone_with_input("", "tokenize", "--model", missing, NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, missing);
    run_result_clear(&r);
    g_free(missing);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

/* On the real SmolLM2 GGUF: the command prints what the engine's tokenizer gives. */
static void test_tokenize_gguf(void)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    const char *text = "Who are you? 我是 Hone <|im_start|>assistant\n";
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_tokenizer_load_model(model, &tok, &err), ==, HN_OK);
    int32_t *ids = NULL;
    size_t n = 0;
    g_assert_cmpint(hn_tokenizer_encode(tok, text, strlen(text), true, &ids, &n, &err), ==, HN_OK);
    GString *want = g_string_new("[");
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(want, i > 0 ? ", %d" : "%d", ids[i]);
    g_string_append(want, "]\n");
    run_result r = hone_with_input(text, "tokenize", "--model", model, NULL);
    g_assert_cmpint(r.code, ==, 0);
    g_assert_cmpstr(r.out, ==, want->str);
    test_assert_contains(r.out, ", 1, "); /* <|im_start|> stays one special token */
    run_result_clear(&r);
    want->str[want->len - 1] = '\0';
    r = hone_with_input(want->str, "tokenize", "--model", model, "--decode", NULL);
    g_assert_cmpint(r.code, ==, 0);
    char *decoded = g_strconcat(text, "\n", NULL);
    g_assert_cmpstr(r.out, ==, decoded);
    run_result_clear(&r);
    g_free(decoded);
    g_string_free(want, TRUE);
    g_free(ids);
    hn_tokenizer_free(tok);
    g_free(model);
}

static void append_json_ids(GString *out, const int32_t *ids, size_t n)
{
    g_string_append_c(out, '[');
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(out, i > 0 ? ", %d" : "%d", ids[i]);
    g_string_append_c(out, ']');
}

/* `hone tokenize --template --messages` on the real SmolLM2 GGUF prints what hn_chat_encode
 * gives (itself checked against LLaMA-Factory in test_chat_template), and bad conversations
 * get one error naming the file and the message. */
static void test_tokenize_template(void)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "conversation.json", NULL);
    test_write_text(path, "[{\"role\": \"system\", \"content\": \"You are Hone.\"},"
                          " {\"role\": \"user\", \"content\": \"Who are you?\"},"
                          " {\"role\": \"assistant\", \"content\": \"I am Hone.\"},"
                          " {\"role\": \"user\", \"content\": \"你好\"},"
                          " {\"role\": \"assistant\", \"content\": \"你好！\"}]");
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_tokenizer_load_model(model, &tok, &err), ==, HN_OK);
    const hn_chat_message messages[] = {
        {HN_ROLE_SYSTEM, "You are Hone."}, {HN_ROLE_USER, "Who are you?"},
        {HN_ROLE_ASSISTANT, "I am Hone."}, {HN_ROLE_USER, "你好"}, {HN_ROLE_ASSISTANT, "你好！"}};
    for (int mask_history = 0; mask_history < 2; mask_history++) {
        hn_chat_template tmpl;
        g_assert_cmpint(hn_chat_template_get("chatml", &tmpl, &err), ==, HN_OK);
        hn_chat_encode_options options;
        hn_chat_encode_options_init(&options);
        options.mask_history = mask_history;
        hn_chat_encoded want = {0};
        g_assert_cmpint(hn_chat_encode(&tmpl, tok, messages, 5, &options, &want, &err), ==, HN_OK);
        GString *line = g_string_new("{\"input_ids\": ");
        append_json_ids(line, want.input_ids, want.n);
        g_string_append(line, ", \"labels\": ");
        append_json_ids(line, want.labels, want.n);
        g_string_append(line, "}\n");
        run_result r = mask_history ? hone("tokenize", "-m", model, "-t", "chatml", "--messages",
                                           path, "--mask-history", NULL)
                                    : hone("tokenize", "-m", model, "-t", "chatml", "--messages",
                                           path, NULL);
        g_assert_cmpint(r.code, ==, 0);
        g_assert_cmpstr(r.out, ==, line->str);
        test_assert_contains(r.out, "-100");
        run_result_clear(&r);
        g_string_free(line, TRUE);
        hn_chat_encoded_clear(&want);
    }
    hn_tokenizer_free(tok);

    run_result r = hone("tokenize", "-m", model, "-t", "chatm", "--messages", path, NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "template \"chatm\": expected one of the known templates "
                                "(default, empty, alpaca, vicuna, chatml,");
    run_result_clear(&r);
    r = hone("tokenize", "-m", model, "-t", "chatml", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "--template NAME and --messages FILE go together");
    run_result_clear(&r);
    r = hone("tokenize", "-m", model, "--mask-history", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "need --template and --messages");
    run_result_clear(&r);

    static const struct {
        const char *json, *expect;
    } bad[] = {
        {"[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", \"content\": \"b\"}]",
         "conversation.json: message 1: expected assistant (turns alternate user, assistant), "
         "found user"},
        {"[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\"}]",
         "conversation.json: message 1: content: expected a string, found nothing"},
        {"{\"role\": \"user\"}", "conversation.json: expected a list of messages, found an object"},
        {"[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"function\", \"content\": \"{}\"}]",
         "message 1: expected user, assistant or observation, found function (tool calls are not "
         "supported yet)"},
        {"[{\"role\": \"user\", \"content\": ", "conversation.json"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        test_write_text(path, bad[i].json);
        r = hone("tokenize", "-m", model, "-t", "chatml", "--messages", path, NULL);
        g_assert_cmpint(r.code, ==, 1);
        test_assert_contains(r.err, "hone tokenize: error: ");
        test_assert_contains(r.err, bad[i].expect);
        g_assert_cmpstr(r.out, ==, "");
        run_result_clear(&r);
    }
    char *missing = g_build_filename(dir, "missing.json", NULL);
    r = hone("tokenize", "-m", model, "-t", "chatml", "--messages", missing, NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, missing);
    run_result_clear(&r);
    g_free(missing);
    test_remove_tree(dir);
    g_free(path);
    g_free(dir);
    g_free(model);
}

/* `hone tokenize --template auto` on the real SmolLM2 GGUF: the model's own chat_template
 * (checked against transformers in test_chat_jinja), --render, and its errors. */
static void test_tokenize_template_auto(void)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "conversation.json", NULL);
    const char *conversation = "[{\"role\": \"user\", \"content\": \"Who are you?\"},"
                               " {\"role\": \"assistant\", \"content\": \"I am Hone.\"}]";
    test_write_text(path, conversation);
    hn_tokenizer *tok = NULL;
    hn_chat_jinja *chat = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_tokenizer_load_model(model, &tok, &err), ==, HN_OK);
    g_assert_cmpint(hn_chat_jinja_new(tok, &chat, &err), ==, HN_OK);
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    options.system = "You are Hone.";
    cJSON *messages = cJSON_Parse(conversation);
    hn_chat_encoded want = {0};
    g_assert_cmpint(hn_chat_jinja_encode(chat, messages, &options, NULL, &want, &err), ==, HN_OK);
    GString *line = g_string_new("{\"input_ids\": ");
    append_json_ids(line, want.input_ids, want.n);
    g_string_append(line, ", \"labels\": ");
    append_json_ids(line, want.labels, want.n);
    g_string_append(line, "}\n");
    run_result r = hone("tokenize", "-m", model, "-t", "auto", "--messages", path, "--system",
                        "You are Hone.", NULL);
    g_assert_cmpint(r.code, ==, 0);
    g_assert_cmpstr(r.out, ==, line->str);
    run_result_clear(&r);
    r = hone("tokenize", "-m", model, "-t", "auto", "--messages", path, "--render", NULL);
    g_assert_cmpint(r.code, ==, 0);
    g_assert_cmpstr(r.out, ==, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
                               "trained by Hugging Face<|im_end|>\n<|im_start|>user\nWho are you?"
                               "<|im_end|>\n<|im_start|>assistant\nI am Hone.<|im_end|>\n");
    run_result_clear(&r);
    r = hone("tokenize", "-m", model, "-t", "chatml", "--messages", path, "--render", NULL);
    g_assert_cmpint(r.code, ==, 2);
    test_assert_contains(r.err, "--render needs --template auto");
    run_result_clear(&r);
    test_write_text(path, "[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\"}]");
    r = hone("tokenize", "-m", model, "-t", "auto", "--messages", path, NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "conversation.json: message 1: an assistant message needs its "
                                "\"content\" as a string");
    run_result_clear(&r);
    g_string_free(line, TRUE);
    hn_chat_encoded_clear(&want);
    cJSON_Delete(messages);
    hn_chat_jinja_free(chat);
    hn_tokenizer_free(tok);
    test_remove_tree(dir);
    g_free(path);
    g_free(dir);
    g_free(model);
}

/* `hone env --model FILE.gguf`: the file as it is, and whether it loads as a model. */
static void test_env_gguf(void)
{
    char *smollm2 = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    run_result r = hone("env", "--model", smollm2, NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "file:         GGUF version 3, ");
    test_assert_contains(r.out, "272 tensors, 33 metadata keys, alignment 32");
    test_assert_contains(r.out, "architecture: llama (general.name \"");
    test_assert_contains(r.out, "parameters:   134,515,008 in the tensors");
    test_assert_contains(r.out, "tensor types: F32 x 61 tensors");
    test_assert_contains(r.out, "Q4_1 x 210 tensors");
    test_assert_contains(r.out, "Q8_0 x 1 tensors");
    test_assert_contains(r.out, "file type:    MOSTLY_Q4_1 (general.file_type 3)");
    test_assert_contains(r.out, "metadata:     context_length 8192, embedding_length 576, block_count 30");
    test_assert_contains(r.out, "tokenizer:    gpt2 (pre-tokenizer smollm), 49,152 tokens, 48,900 merges");
    test_assert_contains(r.out, "as a model:   LlamaForCausalLM, 30 layers, hidden 576, intermediate 1536, "
                                "9 heads (3 KV heads, head_dim 64), vocab 49152, tied embeddings yes; "
                                "the config implies 134,515,008 parameters\n");
    run_result_clear(&r);

    /* Another architecture: described, with the reason it does not load; still exit 0. */
    char *gemma = test_model_file("gemma-3-270m-q4_k_m.gguf");
    r = hone("env", "--model", gemma, NULL);
    g_assert_cmpint(r.code, ==, 0);
    test_assert_contains(r.out, "architecture: gemma3");
    test_assert_contains(r.out, "Q4_K x 27 tensors");
    test_assert_contains(r.out, "Q6_K x 9 tensors");
    test_assert_contains(r.out, "file type:    MOSTLY_Q4_K_M");
    test_assert_contains(r.out, "as a model:   Hone cannot load it: ");
    test_assert_contains(r.out, "expected one of \"llama\" (Llama, Mistral, SmolLM2), ");
    run_result_clear(&r);

    /* A damaged GGUF file: exit 1 and a message naming it and the place. */
    char *dir = test_make_tmpdir();
    char *cut = g_build_filename(dir, "cut.gguf", NULL);
    GBytes *bytes = test_read_file(smollm2);
    test_write_file(cut, g_bytes_get_data(bytes, NULL), 1000);
    g_bytes_unref(bytes);
    r = hone("env", "--model", cut, NULL);
    g_assert_cmpint(r.code, ==, 1);
    test_assert_contains(r.err, "hone env: error: ");
    test_assert_contains(r.err, cut);
    test_assert_contains(r.err, "truncated");
    run_result_clear(&r);
    g_free(cut);
    test_remove_tree(dir);
    g_free(dir);
    g_free(gemma);
    g_free(smollm2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/app/cli/help-and-version", test_help_and_version);
    g_test_add_func("/app/cli/usage-errors", test_usage_errors);
    g_test_add_func("/app/cli/eval-command", test_eval_command);
    g_test_add_func("/app/cli/gui-without-display", test_gui_without_display);
    g_test_add_func("/app/cli/chat", test_chat_command);
    g_test_add_func("/app/cli/export", test_export_command);
    g_test_add_func("/app/cli/env", test_env);
    g_test_add_func("/app/cli/backend-choice", test_backend_choice);
    g_test_add_func("/app/cli/no-cuda-link-dependencies", test_no_cuda_link_dependencies);
    g_test_add_func("/app/cli/env-model", test_env_model);
    g_test_add_func("/app/cli/tokenize", test_tokenize);
    g_test_add_func("/app/cli/tokenize-gguf", test_tokenize_gguf);
    g_test_add_func("/app/cli/tokenize-template", test_tokenize_template);
    g_test_add_func("/app/cli/tokenize-template-auto", test_tokenize_template_auto);
    g_test_add_func("/app/cli/env-gguf", test_env_gguf);
    return g_test_run();
}
