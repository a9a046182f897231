/* Generation (engine/generate.h, sampling.h, chat_prompt.h, chat_thought.h) and `hone chat`
 * against transformers, PEFT and LLaMA-Factory (tests/reference/generate_ref.py):
 * - the logits processors on random logits equal transformers' RepetitionPenaltyLogits-
 *   Processor, TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper applied in
 *   generate's order: every value within 1e-6 x max(1, |value|), -inf at the same places;
 * - SmolLM2-135M-Instruct (the real GGUF, as transformers dequantizes it): the chatml prompt
 *   ids equal LLaMA-Factory's encode_oneturn, the `auto` prompt ids equal apply_chat_template
 *   with the generation prompt, and greedy generation equals transformers' generate token for
 *   token, with the base model and with a random PEFT LoRA adapter;
 * - sampling: a seed gives the same tokens twice (another seed other tokens); top_k 1 gives
 *   the greedy tokens; a cancel flag stops generation at the next token;
 * - `hone chat --query` prints the greedy answer (base and adapter; keys on the command line
 *   or in a YAML config) and exits 0; a missing model, bad values (temperature, top_p), an
 *   unknown key or template and a missing adapter are clear errors;
 * - the thought / answer separation with the text cut at every byte. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "chat_prompt.h"
#include "chat_thought.h"
#include "generate.h"
#include "gguf_tokenizer.h"
#include "model_open.h"
#include "test_util.h"

static char *reference_dir;
static char *model_path;
static hn_model_dir *model_dir;
static hn_tokenizer *tokenizer;
static hn_model *base_model;

static int32_t *json_ids(const cJSON *array, int *n)
{
    *n = cJSON_GetArraySize(array);
    int32_t *ids = g_new(int32_t, MAX(*n, 1));
    for (int i = 0; i < *n; i++)
        ids[i] = (int32_t)cJSON_GetArrayItem(array, i)->valuedouble;
    return ids;
}

static void assert_ids(const char *what, const int32_t *got, int n_got, const cJSON *want_json)
{
    int n = 0;
    int32_t *want = json_ids(want_json, &n);
    for (int i = 0; i < MIN(n, n_got); i++)
        if (got[i] != want[i])
            g_error("%s: token %d is %d, the reference has %d", what, i, got[i], want[i]);
    if (n_got != n)
        g_error("%s: %d tokens, the reference has %d", what, n_got, n);
    g_free(want);
}

/* ---- logits processors ---- */

static void test_processors(void)
{
    char *path = g_build_filename(reference_dir, "processors", "expected.json", NULL);
    cJSON *expected = test_load_json(path);
    const cJSON *logits = cJSON_GetObjectItem(expected, "logits");
    const cJSON *inputs = cJSON_GetObjectItem(expected, "input_ids");
    int rows = cJSON_GetArraySize(logits);
    int V = cJSON_GetArraySize(cJSON_GetArrayItem(logits, 0));
    float *row = g_new(float, V);
    double worst = 0;
    int filtered = 0, cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(expected, "cases"))
    {
        double temperature = cJSON_GetObjectItem(c, "temperature")->valuedouble;
        double top_p = cJSON_GetObjectItem(c, "top_p")->valuedouble;
        double penalty = cJSON_GetObjectItem(c, "repetition_penalty")->valuedouble;
        int top_k = cJSON_GetObjectItem(c, "top_k")->valueint;
        for (int r = 0; r < rows; r++) {
            const cJSON *source = cJSON_GetArrayItem(logits, r);
            for (int i = 0; i < V; i++)
                row[i] = (float)cJSON_GetArrayItem(source, i)->valuedouble;
            int n_seen = 0;
            int32_t *seen = json_ids(cJSON_GetArrayItem(inputs, r), &n_seen);
            if (penalty != 1.0)
                hn_logits_repetition_penalty(row, V, seen, (size_t)n_seen, penalty);
            if (temperature != 1.0)
                hn_logits_temperature(row, V, temperature);
            if (top_k != 0)
                hn_logits_top_k(row, V, top_k);
            if (top_p < 1.0)
                hn_logits_top_p(row, V, top_p);
            const cJSON *want = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "scores"), r);
            for (int i = 0; i < V; i++) {
                const cJSON *w = cJSON_GetArrayItem(want, i);
                if (cJSON_IsNull(w)) {
                    if (!isinf(row[i]) || row[i] > 0)
                        g_error("case %d row %d token %d: transformers filters it, Hone keeps "
                                "%g", cases, r, i, row[i]);
                    filtered++;
                    continue;
                }
                double error = fabs(row[i] - w->valuedouble) / fmax(1.0, fabs(w->valuedouble));
                if (!(error <= 1e-6))
                    g_error("case %d row %d token %d: Hone %.9g, transformers %.9g", cases, r, i,
                            row[i], w->valuedouble);
                worst = fmax(worst, error);
            }
            g_free(seen);
        }
        cases++;
    }
    g_test_message("%d processor cases x %d rows: worst error %.2g, %d values filtered as by "
                   "transformers", cases, rows, worst, filtered);
    g_assert_cmpint(filtered, >, 0);
    g_free(row);
    cJSON_Delete(expected);
    g_free(path);
}

/* ---- SmolLM2 generation ---- */

typedef struct {
    GString *text;
    int pieces;
    atomic_bool *cancel_after_first;
} stream_sink;

static void collect_piece(const char *piece, void *user)
{
    stream_sink *sink = user;
    g_assert_cmpuint(strlen(piece), >, 0);
    g_string_append(sink->text, piece);
    sink->pieces++;
    if (sink->cancel_after_first != NULL)
        atomic_store(sink->cancel_after_first, true);
}

static void generate(hn_model *model, const int32_t *prompt, int n, const hn_chat_prompt *chat,
                     const hn_sampling *sampling, uint64_t seed, int max_new,
                     hn_generate_result *result, GString *streamed)
{
    hn_error err = {0};
    hn_kv_decoder *decoder = NULL;
    g_assert_cmpint(hn_kv_decoder_new(model, &decoder, &err), ==, HN_OK);
    hn_generate_options options;
    hn_generate_options_init(&options);
    options.sampling = *sampling;
    options.seed = seed;
    options.max_new_tokens = max_new;
    options.stop_ids = hn_chat_prompt_stop_ids(chat, &options.n_stop);
    stream_sink sink = {streamed, 0, NULL};
    if (hn_generate(decoder, tokenizer, prompt, n, &options, streamed != NULL ? collect_piece
                                                                               : NULL,
                    &sink, NULL, result, &err) != HN_OK)
        g_error("generate: %s", err.message);
    hn_kv_decoder_free(decoder);
}

static hn_chat_message *case_messages(const cJSON *c, size_t *n)
{
    const cJSON *list = cJSON_GetObjectItem(c, "messages");
    *n = (size_t)cJSON_GetArraySize(list);
    hn_chat_message *messages = g_new(hn_chat_message, *n);
    for (size_t i = 0; i < *n; i++) {
        const cJSON *m = cJSON_GetArrayItem(list, (int)i);
        g_assert_true(hn_chat_role_parse(cJSON_GetObjectItem(m, "role")->valuestring,
                                         &messages[i].role));
        messages[i].content = cJSON_GetObjectItem(m, "content")->valuestring;
    }
    return messages;
}

static const char *case_system(const cJSON *c)
{
    const cJSON *system = cJSON_GetObjectItem(c, "system");
    return cJSON_IsString(system) ? system->valuestring : NULL;
}

static void test_smollm(void)
{
    hn_error err = {0};
    char *path = g_build_filename(reference_dir, "smollm", "expected.json", NULL);
    char *adapter_path = g_build_filename(reference_dir, "smollm", "adapter", NULL);
    cJSON *cases = test_load_json(path);
    hn_model *adapted = NULL;
    hn_chat_prompt *chatml = NULL, *automatic = NULL;
    g_assert_cmpint(hn_model_open_inference(model_dir, adapter_path, NULL, &adapted, &err), ==,
                    HN_OK);
    g_assert_cmpint(hn_chat_prompt_new(tokenizer, "chatml", &model_dir->generation, &chatml,
                                       &err), ==, HN_OK);
    g_assert_cmpint(hn_chat_prompt_new(tokenizer, "auto", &model_dir->generation, &automatic,
                                       &err), ==, HN_OK);
    hn_sampling greedy = {.do_sample = false, .temperature = 1, .top_p = 1,
                          .repetition_penalty = 1};
    const cJSON *c;
    int index = 0, differ = 0;
    cJSON_ArrayForEach(c, cases)
    {
        size_t n_messages = 0;
        hn_chat_message *messages = case_messages(c, &n_messages);
        int32_t *ids = NULL, *auto_ids = NULL;
        int n = 0, n_auto = 0;
        g_assert_cmpint(hn_chat_prompt_encode(chatml, messages, n_messages, case_system(c), true,
                                              &ids, &n, &err), ==, HN_OK);
        assert_ids("chatml prompt", ids, n, cJSON_GetObjectItem(c, "prompt_ids"));
        g_assert_cmpint(hn_chat_prompt_encode(automatic, messages, n_messages, case_system(c),
                                              true, &auto_ids, &n_auto, &err), ==, HN_OK);
        assert_ids("auto prompt", auto_ids, n_auto, cJSON_GetObjectItem(c, "auto_prompt_ids"));

        hn_generate_result base, with_adapter;
        GString *streamed = g_string_new(NULL);
        generate(base_model, ids, n, chatml, &greedy, 0, 40, &base, streamed);
        assert_ids("greedy", base.ids, base.n_ids, cJSON_GetObjectItem(c, "base"));
        g_assert_cmpstr(base.text, ==, cJSON_GetObjectItem(c, "base_text")->valuestring);
        g_assert_cmpstr(streamed->str, ==, base.text);
        generate(adapted, ids, n, chatml, &greedy, 0, 40, &with_adapter, NULL);
        assert_ids("greedy with the adapter", with_adapter.ids, with_adapter.n_ids,
                   cJSON_GetObjectItem(c, "adapter"));
        differ += strcmp(base.text, with_adapter.text) != 0;
        g_test_message("case %d: %d prompt tokens; %d tokens equal transformers' (%s); with the "
                       "adapter %d (%s)", index++, n, base.n_ids,
                       base.finish == HN_FINISH_STOP ? "stop" : "length", with_adapter.n_ids,
                       with_adapter.finish == HN_FINISH_STOP ? "stop" : "length");
        hn_generate_result_clear(&base);
        hn_generate_result_clear(&with_adapter);
        g_string_free(streamed, TRUE);
        g_free(ids);
        g_free(auto_ids);
        g_free(messages);
    }
    g_assert_cmpint(differ, >, 0); /* the adapter changes some answer */
    hn_chat_prompt_free(chatml);
    hn_chat_prompt_free(automatic);
    hn_model_free(adapted);
    cJSON_Delete(cases);
    g_free(adapter_path);
    g_free(path);
}

static int32_t *first_prompt(hn_chat_prompt **chat, int *n)
{
    hn_error err = {0};
    g_assert_cmpint(hn_chat_prompt_new(tokenizer, "chatml", NULL, chat, &err), ==, HN_OK);
    hn_chat_message message = {HN_ROLE_USER, "Tell me a short story about a cat."};
    int32_t *ids = NULL;
    g_assert_cmpint(hn_chat_prompt_encode(*chat, &message, 1, NULL, true, &ids, n, &err), ==,
                    HN_OK);
    return ids;
}

static void test_sampling(void)
{
    hn_chat_prompt *chat = NULL;
    int n = 0;
    int32_t *prompt = first_prompt(&chat, &n);
    hn_sampling sampling = {.do_sample = true, .temperature = 1.5, .top_k = 0, .top_p = 1.0,
                            .repetition_penalty = 1.1};
    hn_generate_result a, b, other, top1, greedy_result;
    generate(base_model, prompt, n, chat, &sampling, 1234, 24, &a, NULL);
    generate(base_model, prompt, n, chat, &sampling, 1234, 24, &b, NULL);
    generate(base_model, prompt, n, chat, &sampling, 99, 24, &other, NULL);
    g_assert_cmpint(a.n_ids, ==, b.n_ids);
    g_assert_cmpmem(a.ids, (size_t)a.n_ids * 4, b.ids, (size_t)b.n_ids * 4);
    g_assert_cmpstr(a.text, ==, b.text);
    g_assert_false(a.n_ids == other.n_ids && memcmp(a.ids, other.ids, (size_t)a.n_ids * 4) == 0);
    g_test_message("seed 1234 twice: \"%s\"; seed 99: \"%s\"", a.text, other.text);

    hn_sampling one = {.do_sample = true, .temperature = 0.7, .top_k = 1, .top_p = 0.9,
                       .repetition_penalty = 1.0};
    hn_sampling greedy = {.do_sample = false, .temperature = 1, .top_p = 1,
                          .repetition_penalty = 1.0};
    generate(base_model, prompt, n, chat, &one, 7, 24, &top1, NULL);
    generate(base_model, prompt, n, chat, &greedy, 0, 24, &greedy_result, NULL);
    g_assert_cmpint(top1.n_ids, ==, greedy_result.n_ids);
    g_assert_cmpmem(top1.ids, (size_t)top1.n_ids * 4, greedy_result.ids,
                    (size_t)greedy_result.n_ids * 4);
    hn_generate_result *all[] = {&a, &b, &other, &top1, &greedy_result};
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        hn_generate_result_clear(all[i]);
    hn_chat_prompt_free(chat);
    g_free(prompt);
}

static void test_cancel(void)
{
    hn_error err = {0};
    hn_chat_prompt *chat = NULL;
    int n = 0;
    int32_t *prompt = first_prompt(&chat, &n);
    hn_kv_decoder *decoder = NULL;
    g_assert_cmpint(hn_kv_decoder_new(base_model, &decoder, &err), ==, HN_OK);
    hn_generate_options options;
    hn_generate_options_init(&options);
    options.max_new_tokens = 50;
    atomic_bool cancel = false;
    GString *text = g_string_new(NULL);
    stream_sink sink = {text, 0, &cancel};
    hn_generate_result result;
    g_assert_cmpint(hn_generate(decoder, tokenizer, prompt, n, &options, collect_piece, &sink,
                                &cancel, &result, &err), ==, HN_OK);
    g_assert_cmpint(result.finish, ==, HN_FINISH_CANCELLED);
    g_assert_cmpint(sink.pieces, ==, 1); /* cancelled right after the first piece */
    g_assert_cmpint(result.n_ids, <=, 2);
    /* the next turn reuses the cached prompt: only the last prompt token runs again */
    hn_generate_result again;
    atomic_store(&cancel, false);
    options.max_new_tokens = 3;
    g_assert_cmpint(hn_generate(decoder, tokenizer, prompt, n, &options, NULL, NULL, &cancel,
                                &again, &err), ==, HN_OK);
    g_assert_cmpint(again.prompt_computed, ==, 1);
    g_assert_cmpint(again.finish, ==, HN_FINISH_LENGTH);
    g_assert_cmpint(again.n_ids, ==, 3);
    hn_generate_result_clear(&result);
    hn_generate_result_clear(&again);
    g_string_free(text, TRUE);
    hn_kv_decoder_free(decoder);
    hn_chat_prompt_free(chat);
    g_free(prompt);
}

/* ---- hone chat ---- */

static int run_chat(const char *extra, char **out, char **err)
{
    char *command = g_strdup_printf("'%s' chat %s", g_getenv("HONE_BIN"), extra);
    char *argv[] = {"sh", "-c", command, NULL};
    int status = test_run(argv, out, err);
    g_free(command);
    return status;
}

static void test_chat_query(void)
{
    char *path = g_build_filename(reference_dir, "smollm", "expected.json", NULL);
    cJSON *cases = test_load_json(path);
    const cJSON *first = cJSON_GetArrayItem(cases, 0);
    const char *query = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(first, "messages"), 0), "content")->valuestring;
    for (int adapter = 0; adapter < 2; adapter++) {
        char *adapter_arg = adapter ? g_strdup_printf("--adapter_name_or_path '%s/smollm/adapter'",
                                                      reference_dir)
                                    : g_strdup("");
        char *args = g_strdup_printf("--model_name_or_path '%s' %s --template chatml --query "
                                     "'%s' --temperature 0 --max_new_tokens 40",
                                     model_path, adapter_arg, query);
        char *out = NULL, *err = NULL;
        int status = run_chat(args, &out, &err);
        if (status != 0)
            g_error("hone chat %s: exit %d: %s", args, status, err);
        char *want = g_strconcat(cJSON_GetObjectItem(first, adapter ? "adapter_text"
                                                                      : "base_text")->valuestring,
                                 "\n", NULL);
        g_assert_cmpstr(out, ==, want);
        g_assert_cmpuint(strlen(out), >, 1);
        g_test_message("hone chat --query%s: %s", adapter ? " with the adapter" : "", out);
        g_free(want);
        g_free(out);
        g_free(err);
        g_free(args);
        g_free(adapter_arg);
    }
    /* the same keys from a YAML config (a key chat does not read is named and ignored) */
    char *config = g_build_filename(reference_dir, "chat.yaml", NULL);
    char *yaml = g_strdup_printf("model_name_or_path: %s\ntemplate: chatml\ntemperature: 0\n"
                                 "max_new_tokens: 40\ninfer_backend: huggingface\n", model_path);
    test_write_text(config, yaml);
    char *args = g_strdup_printf("'%s' --query '%s'", config, query);
    char *out = NULL, *err = NULL;
    g_assert_cmpint(run_chat(args, &out, &err), ==, 0);
    char *want = g_strconcat(cJSON_GetObjectItem(first, "base_text")->valuestring, "\n", NULL);
    g_assert_cmpstr(out, ==, want);
    test_assert_contains(err, "ignoring keys chat does not use: infer_backend");
    g_free(want);
    g_free(out);
    g_free(err);
    g_free(args);
    g_free(yaml);
    g_free(config);
    cJSON_Delete(cases);
    g_free(path);
}

static void test_chat_errors(void)
{
    struct {
        const char *args, *message;
        int status;
    } cases[] = {
        {"--model_name_or_path /nonexistent/model.gguf --query hi", "/nonexistent/model.gguf", 1},
        {"--query hi", "model_name_or_path", 2},
        {"--model_name_or_path M --temperature -1 --query hi", "temperature must be between", 2},
        {"--model_name_or_path M --temperature warm --query hi", "temperature must be a number",
         2},
        {"--model_name_or_path M --top_p 1.5 --query hi", "top_p", 2},
        {"--model_name_or_path M --no_such_key 1 --query hi", "--no_such_key", 2},
        {"--model_name_or_path M --template no_such_template --query hi", "no_such_template", 1},
        {"--model_name_or_path M --adapter_name_or_path a,b --query hi",
         "adapter a: a: not a folder", 1},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *quoted = g_strdup_printf("'%s'", model_path);
        char **parts = g_strsplit(cases[i].args, " M ", 2);
        char *args = parts[1] != NULL ? g_strconcat(parts[0], " ", quoted, " ", parts[1], NULL)
                                      : g_strdup(cases[i].args);
        char *out = NULL, *err = NULL;
        int status = run_chat(args, &out, &err);
        g_assert_cmpint(status, ==, cases[i].status);
        test_assert_contains(err, cases[i].message);
        test_assert_contains(err, "hone chat");
        g_assert_cmpstr(out, ==, "");
        g_free(out);
        g_free(err);
        g_free(args);
        g_strfreev(parts);
        g_free(quoted);
    }
}

/* ---- thoughts ---- */

typedef struct {
    GString *thought, *answer;
    bool answer_then_thought; /* a thought came after the answer began */
} split_sink;

static void collect_split(const char *text, bool thought, void *user)
{
    split_sink *sink = user;
    if (thought && sink->answer->len > 0)
        sink->answer_then_thought = true;
    g_string_append(thought ? sink->thought : sink->answer, text);
}

static void check_split(const char *text, const char *thought, const char *answer)
{
    size_t length = strlen(text);
    for (size_t cut1 = 0; cut1 <= length; cut1++) {
        for (size_t cut2 = cut1; cut2 <= length; cut2 += 3) {
            split_sink sink = {g_string_new(NULL), g_string_new(NULL), false};
            hn_thought_splitter s;
            hn_thought_splitter_init(&s, "<think>", "</think>", collect_split, &sink);
            char *a = g_strndup(text, cut1), *b = g_strndup(text + cut1, cut2 - cut1);
            hn_thought_splitter_feed(&s, a);
            hn_thought_splitter_feed(&s, b);
            hn_thought_splitter_feed(&s, text + cut2);
            hn_thought_splitter_finish(&s);
            g_assert_cmpstr(sink.thought->str, ==, thought);
            g_assert_cmpstr(sink.answer->str, ==, answer);
            g_assert_false(sink.answer_then_thought);
            hn_thought_splitter_clear(&s);
            g_free(a);
            g_free(b);
            g_string_free(sink.thought, TRUE);
            g_string_free(sink.answer, TRUE);
        }
    }
}

static void test_thoughts(void)
{
    check_split("<think>\nLet me count: 2 + 2.\n</think>\n\nIt is 4.", "\nLet me count: 2 + 2.\n",
                "It is 4.");
    check_split("\n<think></think>Yes <think> stays.", "", "Yes <think> stays.");
    check_split("Plain answer with </think> inside.", "", "Plain answer with </think> inside.");
    check_split("<think>never closed <thi", "never closed <thi", "");
    check_split("<thin", "", "<thin");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/generate/thoughts", test_thoughts);
    g_test_add_func("/generate/processors", test_processors);
    g_test_add_func("/generate/smollm_greedy", test_smollm);
    g_test_add_func("/generate/sampling", test_sampling);
    g_test_add_func("/generate/cancel", test_cancel);
    g_test_add_func("/generate/chat_query", test_chat_query);
    g_test_add_func("/generate/chat_errors", test_chat_errors);
    model_path = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    reference_dir = test_make_tmpdir();
    char *processors = g_build_filename(reference_dir, "processors", NULL);
    char *smollm = g_build_filename(reference_dir, "smollm", NULL);
    test_run_reference("generate_ref.py", "processors", processors);
    const char *args[] = {"smollm", model_path, smollm, NULL};
    test_run_reference_args("generate_ref.py", args);
    hn_error err = {0};
    if (hn_model_dir_open(model_path, &model_dir, &err) != HN_OK ||
        hn_tokenizer_load_model(model_path, &tokenizer, &err) != HN_OK ||
        hn_model_open_inference(model_dir, NULL, NULL, &base_model, &err) != HN_OK)
        g_error("%s: %s", model_path, err.message);
    int result = g_test_run();
    hn_model_free(base_model);
    hn_tokenizer_free(tokenizer);
    hn_model_dir_close(model_dir);
    test_remove_tree(reference_dir);
    g_free(processors);
    g_free(smollm);
    g_free(reference_dir);
    g_free(model_path);
    return result;
}
