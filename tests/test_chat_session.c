/* The Chat page's session (ui/chat_session.c) with the real SmolLM2-135M-Instruct GGUF: the
 * model loads on a worker thread while a GMainLoop runs; a greedy answer streamed piece by
 * piece into the main loop equals `hone chat --query` run as a separate process; Stop after
 * the first piece ends the answer early; unload and a reload give the same answer again.
 * The decode mode: loaded with decode_activations int8, the model decodes in int8 (the engine's
 * setting) and the greedy answer equals `hone chat --decode_activations int8`'s, which differs
 * from the exact one for the question used (in the optimised build); switched to fp32 between answers it equals the exact
 * `hone chat`'s, and back; a float16 safetensors folder (SmolLM2 exported by the engine) takes
 * int8 without effect and the session says so. */
#include <string.h>

#include "export.h"

#include "chat_session.h"
#include "test_util.h"

#define QUESTION "What is 2+2?"

typedef struct {
  GMainLoop *loop;
  gboolean loaded_ok, answered_ok;
  char *message;
  GString *text;
  int n_pieces;
  hn_finish_reason finish;
  char *answer;
  gboolean stop_on_first; /* press Stop when the first piece comes */
  HoneChatSession *session;
} events;

static void on_loaded(gboolean ok, const char *message, gpointer data)
{
  events *e = data;
  e->loaded_ok = ok;
  g_free(e->message);
  e->message = g_strdup(message);
  g_main_loop_quit(e->loop);
}

static void on_piece(const char *text, gboolean thought, gpointer data)
{
  events *e = data;
  g_assert_false(thought); /* SmolLM2's template has no thoughts */
  g_assert_cmpuint(strlen(text), >, 0);
  g_string_append(e->text, text);
  if (e->n_pieces++ == 0 && e->stop_on_first)
    hone_chat_session_stop(e->session);
}

static void on_answered(gboolean ok, hn_finish_reason finish, const char *text,
                        const char *message, gpointer data)
{
  events *e = data;
  e->answered_ok = ok;
  e->finish = finish;
  g_free(e->answer);
  e->answer = g_strdup(text);
  g_free(e->message);
  e->message = g_strdup(message);
  g_main_loop_quit(e->loop);
}

static const HoneChatSessionCallbacks callbacks = {on_loaded, on_piece, on_answered};

static char *model_path(void)
{
  return test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
}

/* A tick counter proves the main loop kept running while the worker did the work. */
static gboolean count_tick(gpointer data)
{
  (*(int *)data)++;
  return G_SOURCE_CONTINUE;
}

static void load_with(events *e, const char *path, hn_decode_activations decode)
{
  hn_chat_args args;
  hn_chat_args_init(&args);
  args.model_name_or_path = g_strdup(path);
  args.decode_activations = decode;
  g_assert_true(hone_chat_session_load(e->session, &args));
  hn_chat_args_clear(&args);
  g_assert_true(hone_chat_session_busy(e->session));
  g_assert_false(hone_chat_session_load(e->session, &args)); /* one operation at a time */
  int ticks = 0;
  guint id = g_timeout_add(5, count_tick, &ticks);
  g_main_loop_run(e->loop);
  g_source_remove(id);
  g_assert_true(e->loaded_ok);
  /* the message of a load says which backend runs (backend_choice.h) */
  g_assert_true(g_str_has_prefix(e->message, "backend: "));
  g_assert_cmpint(ticks, >, 0); /* the main loop ran while the worker loaded */
  g_assert_false(hone_chat_session_busy(e->session));
  g_assert_true(hone_chat_session_loaded(e->session));
  g_test_message("load: %d main-loop ticks of 5 ms while loading", ticks);
}

static void load(events *e, const char *path)
{
  load_with(e, path, HN_DECODE_FP32);
}

static void ask(events *e, const char *question, int max_new_tokens)
{
  hn_generate_options options;
  hn_generate_options_init(&options);
  options.sampling.temperature = 0.0f; /* greedy, as hn_chat_args_check sets for 0 */
  options.sampling.do_sample = false;
  options.max_new_tokens = max_new_tokens;
  g_string_truncate(e->text, 0);
  e->n_pieces = 0;
  g_assert_true(hone_chat_session_send(e->session, question, NULL, TRUE, &options));
  g_assert_false(hone_chat_session_send(e->session, question, NULL, TRUE, &options));
  g_assert_false(hone_chat_session_clear(e->session));
  g_main_loop_run(e->loop);
}

/* `hone chat --query QUESTION` greedy with decode_activations decode: its stdout is the answer
 * and a newline. */
static char *hone_chat_answer_decode(const char *path, const char *question, int max_new_tokens,
                                     const char *decode)
{
  char *max = g_strdup_printf("%d", max_new_tokens);
  char *argv[] = {(char *)g_getenv("HONE_BIN"), "chat", "--model_name_or_path", (char *)path,
                  "--query", (char *)question, "--temperature", "0", "--max_new_tokens", max,
                  "--decode_activations", (char *)decode, NULL};
  char *out = NULL, *err = NULL;
  int status = test_run(argv, &out, &err);
  if (status != 0)
    g_error("hone chat exited with %d: %s", status, err);
  g_assert_true(g_str_has_suffix(out, "\n"));
  out[strlen(out) - 1] = '\0';
  g_free(err);
  g_free(max);
  return out;
}

static char *hone_chat_answer(const char *path, const char *question, int max_new_tokens)
{
  return hone_chat_answer_decode(path, question, max_new_tokens, "fp32");
}

static events *events_new(void)
{
  events *e = g_new0(events, 1);
  e->loop = g_main_loop_new(NULL, FALSE);
  e->text = g_string_new(NULL);
  e->session = hone_chat_session_new(&callbacks, e);
  return e;
}

static void events_free(events *e)
{
  hone_chat_session_free(e->session);
  g_main_loop_unref(e->loop);
  g_string_free(e->text, TRUE);
  g_free(e->message);
  g_free(e->answer);
  g_free(e);
}

static void test_answer_matches_hone_chat(void)
{
  char *path = model_path();
  char *want = hone_chat_answer(path, QUESTION, 24);
  g_assert_cmpuint(strlen(want), >, 0);
  events *e = events_new();
  load(e, path);
  ask(e, QUESTION, 24);
  g_assert_true(e->answered_ok);
  g_test_message("streamed %d pieces: \"%s\"", e->n_pieces, e->text->str);
  g_assert_cmpstr(e->text->str, ==, want);
  g_assert_cmpstr(e->answer, ==, want);
  g_assert_cmpint(e->n_pieces, >, 1);
  g_assert_cmpuint(hone_chat_session_n_messages(e->session), ==, 2);

  /* a second turn joins the conversation */
  ask(e, "And 3+3?", 16);
  g_assert_true(e->answered_ok);
  g_assert_cmpuint(hone_chat_session_n_messages(e->session), ==, 4);
  g_assert_true(hone_chat_session_clear(e->session));
  g_assert_cmpuint(hone_chat_session_n_messages(e->session), ==, 0);

  /* unload, then send is refused; a reload answers the same */
  g_assert_true(hone_chat_session_unload(e->session));
  g_assert_false(hone_chat_session_loaded(e->session));
  hn_generate_options options;
  hn_generate_options_init(&options);
  g_assert_false(hone_chat_session_send(e->session, QUESTION, NULL, TRUE, &options));
  load(e, path);
  ask(e, QUESTION, 24);
  g_assert_cmpstr(e->text->str, ==, want);
  events_free(e);
  g_free(want);
  g_free(path);
}

static void test_stop(void)
{
  char *path = model_path();
  events *e = events_new();
  load(e, path);
  e->stop_on_first = TRUE;
  ask(e, "Write a long story about a cat who sails around the world.", 300);
  g_assert_true(e->answered_ok);
  g_assert_cmpint(e->finish, ==, HN_FINISH_CANCELLED);
  g_test_message("stopped after %d pieces: \"%s\"", e->n_pieces, e->text->str);
  g_assert_cmpint(e->n_pieces, >=, 1);
  g_assert_cmpint(e->n_pieces, <, 100);
  /* what came stays in the conversation, as hone chat keeps a stopped answer */
  g_assert_cmpstr(e->answer, ==, e->text->str);
  g_assert_cmpuint(hone_chat_session_n_messages(e->session), ==, 2);
  /* the next answer runs to its end */
  e->stop_on_first = FALSE;
  ask(e, QUESTION, 8);
  g_assert_true(e->answered_ok);
  g_assert_cmpint(e->finish, !=, HN_FINISH_CANCELLED);
  events_free(e);
  g_free(path);
}

static void test_load_error(void)
{
  events *e = events_new();
  char *dir = test_make_tmpdir();
  hn_chat_args args;
  hn_chat_args_init(&args);
  args.model_name_or_path = g_build_filename(dir, "missing", NULL);
  g_assert_true(hone_chat_session_load(e->session, &args));
  g_main_loop_run(e->loop);
  g_assert_false(e->loaded_ok);
  test_assert_contains(e->message, "missing");
  g_assert_false(hone_chat_session_loaded(e->session));
  hn_chat_args_clear(&args);
  test_remove_tree(dir);
  g_free(dir);
  events_free(e);
}

/* Freeing the session while it answers waits for the worker; nothing is called after. */
static void test_free_while_answering(void)
{
  char *path = model_path();
  events *e = events_new();
  load(e, path);
  hn_generate_options options;
  hn_generate_options_init(&options);
  options.max_new_tokens = 200;
  g_assert_true(hone_chat_session_send(e->session, "Tell me about cats.", NULL, TRUE, &options));
  hone_chat_session_free(e->session);
  e->session = NULL;
  /* messages the worker posted are dropped unread */
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpint(e->n_pieces, ==, 0);
  events_free(e);
  g_free(path);
}

/* A question whose greedy answer on SmolLM2's Q4_1 GGUF differs between int8 and fp32 decoding
 * within 48 tokens in the optimised build (hone chat's answers in each mode are the references). */
#define DECODE_QUESTION "Explain photosynthesis in detail."

static void ask_fresh(events *e, const char *question)
{
  g_assert_true(hone_chat_session_clear(e->session));
  ask(e, question, 48);
  g_assert_true(e->answered_ok);
}

static void test_decode_int8(void)
{
  char *path = model_path();
  char *exact = hone_chat_answer_decode(path, DECODE_QUESTION, 48, "fp32");
  char *fast = hone_chat_answer_decode(path, DECODE_QUESTION, 48, "int8");
  /* they differ in an optimised build (so the checks below see the mode); a sanitizer build's
   * kernels can agree on this question, and the checks then hold the answers to hone chat's */
  if (strcmp(exact, fast) == 0)
    g_test_message("int8 and fp32 decoding give the same answer in this build");
  events *e = events_new();
  g_assert_cmpint(hone_chat_session_decode_activations(e->session), ==, HN_DECODE_FP32);
  load_with(e, path, HN_DECODE_INT8);
  g_assert_cmpint(hone_chat_session_decode_activations(e->session), ==, HN_DECODE_INT8);
  g_assert_false(hone_chat_session_decode_no_effect(e->session)); /* Q4_1 blocks */
  ask_fresh(e, DECODE_QUESTION);
  g_assert_cmpstr(e->answer, ==, fast);
  /* switched while idle: the next answer is exact */
  hone_chat_session_set_decode_activations(e->session, HN_DECODE_FP32);
  g_assert_cmpint(hone_chat_session_decode_activations(e->session), ==, HN_DECODE_FP32);
  ask_fresh(e, DECODE_QUESTION);
  g_assert_cmpstr(e->answer, ==, exact);
  /* switched while an answer runs: that answer keeps its mode, the next takes the new one */
  hn_generate_options options;
  hn_generate_options_init(&options);
  options.sampling.temperature = 0.0f;
  options.sampling.do_sample = false;
  options.max_new_tokens = 48;
  g_assert_true(hone_chat_session_clear(e->session));
  g_assert_true(hone_chat_session_send(e->session, DECODE_QUESTION, NULL, TRUE, &options));
  hone_chat_session_set_decode_activations(e->session, HN_DECODE_INT8);
  g_assert_cmpint(hone_chat_session_decode_activations(e->session), ==, HN_DECODE_FP32);
  g_main_loop_run(e->loop);
  g_assert_cmpstr(e->answer, ==, exact);
  ask_fresh(e, DECODE_QUESTION);
  g_assert_cmpint(hone_chat_session_decode_activations(e->session), ==, HN_DECODE_INT8);
  g_assert_cmpstr(e->answer, ==, fast);
  g_test_message("int8: \"%s\"; fp32: \"%s\"", fast, exact);
  events_free(e);
  g_free(exact);
  g_free(fast);
  g_free(path);
}

/* A model without block weights: SmolLM2 exported by the engine as a float16 safetensors folder.
 * int8 is kept as asked but has no effect, and the session says so; fp32 has nothing to say. */
static void test_decode_int8_no_effect(void)
{
  char *gguf = model_path();
  char *tmp = test_make_tmpdir();
  char *folder = g_build_filename(tmp, "smollm2-f16", NULL);
  hn_export_args args;
  hn_export_args_init(&args);
  hn_error err = {0};
  g_assert_cmpint(hn_export_args_set(&args, "model_name_or_path", gguf, "test", &err), ==, HN_OK);
  g_assert_cmpint(hn_export_args_set(&args, "export_dir", folder, "test", &err), ==, HN_OK);
  g_assert_cmpint(hn_export_args_set(&args, "infer_dtype", "float16", "test", &err), ==, HN_OK);
  if (hn_export_run(&args, NULL, NULL, NULL, &err) != HN_OK)
    g_error("%s", err.message);
  hn_export_args_clear(&args);
  events *e = events_new();
  load_with(e, folder, HN_DECODE_INT8);
  g_assert_true(hone_chat_session_decode_no_effect(e->session));
  ask(e, QUESTION, 4); /* it still answers, exactly */
  g_assert_true(e->answered_ok);
  hone_chat_session_set_decode_activations(e->session, HN_DECODE_FP32);
  g_assert_false(hone_chat_session_decode_no_effect(e->session));
  hone_chat_session_set_decode_activations(e->session, HN_DECODE_INT8);
  g_assert_true(hone_chat_session_decode_no_effect(e->session));
  g_assert_true(hone_chat_session_unload(e->session));
  g_assert_false(hone_chat_session_decode_no_effect(e->session));
  events_free(e);
  test_remove_tree(tmp);
  g_free(folder);
  g_free(tmp);
  g_free(gguf);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chat_session/answer_matches_hone_chat", test_answer_matches_hone_chat);
  g_test_add_func("/chat_session/stop", test_stop);
  g_test_add_func("/chat_session/load_error", test_load_error);
  g_test_add_func("/chat_session/free_while_answering", test_free_while_answering);
  g_test_add_func("/chat_session/decode_int8", test_decode_int8);
  g_test_add_func("/chat_session/decode_int8_no_effect", test_decode_int8_no_effect);
  return g_test_run();
}
