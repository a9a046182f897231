/* A chat with a model for the Chat page, without widgets: loading a model (a folder or a GGUF
 * file, and a PEFT adapter) and generating each answer run on a worker thread with the
 * engine's own calls (as `hone chat`: model_dir, the tokenizer, chat_prompt, model_open,
 * generate); what they produce reaches the main loop of the thread that made the session
 * (g_main_context_invoke), piece by piece as the answer streams. The conversation is kept, so
 * the next turn only runs its new tokens. One operation at a time: load, send and unload are
 * refused while one runs; stop asks the running answer to end before its next token. The
 * decode mode (decode_activations: fp32, exact, or int8, faster and not exact; model_decode.h)
 * can change between answers. */
#pragma once

#include <glib.h>

#include "chat_args.h"
#include "generate.h"
#include "model_decode.h"

typedef struct _HoneChatSession HoneChatSession;

typedef struct {
  /* The load ended: ok (message: which backend runs), or not with message saying why. */
  void (*loaded) (gboolean ok, const char *message, gpointer user_data);
  /* A piece of the answer (thought: the reasoning part, chat_thought.h). */
  void (*piece) (const char *text, gboolean thought, gpointer user_data);
  /* The answer ended (ok FALSE: message says why); finish as generate.h's; text: the whole
   * answer as the conversation keeps it. */
  void (*answered) (gboolean ok, hn_finish_reason finish, const char *text, const char *message,
                    gpointer user_data);
} HoneChatSessionCallbacks;

/* Callbacks run on the calling thread's default main context. */
HoneChatSession *hone_chat_session_new (const HoneChatSessionCallbacks *callbacks,
                                        gpointer user_data);
/* Stops what runs (waiting for it), frees the model; no callback comes after this. */
void hone_chat_session_free (HoneChatSession *session);

/* Starts loading model_name_or_path, adapter_name_or_path (NULL: none) and template_name
 * (NULL or "auto": the model's own) of args, decoding with its decode_activations (as
 * hone_chat_session_set_decode_activations); a loaded model is freed first. FALSE (nothing
 * started) while busy. */
gboolean hone_chat_session_load (HoneChatSession *session, const hn_chat_args *args);
/* Frees the model and the conversation. FALSE while busy. */
gboolean hone_chat_session_unload (HoneChatSession *session);
/* Asks text as the next user turn with system (NULL or "": the template's) and the sampling of
 * options (its stop ids are the template's, set here). FALSE when no model is loaded or busy. */
gboolean hone_chat_session_send (HoneChatSession *session, const char *text, const char *system,
                                 gboolean enable_thinking, const hn_generate_options *options);
/* The decode mode of the next answers (and loads): set on the loaded model now when idle, else
 * when the next answer starts (never under a running one). */
void hone_chat_session_set_decode_activations (HoneChatSession *session,
                                               hn_decode_activations mode);
/* The mode the loaded model decodes with (the engine's, model.h), HN_DECODE_FP32 when none is
 * loaded. */
hn_decode_activations hone_chat_session_decode_activations (HoneChatSession *session);
/* TRUE when int8 is asked but changes nothing for the loaded model (no GGUF Q8_0 / Q4_1 block
 * weights, or no int8 kernel: HN_DECODE_INT8_NO_EFFECT); the answers stay exact. */
gboolean hone_chat_session_decode_no_effect (HoneChatSession *session);
/* Asks the running answer to stop; answered() follows. */
void hone_chat_session_stop (HoneChatSession *session);
/* Forgets the conversation. FALSE while busy. */
gboolean hone_chat_session_clear (HoneChatSession *session);

gboolean hone_chat_session_loaded (HoneChatSession *session);
gboolean hone_chat_session_busy (HoneChatSession *session);
/* Messages in the conversation (user and assistant turns). */
guint hone_chat_session_n_messages (HoneChatSession *session);
