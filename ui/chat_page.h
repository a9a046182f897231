/* HoneChatPage: the Chat page. Loads the top bar's model (a folder or a GGUF file), adapter
 * and template through a chat session (chat_session.h, on a worker thread: the window stays
 * responsive, a spinner turns meanwhile), then chats with it: a system prompt, the sampling
 * settings (hone chat's defaults), the conversation as bubbles (user right, assistant left,
 * a reasoning model's thought dimmed above its answer) filled as the answer streams, Stop,
 * Clear history and Unload. A switch turns on the engine's fast decoding (decode_activations:
 * int8) for the next answers; the status line says when it has no effect on the loaded model. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HONE_TYPE_CHAT_PAGE (hone_chat_page_get_type ())
G_DECLARE_FINAL_TYPE (HoneChatPage, hone_chat_page, HONE, CHAT_PAGE, GtkWidget)

/* top_inputs: the top bar's inputs by key (form_input.h), shared with the window. */
GtkWidget *hone_chat_page_new (GHashTable *top_inputs);

/* Presses Load; FALSE when it was refused (the status line says why). */
gboolean hone_chat_page_load (HoneChatPage *page);
/* Types text into the message entry and presses Send; FALSE when refused. */
gboolean hone_chat_page_send (HoneChatPage *page, const char *text);
/* Sets the fast decoding switch (decode_activations int8 when on). */
void hone_chat_page_set_fast_decoding (HoneChatPage *page, gboolean on);
/* TRUE while a model loads or an answer is generated. */
gboolean hone_chat_page_busy (HoneChatPage *page);
gboolean hone_chat_page_loaded (HoneChatPage *page);
/* The last answer shown (its text without the thought), "" when none. */
const char *hone_chat_page_last_answer (HoneChatPage *page);
/* The status line's text. */
const char *hone_chat_page_status (HoneChatPage *page);

G_END_DECLS
