/* dataset_preview.c: the datasets' rows a page at a time (see dataset_preview.h). */
#include "dataset_preview.h"

#include "i18n.h"

#include "dataset_read.h"

struct _HoneDatasetPreview {
  hn_dataset data;
};

hn_status
hone_dataset_preview_open (const char *dataset_dir, const char *names,
                           const char *identity_name, const char *identity_author,
                           HoneDatasetPreview **out, hn_error *err)
{
  *out = NULL;
  HoneDatasetPreview *p = g_new0 (HoneDatasetPreview, 1);
  hn_dataset_options options;
  hn_dataset_options_init (&options); /* every row */
  hn_status s = hn_dataset_load (dataset_dir, names, &options, &p->data, err);
  if (s != HN_OK) {
    hone_dataset_preview_free (p);
    return s;
  }
  hn_dataset_fill_identity (&p->data,
                            identity_name != NULL && identity_name[0] != '\0' ? identity_name
                                                                              : NULL,
                            identity_author != NULL && identity_author[0] != '\0'
                                ? identity_author : NULL);
  *out = p;
  return HN_OK;
}

void
hone_dataset_preview_free (HoneDatasetPreview *preview)
{
  if (preview == NULL)
    return;
  hn_dataset_clear (&preview->data);
  g_free (preview);
}

size_t
hone_dataset_preview_n_rows (const HoneDatasetPreview *preview)
{
  return preview->data.n_rows;
}

size_t
hone_dataset_preview_n_pages (const HoneDatasetPreview *preview)
{
  size_t n = preview->data.n_rows;
  return n == 0 ? 1 : (n + HONE_PREVIEW_PAGE_SIZE - 1) / HONE_PREVIEW_PAGE_SIZE;
}

static void
append_turn (GString *out, const char *who, const char *text)
{
  g_string_append_printf (out, "%s: %s\n", who, text != NULL ? text : "");
}

char *
hone_dataset_preview_page (const HoneDatasetPreview *preview, size_t page)
{
  GString *out = g_string_new (NULL);
  const hn_dataset *d = &preview->data;
  for (size_t i = page * HONE_PREVIEW_PAGE_SIZE;
       i < d->n_rows && i < (page + 1) * HONE_PREVIEW_PAGE_SIZE; i++) {
    const hn_dataset_row *row = &d->rows[i];
    if (out->len > 0)
      g_string_append_c (out, '\n');
    g_string_append_printf (out, _("Row %zu"), i + 1);
    if (row->broken)
      g_string_append_printf (out, " %s", _("(skipped in training: no prompt or no answer)"));
    g_string_append_c (out, '\n');
    if (row->system != NULL && row->system[0] != '\0')
      append_turn (out, "system", row->system);
    for (size_t m = 0; m < row->n_prompt; m++)
      append_turn (out, hn_chat_role_name (row->prompt[m].role), row->prompt[m].content);
    for (size_t m = 0; m < row->n_response; m++) {
      const char *role = hn_chat_role_name (row->response[m].role);
      if (row->n_response == 2) { /* a ranking row: chosen, then rejected */
        char *who = g_strdup_printf ("%s (%s)", role, m == 0 ? _("chosen") : _("rejected"));
        append_turn (out, who, row->response[m].content);
        g_free (who);
      } else {
        append_turn (out, role, row->response[m].content);
      }
    }
  }
  return g_string_free (out, FALSE);
}

char *
hone_dataset_preview_page_title (const HoneDatasetPreview *preview, size_t page)
{
  size_t n = preview->data.n_rows;
  size_t first = page * HONE_PREVIEW_PAGE_SIZE;
  if (first >= n)
    return g_strdup_printf (_("No rows of %zu"), n);
  size_t last = MIN (n, first + HONE_PREVIEW_PAGE_SIZE);
  return g_strdup_printf (_("Rows %zu-%zu of %zu"), first + 1, last, n);
}
