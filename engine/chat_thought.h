/* Separating a reasoning model's thought from its answer while the text streams in: text of
 * the form "[whitespace]<think>thought</think>answer" (the words are the template's) is
 * passed on in pieces marked thought or answer, the words themselves and the whitespace
 * around the answer's start dropped. Text that does not start with the open word is all
 * answer. A word split across pieces is held back until it is whole. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef void (*hn_thought_piece_fn)(const char *text, bool thought, void *user);

typedef struct {
    char *open, *close;
    int state;          /* before anything, in the thought, in the answer */
    GString *pending;   /* text held back */
    bool answer_started;
    hn_thought_piece_fn emit;
    void *user;
} hn_thought_splitter;

void hn_thought_splitter_init(hn_thought_splitter *s, const char *open, const char *close,
                              hn_thought_piece_fn emit, void *user);
void hn_thought_splitter_feed(hn_thought_splitter *s, const char *text);
/* Emits what is held back (an unfinished thought stays a thought). */
void hn_thought_splitter_finish(hn_thought_splitter *s);
void hn_thought_splitter_clear(hn_thought_splitter *s);
