/* Filling in identity.json's placeholders: {{name}} and {{author}} in the rows' texts become
 * the model's name and author (LLaMA-Factory's users replace them by hand or with sed). */
#include <string.h>

#include "dataset_read.h"

/* text with every {{name}} / {{author}} replaced, or text itself when it has none. */
static const char *fill(GStringChunk *chunk, const char *text, const char *name,
                        const char *author)
{
    if (text == NULL || strstr(text, "{{") == NULL)
        return text;
    GString *out = g_string_new(NULL);
    for (const char *p = text; *p != '\0';) {
        if (name != NULL && g_str_has_prefix(p, "{{name}}")) {
            g_string_append(out, name);
            p += strlen("{{name}}");
        } else if (author != NULL && g_str_has_prefix(p, "{{author}}")) {
            g_string_append(out, author);
            p += strlen("{{author}}");
        } else {
            g_string_append_c(out, *p++);
        }
    }
    const char *filled = g_string_chunk_insert_len(chunk, out->str, (gssize)out->len);
    g_string_free(out, TRUE);
    return filled;
}

static void fill_messages(GStringChunk *chunk, hn_chat_message *messages, size_t n,
                          const char *name, const char *author)
{
    for (size_t i = 0; i < n; i++)
        messages[i].content = fill(chunk, messages[i].content, name, author);
}

void hn_dataset_fill_identity(hn_dataset *dataset, const char *name, const char *author)
{
    for (size_t i = 0; i < dataset->n_rows; i++) {
        hn_dataset_row *row = &dataset->rows[i];
        fill_messages(dataset->text, row->prompt, row->n_prompt, name, author);
        fill_messages(dataset->text, row->response, row->n_response, name, author);
        row->system = fill(dataset->text, row->system, name, author);
    }
}
