/* chat_session.c: a chat on a worker thread (worker.h), its results posted to the main loop
 * (see chat_session.h). The worker only touches what the main thread leaves alone while busy:
 * the loaded model and a copy of the conversation. */
#include "chat_session.h"

#include "backend_choice.h"
#include "chat_prompt.h"
#include "chat_thought.h"
#include "gguf_tokenizer.h"
#include "model_dir.h"
#include "model_open.h"
#include "worker.h"

/* What a load makes, freed together. */
typedef struct {
  hn_model_dir *dir;
  hn_tokenizer *tok;
  hn_chat_prompt *prompt;
  hn_model *model;
  hn_kv_decoder *decoder;
  hn_decode_activations decode; /* what the model was last set to */
  gboolean decode_no_effect;    /* int8 asked, nothing changed (model_decode.h) */
} ChatModel;

struct _HoneChatSession {
  HoneChatSessionCallbacks callbacks;
  gpointer user_data;
  HoneWorker *worker; /* the load or the answer */
  ChatModel *model;
  GPtrArray *history; /* char*: user, assistant, user, ... */
  hn_decode_activations decode; /* wanted for the next answers */
  /* the running operation's input */
  hn_chat_args load_args;
  hn_chat_message *messages;
  size_t n_messages;
  char *system;
  gboolean enable_thinking;
  hn_generate_options options;
};

static void
chat_model_free (ChatModel *m)
{
  if (m == NULL)
    return;
  hn_kv_decoder_free (m->decoder);
  hn_model_free (m->model);
  hn_chat_prompt_free (m->prompt);
  hn_tokenizer_free (m->tok);
  hn_model_dir_close (m->dir);
  g_free (m);
}

/* Sets the model's decode mode (not while a worker uses it). A change empties the key/value
 * cache: what it holds was computed in the other mode (the next turn runs the whole
 * conversation again), so an answer depends only on the mode it was asked in. */
static void
apply_decode (ChatModel *m, hn_decode_activations mode)
{
  if (mode != m->decode)
    hn_kv_decoder_truncate (m->decoder, 0);
  m->decode = mode;
  m->decode_no_effect = !hn_model_set_decode_activations (m->model, mode);
}

/* ---- messages from the worker to the main loop ---- */

typedef enum { MSG_LOADED, MSG_PIECE, MSG_ANSWERED } MessageKind;

typedef struct {
  MessageKind kind;
  gboolean ok, thought;
  hn_finish_reason finish;
  char *text, *message;
  ChatModel *model; /* MSG_LOADED */
} Message;

static void
message_free (gpointer data)
{
  Message *m = data;
  chat_model_free (m->model);
  g_free (m->text);
  g_free (m->message);
  g_free (m);
}

static void
deliver (gpointer message, gpointer owner)
{
  Message *m = message;
  HoneChatSession *s = owner;
  switch (m->kind) {
  case MSG_PIECE:
    if (s->callbacks.piece != NULL)
      s->callbacks.piece (m->text, m->thought, s->user_data);
    break;
  case MSG_LOADED:
    hone_worker_join (s->worker);
    hn_chat_args_clear (&s->load_args);
    s->model = g_steal_pointer (&m->model);
    if (s->callbacks.loaded != NULL)
      s->callbacks.loaded (m->ok, m->message, s->user_data);
    break;
  case MSG_ANSWERED:
    hone_worker_join (s->worker);
    g_clear_pointer (&s->messages, g_free);
    g_clear_pointer (&s->system, g_free);
    if (m->ok || m->text != NULL) /* the answer (or what came of it) joins the conversation */
      g_ptr_array_add (s->history, g_strdup (m->text != NULL ? m->text : ""));
    else /* it could not be asked: the question leaves it (as hone chat) */
      g_ptr_array_remove_index (s->history, s->history->len - 1);
    if (s->callbacks.answered != NULL)
      s->callbacks.answered (m->ok, m->finish, m->text, m->message, s->user_data);
    break;
  }
}

static void
post (HoneChatSession *s, Message *m)
{
  hone_worker_post (s->worker, m);
}

/* ---- the worker ---- */

static gpointer
load_worker (gpointer data)
{
  HoneChatSession *s = data;
  const hn_chat_args *a = &s->load_args;
  hn_error err = { 0 };
  ChatModel *m = g_new0 (ChatModel, 1);
  hn_backend_request request = { .backend = a->backend };
  hn_backend_choice choice = { 0 };
  gboolean ok =
      hn_backend_choose (&request, &choice, &err) == HN_OK &&
      hn_model_dir_open (a->model_name_or_path, &m->dir, &err) == HN_OK &&
      hn_tokenizer_load_model (a->model_name_or_path, &m->tok, &err) == HN_OK &&
      hn_chat_prompt_new (m->tok, a->template_name, &m->dir->generation, &m->prompt, &err) ==
          HN_OK &&
      hn_model_open_inference (m->dir, a->adapter_name_or_path, choice.backend, &m->model,
                               &err) == HN_OK &&
      hn_kv_decoder_new (m->model, &m->decoder, &err) == HN_OK;
  if (ok)
    apply_decode (m, a->decode_activations);
  Message *msg = g_new0 (Message, 1);
  msg->kind = MSG_LOADED;
  msg->ok = ok;
  if (ok) {
    msg->model = m;
    msg->message = g_strdup (choice.line); /* which backend runs, for the status line */
  } else {
    msg->message = g_strdup (err.message);
    chat_model_free (m);
  }
  post (s, msg);
  return NULL;
}

static void
post_piece (const char *text, bool thought, void *user)
{
  if (text[0] == '\0') /* the splitter may flush an empty rest */
    return;
  Message *msg = g_new0 (Message, 1);
  msg->kind = MSG_PIECE;
  msg->text = g_strdup (text);
  msg->thought = thought;
  post (user, msg);
}

static void
feed_splitter (const char *piece, void *user)
{
  hn_thought_splitter_feed (user, piece);
}

static gpointer
answer_worker (gpointer data)
{
  HoneChatSession *s = data;
  ChatModel *m = s->model;
  hn_error err = { 0 };
  Message *msg = g_new0 (Message, 1);
  msg->kind = MSG_ANSWERED;
  int32_t *ids = NULL;
  int n_ids = 0;
  if (hn_chat_prompt_encode (m->prompt, s->messages, s->n_messages, s->system,
                             s->enable_thinking, &ids, &n_ids, &err) != HN_OK) {
    msg->message = g_strdup (err.message);
    post (s, msg);
    return NULL;
  }
  hn_generate_options options = s->options;
  options.stop_ids = hn_chat_prompt_stop_ids (m->prompt, &options.n_stop);
  hn_thought_splitter splitter;
  hn_thought_splitter_init (&splitter, hn_chat_prompt_thought_open (m->prompt),
                            hn_chat_prompt_thought_close (m->prompt), post_piece, s);
  hn_generate_result result;
  hn_status st = hn_generate (m->decoder, m->tok, ids, n_ids, &options, feed_splitter,
                              &splitter, hone_worker_cancel_flag (s->worker), &result, &err);
  hn_thought_splitter_finish (&splitter);
  hn_thought_splitter_clear (&splitter);
  g_free (ids);
  msg->ok = st == HN_OK;
  msg->finish = result.finish;
  msg->text = g_strdup (result.text != NULL ? result.text : "");
  if (st != HN_OK)
    msg->message = g_strdup (err.message);
  hn_generate_result_clear (&result);
  post (s, msg);
  return NULL;
}

/* ---- the API ---- */

HoneChatSession *
hone_chat_session_new (const HoneChatSessionCallbacks *callbacks, gpointer user_data)
{
  HoneChatSession *s = g_new0 (HoneChatSession, 1);
  s->callbacks = *callbacks;
  s->user_data = user_data;
  s->worker = hone_worker_new (s, deliver, message_free);
  s->history = g_ptr_array_new_with_free_func (g_free);
  hn_chat_args_init (&s->load_args);
  return s;
}

void
hone_chat_session_free (HoneChatSession *s)
{
  if (s == NULL)
    return;
  hone_worker_close (s->worker); /* a load cannot be cut short: it is waited for */
  chat_model_free (s->model);
  s->model = NULL;
  g_ptr_array_free (s->history, TRUE);
  hn_chat_args_clear (&s->load_args);
  g_free (s->messages);
  g_free (s->system);
  g_free (s);
}

gboolean
hone_chat_session_load (HoneChatSession *s, const hn_chat_args *args)
{
  if (hone_worker_busy (s->worker))
    return FALSE;
  chat_model_free (s->model);
  s->model = NULL;
  g_ptr_array_set_size (s->history, 0);
  hn_chat_args_clear (&s->load_args);
  hn_chat_args_init (&s->load_args);
  s->load_args.model_name_or_path = g_strdup (args->model_name_or_path);
  if (args->adapter_name_or_path != NULL && args->adapter_name_or_path[0] != '\0')
    s->load_args.adapter_name_or_path = g_strdup (args->adapter_name_or_path);
  if (args->template_name != NULL && args->template_name[0] != '\0')
    s->load_args.template_name = g_strdup (args->template_name);
  if (args->backend != NULL && args->backend[0] != '\0')
    s->load_args.backend = g_strdup (args->backend);
  s->load_args.decode_activations = s->decode = args->decode_activations;
  return hone_worker_start (s->worker, "hone-chat-load", load_worker);
}

gboolean
hone_chat_session_unload (HoneChatSession *s)
{
  if (hone_worker_busy (s->worker))
    return FALSE;
  chat_model_free (s->model);
  s->model = NULL;
  g_ptr_array_set_size (s->history, 0);
  return TRUE;
}

gboolean
hone_chat_session_send (HoneChatSession *s, const char *text, const char *system,
                        gboolean enable_thinking, const hn_generate_options *options)
{
  if (hone_worker_busy (s->worker) || s->model == NULL)
    return FALSE;
  g_ptr_array_add (s->history, g_strdup (text));
  s->n_messages = s->history->len;
  s->messages = g_new (hn_chat_message, s->n_messages);
  for (size_t i = 0; i < s->n_messages; i++)
    s->messages[i] = (hn_chat_message){ i % 2 == 0 ? HN_ROLE_USER : HN_ROLE_ASSISTANT,
                                        g_ptr_array_index (s->history, i) };
  s->system = system != NULL && system[0] != '\0' ? g_strdup (system) : NULL;
  s->enable_thinking = enable_thinking;
  s->options = *options;
  if (s->model->decode != s->decode)
    apply_decode (s->model, s->decode);
  return hone_worker_start (s->worker, "hone-chat-answer", answer_worker);
}

void
hone_chat_session_stop (HoneChatSession *s)
{
  hone_worker_cancel (s->worker);
}

gboolean
hone_chat_session_clear (HoneChatSession *s)
{
  if (hone_worker_busy (s->worker))
    return FALSE;
  g_ptr_array_set_size (s->history, 0);
  return TRUE;
}

gboolean
hone_chat_session_loaded (HoneChatSession *s)
{
  return s->model != NULL;
}

gboolean
hone_chat_session_busy (HoneChatSession *s)
{
  return hone_worker_busy (s->worker);
}

guint
hone_chat_session_n_messages (HoneChatSession *s)
{
  return s->history->len;
}

void
hone_chat_session_set_decode_activations (HoneChatSession *s, hn_decode_activations mode)
{
  s->decode = mode;
  if (!hone_worker_busy (s->worker) && s->model != NULL)
    apply_decode (s->model, mode);
}

hn_decode_activations
hone_chat_session_decode_activations (HoneChatSession *s)
{
  return s->model != NULL ? s->model->decode : HN_DECODE_FP32;
}

gboolean
hone_chat_session_decode_no_effect (HoneChatSession *s)
{
  return s->model != NULL && s->model->decode_no_effect;
}
