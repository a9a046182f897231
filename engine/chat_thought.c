/* The streaming thought / answer separation of chat_thought.h, as a small state machine over
 * the text held back. */
#include <string.h>

#include "chat_thought.h"

enum { BEFORE, THOUGHT, ANSWER };

void hn_thought_splitter_init(hn_thought_splitter *s, const char *open, const char *close,
                              hn_thought_piece_fn emit, void *user)
{
    *s = (hn_thought_splitter){.open = g_strdup(open != NULL ? open : ""),
                               .close = g_strdup(close != NULL ? close : ""),
                               .state = BEFORE, .pending = g_string_new(NULL), .emit = emit,
                               .user = user};
    if (s->open[0] == '\0' || s->close[0] == '\0')
        s->state = ANSWER;
}

/* The answer's text: leading whitespace dropped until something else comes. */
static void emit_answer(hn_thought_splitter *s, const char *text, size_t length)
{
    if (!s->answer_started) {
        while (length > 0 && g_ascii_isspace(*text)) {
            text++;
            length--;
        }
        if (length == 0)
            return;
        s->answer_started = true;
    }
    char *copy = g_strndup(text, length);
    s->emit(copy, false, s->user);
    g_free(copy);
}

static void emit_thought(hn_thought_splitter *s, const char *text, size_t length)
{
    if (length == 0)
        return;
    char *copy = g_strndup(text, length);
    s->emit(copy, true, s->user);
    g_free(copy);
}

/* The length of the longest end of text that is a proper start of word. */
static size_t partial_suffix(const char *text, size_t length, const char *word)
{
    size_t w = strlen(word);
    for (size_t k = MIN(length, w - 1); k > 0; k--)
        if (memcmp(text + length - k, word, k) == 0)
            return k;
    return 0;
}

static void process(hn_thought_splitter *s)
{
    GString *p = s->pending;
    if (s->state == BEFORE) {
        size_t skip = 0;
        while (skip < p->len && g_ascii_isspace(p->str[skip]))
            skip++;
        size_t rest = p->len - skip, open = strlen(s->open);
        if (rest >= open && memcmp(p->str + skip, s->open, open) == 0) {
            g_string_erase(p, 0, (gssize)(skip + open));
            s->state = THOUGHT;
        } else if (rest < open && memcmp(p->str + skip, s->open, rest) == 0) {
            return; /* perhaps the open word, not whole yet */
        } else {
            s->state = ANSWER;
        }
    }
    if (s->state == THOUGHT) {
        const char *end = strstr(p->str, s->close);
        if (end == NULL) {
            size_t keep = partial_suffix(p->str, p->len, s->close);
            emit_thought(s, p->str, p->len - keep);
            g_string_erase(p, 0, (gssize)(p->len - keep));
            return;
        }
        emit_thought(s, p->str, (size_t)(end - p->str));
        g_string_erase(p, 0, (gssize)(end - p->str + (gssize)strlen(s->close)));
        s->state = ANSWER;
    }
    emit_answer(s, p->str, p->len);
    g_string_truncate(p, 0);
}

void hn_thought_splitter_feed(hn_thought_splitter *s, const char *text)
{
    g_string_append(s->pending, text);
    process(s);
}

void hn_thought_splitter_finish(hn_thought_splitter *s)
{
    if (s->state == THOUGHT)
        emit_thought(s, s->pending->str, s->pending->len);
    else
        emit_answer(s, s->pending->str, s->pending->len);
    g_string_truncate(s->pending, 0);
}

void hn_thought_splitter_clear(hn_thought_splitter *s)
{
    g_string_free(s->pending, TRUE);
    g_free(s->open);
    g_free(s->close);
    *s = (hn_thought_splitter){0};
}
