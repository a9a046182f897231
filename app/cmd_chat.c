/* `hone chat CONFIG.yaml` or `hone chat --model_name_or_path PATH [--key value ...]`: chat with
 * a model (and a LoRA adapter) in the terminal, as LLaMA-Factory's `llamafactory-cli chat`:
 * the answer streams as it is generated, thoughts of reasoning models apart from it; the
 * conversation is kept (the next turn only runs its new tokens through the model), and
 * /clear, /system TEXT and /exit manage it. --query TEXT answers once on standard output and
 * exits (for scripts). Ctrl-C stops an answer; at the prompt it ends the chat. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend_choice.h"
#include "chat_args.h"
#include "chat_prompt.h"
#include "chat_thought.h"
#include "cli.h"
#include "commands.h"
#include "omp_wait.h"
#include "config_file.h"
#include "gguf_tokenizer.h"
#include "model_open.h"

static atomic_bool cancel_answer;
static volatile sig_atomic_t answering;

static void on_interrupt(int sig)
{
    (void)sig;
    if (answering) {
        atomic_store(&cancel_answer, true);
        return;
    }
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
}

/* Everything a chat session holds. */
typedef struct {
    hn_chat_args args;
    hn_model_dir *dir;
    hn_tokenizer *tok;
    hn_model *model;
    hn_kv_decoder *decoder;
    hn_chat_prompt *prompt;
    GPtrArray *history;   /* char*: user, assistant, user, ... (owned) */
    char *system;         /* /system's, or NULL for default_system */
    bool terminal;        /* stdout is a terminal: colours for thoughts */
    bool verbose;
    bool in_thought;      /* the last piece printed was a thought */
} chat_session;

static void print_usage(void)
{
    printf("Usage: hone chat [CONFIG.yaml|CONFIG.json] [--key value ...] [--query TEXT]\n\n"
           "Chats with a model in the terminal, as LLaMA-Factory's `llamafactory-cli chat`.\n"
           "Keys (LLaMA-Factory's names; in the file or as --key value):\n"
           "  model_name_or_path    a model folder or GGUF file (required)\n"
           "  adapter_name_or_path  a LoRA adapter folder (PEFT), applied without merging\n"
           "  template              a LLaMA-Factory template name (default: the model's own\n"
           "                        chat template, \"auto\")\n"
           "  default_system        the system prompt (default: the template's)\n"
           "  enable_thinking       reasoning templates: let the model think (true)\n"
           "  backend               auto (CUDA when a GPU is usable, else the CPU), cpu or\n"
           "                        cuda; fp32 GEMMs on the GPU\n"
           "  do_sample (true), temperature (0.95; 0: greedy), top_p (0.7), top_k (50),\n"
           "  repetition_penalty (1.0), max_new_tokens (1024), seed (42)\n"
           "Options:\n"
           "  --query TEXT          answer TEXT once: the answer alone on standard output\n"
           "  --verbose             prompt and decode speed on standard error\n"
           "In the chat: /clear forgets the conversation, /system TEXT sets the system prompt\n"
           "(empty: the default), /exit (or end of input) quits. Ctrl-C stops an answer.\n");
}

static hn_status set_chat_arg(void *user, const char *key, const char *value,
                              const char *where, hn_error *err)
{
    return hn_chat_args_set(user, key, value, where, err);
}

/* The config file, then --key value pairs; --query and --verbose are taken out. */
static int parse_arguments(chat_session *c, int argc, char **argv, char **query)
{
    int first = 1;
    hn_error err = {0};
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        char **ignored = NULL;
        if (hn_config_load(argv[1], set_chat_arg, &c->args, &ignored, &err) != HN_OK)
            return hone_fail("chat", "%s", err.message);
        if (ignored != NULL && ignored[0] != NULL) {
            char *list = g_strjoinv(", ", ignored);
            fprintf(stderr, "hone chat: ignoring keys chat does not use: %s\n", list);
            g_free(list);
        }
        g_strfreev(ignored);
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--verbose") == 0) {
            c->verbose = true;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0)
            return hone_usage_error("chat", "unexpected argument \"%s\" (expected --key value)",
                                    argv[i]);
        char *key = g_strdup(argv[i] + 2), *value = strchr(key, '=');
        if (value != NULL) {
            *value++ = '\0';
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            int code = hone_usage_error("chat", "%s needs a value", argv[i]);
            g_free(key);
            return code;
        }
        int code = HONE_EXIT_OK;
        if (strcmp(key, "query") == 0) {
            g_free(*query);
            *query = g_strdup(value);
        } else {
            char *where = g_strdup_printf("--%s", key);
            hn_status s = hn_chat_args_set(&c->args, key, value, where, &err);
            if (s == HN_ERR_UNSUPPORTED)
                code = hone_usage_error("chat", "--%s: not a key chat reads", key);
            else if (s != HN_OK)
                code = hone_usage_error("chat", "%s", err.message);
            g_free(where);
        }
        g_free(key);
        if (code != HONE_EXIT_OK)
            return code;
    }
    if (hn_chat_args_check(&c->args, &err) != HN_OK)
        return hone_usage_error("chat", "%s", err.message);
    return HONE_EXIT_OK;
}

static int open_session(chat_session *c)
{
    hn_error err = {0};
    const hn_chat_args *a = &c->args;
    hn_backend_request request = {.backend = a->backend};
    hn_backend_choice choice;
    if (hn_backend_choose(&request, &choice, &err) != HN_OK)
        return hone_fail("chat", "%s", err.message);
    g_printerr("hone chat: %s\n", choice.line);
    if (hn_model_dir_open(a->model_name_or_path, &c->dir, &err) != HN_OK ||
        hn_tokenizer_load_model(a->model_name_or_path, &c->tok, &err) != HN_OK ||
        hn_chat_prompt_new(c->tok, a->template_name, &c->dir->generation, &c->prompt, &err) !=
            HN_OK ||
        hn_model_open_inference(c->dir, a->adapter_name_or_path, choice.backend, &c->model,
                                &err) != HN_OK ||
        hn_kv_decoder_new(c->model, &c->decoder, &err) != HN_OK)
        return hone_fail("chat", "%s", err.message);
    if (!hn_model_set_decode_activations(c->model, a->decode_activations))
        g_printerr("hone chat: warning: %s\n", HN_DECODE_INT8_NO_EFFECT);
    c->history = g_ptr_array_new_with_free_func(g_free);
    return HONE_EXIT_OK;
}

static void close_session(chat_session *c)
{
    hn_kv_decoder_free(c->decoder);
    hn_model_free(c->model);
    hn_chat_prompt_free(c->prompt);
    hn_tokenizer_free(c->tok);
    hn_model_dir_close(c->dir);
    if (c->history != NULL)
        g_ptr_array_free(c->history, TRUE);
    g_free(c->system);
    hn_chat_args_clear(&c->args);
}

/* Query mode: the answer on stdout, a thought on stderr. */
static void print_query_piece(const char *text, bool thought, void *user)
{
    (void)user;
    fputs(text, thought ? stderr : stdout);
    fflush(thought ? stderr : stdout);
}

/* Interactive: a thought dimmed (on a terminal) or in brackets, then the answer. */
static void print_chat_piece(const char *text, bool thought, void *user)
{
    chat_session *c = user;
    if (thought && !c->in_thought)
        fputs(c->terminal ? "\033[2m" : "[thinking] ", stdout);
    if (!thought && c->in_thought)
        fputs(c->terminal ? "\033[0m\n" : "\n[answer] ", stdout);
    c->in_thought = thought;
    fputs(text, stdout);
    fflush(stdout);
}

static void feed_splitter(const char *piece, void *user)
{
    hn_thought_splitter_feed(user, piece);
}

/* Answers the conversation in history (ending with a user message); the answer joins it. */
static int answer(chat_session *c, bool query)
{
    hn_error err = {0};
    size_t n = c->history->len;
    hn_chat_message *messages = g_new(hn_chat_message, n);
    for (size_t i = 0; i < n; i++)
        messages[i] = (hn_chat_message){i % 2 == 0 ? HN_ROLE_USER : HN_ROLE_ASSISTANT,
                                        g_ptr_array_index(c->history, i)};
    const char *system = c->system != NULL ? c->system : c->args.default_system;
    int32_t *ids = NULL;
    int n_ids = 0;
    hn_status s = hn_chat_prompt_encode(c->prompt, messages, n, system, c->args.enable_thinking,
                                        &ids, &n_ids, &err);
    g_free(messages);
    if (s != HN_OK) { /* the message cannot be asked: it leaves the conversation */
        g_ptr_array_remove_index(c->history, c->history->len - 1);
        return hone_fail("chat", "%s", err.message);
    }
    hn_generate_options options = c->args.generate;
    options.stop_ids = hn_chat_prompt_stop_ids(c->prompt, &options.n_stop);
    hn_thought_splitter splitter;
    hn_thought_splitter_init(&splitter, hn_chat_prompt_thought_open(c->prompt),
                             hn_chat_prompt_thought_close(c->prompt),
                             query ? print_query_piece : print_chat_piece, c);
    hn_generate_result result;
    atomic_store(&cancel_answer, false);
    answering = 1;
    s = hn_generate(c->decoder, c->tok, ids, n_ids, &options, feed_splitter, &splitter,
                    &cancel_answer, &result, &err);
    answering = 0;
    hn_thought_splitter_finish(&splitter);
    hn_thought_splitter_clear(&splitter);
    if (c->in_thought && c->terminal)
        fputs("\033[0m", stdout);
    c->in_thought = false;
    fputc('\n', stdout);
    fflush(stdout);
    if (c->verbose) {
        int generated = result.n_ids;
        fprintf(stderr, "hone chat: prompt %d tokens (%d run) in %.2f s; %d new tokens in "
                "%.2f s (%.1f tokens/s)%s\n", result.prompt_tokens, result.prompt_computed,
                result.prefill_seconds, generated, result.decode_seconds,
                result.decode_seconds > 0 ? generated / result.decode_seconds : 0.0,
                result.finish == HN_FINISH_LENGTH ? "; stopped at max_new_tokens"
                : result.finish == HN_FINISH_CANCELLED ? "; stopped" : "");
    }
    g_ptr_array_add(c->history, g_strdup(result.text));
    hn_generate_result_clear(&result);
    g_free(ids);
    if (s != HN_OK)
        return hone_fail("chat", "%s", err.message);
    return HONE_EXIT_OK;
}

static int interactive(chat_session *c)
{
    c->terminal = isatty(STDOUT_FILENO);
    printf("hone chat: %s%s%s. /clear forgets the conversation, /system TEXT sets the system "
           "prompt, /exit quits.\n", c->args.model_name_or_path,
           c->args.adapter_name_or_path != NULL ? " + " : "",
           c->args.adapter_name_or_path != NULL ? c->args.adapter_name_or_path : "");
    char *line = NULL;
    size_t size = 0;
    for (;;) {
        printf("\nUser: ");
        fflush(stdout);
        ssize_t length = getline(&line, &size, stdin);
        if (length < 0)
            break;
        g_strstrip(line);
        if (strcmp(line, "/exit") == 0)
            break;
        if (strcmp(line, "/clear") == 0) {
            g_ptr_array_set_size(c->history, 0);
            printf("History has been removed.\n");
            continue;
        }
        if (strcmp(line, "/system") == 0 || g_str_has_prefix(line, "/system ")) {
            g_free(c->system);
            char *text = g_strstrip(g_strdup(line + strlen("/system")));
            c->system = text[0] != '\0' ? text : (g_free(text), NULL);
            g_ptr_array_set_size(c->history, 0);
            printf("System prompt is set; history has been removed.\n");
            continue;
        }
        if (line[0] == '\0')
            continue;
        g_ptr_array_add(c->history, g_strdup(line));
        printf("Assistant: ");
        fflush(stdout);
        answer(c, false); /* an error was printed; the chat goes on */
    }
    free(line);
    printf("\n");
    return HONE_EXIT_OK;
}

int hone_cmd_chat(int argc, char **argv)
{
    hone_prefer_short_spinning(argc, argv);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage();
            return HONE_EXIT_OK;
        }
    chat_session c = {0};
    hn_chat_args_init(&c.args);
    char *query = NULL;
    int code = parse_arguments(&c, argc, argv, &query);
    if (code == HONE_EXIT_OK)
        code = open_session(&c);
    if (code == HONE_EXIT_OK) {
        signal(SIGINT, on_interrupt);
        if (query != NULL) {
            g_ptr_array_add(c.history, g_strdup(query));
            code = answer(&c, true);
        } else {
            code = interactive(&c);
        }
    }
    g_free(query);
    close_session(&c);
    return code;
}
