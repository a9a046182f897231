/* dataset_preview_dialog.c: the dataset preview window (see dataset_preview_dialog.h). */
#include "dataset_preview_dialog.h"

#include <adwaita.h>
#include "i18n.h"

#include "dataset_preview.h"

typedef struct {
  HoneDatasetPreview *preview; /* NULL when the datasets could not be read */
  size_t page;
  GtkWidget *title, *prev, *next;
  GtkTextBuffer *text;
} Preview;

#define PREVIEW_KEY "hone-preview"

static void
preview_free (gpointer data)
{
  Preview *p = data;
  hone_dataset_preview_free (p->preview);
  g_free (p);
}

static void
show_page (Preview *p)
{
  char *title = hone_dataset_preview_page_title (p->preview, p->page);
  char *text = hone_dataset_preview_page (p->preview, p->page);
  gtk_label_set_text (GTK_LABEL (p->title), title);
  gtk_text_buffer_set_text (p->text, text, -1);
  gtk_widget_set_sensitive (p->prev, p->page > 0);
  gtk_widget_set_sensitive (p->next, p->page + 1 < hone_dataset_preview_n_pages (p->preview));
  g_free (text);
  g_free (title);
}

static void
prev_clicked (GtkButton *button, gpointer data)
{
  Preview *p = data;
  if (p->page > 0) {
    p->page--;
    show_page (p);
  }
}

gboolean
hone_dataset_preview_dialog_next (GtkWidget *dialog)
{
  Preview *p = g_object_get_data (G_OBJECT (dialog), PREVIEW_KEY);
  if (p->preview == NULL || p->page + 1 >= hone_dataset_preview_n_pages (p->preview))
    return FALSE;
  p->page++;
  show_page (p);
  return TRUE;
}

static void
next_clicked (GtkButton *button, gpointer data)
{
  hone_dataset_preview_dialog_next (data);
}

GtkWidget *
hone_dataset_preview_dialog_new (GtkWindow *parent, const char *dataset_dir, const char *names,
                                 const char *identity_name, const char *identity_author)
{
  Preview *p = g_new0 (Preview, 1);
  GtkWidget *window = adw_window_new ();
  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (window), 720, 560);
  char *heading = g_strdup_printf (_("Preview of %s"), names);
  gtk_window_set_title (GTK_WINDOW (window), heading);
  g_object_set_data_full (G_OBJECT (window), PREVIEW_KEY, p, preview_free);

  GtkWidget *header = adw_header_bar_new ();
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new (heading, NULL));
  p->prev = gtk_button_new_from_icon_name ("go-previous-symbolic");
  gtk_widget_set_tooltip_text (p->prev, _("Previous rows"));
  p->next = gtk_button_new_from_icon_name ("go-next-symbolic");
  gtk_widget_set_tooltip_text (p->next, _("Next rows"));
  g_signal_connect (p->prev, "clicked", G_CALLBACK (prev_clicked), p);
  g_signal_connect (p->next, "clicked", G_CALLBACK (next_clicked), window);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), p->prev);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), p->next);

  p->title = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (p->title), 0);
  gtk_widget_add_css_class (p->title, "heading");
  GtkWidget *view = gtk_text_view_new ();
  p->text = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));
  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (view, "log-view");
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), view);
  gtk_widget_set_vexpand (scroll, TRUE);
  gtk_widget_add_css_class (scroll, "card");
  GtkWidget *body = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (body, 12);
  gtk_widget_set_margin_bottom (body, 12);
  gtk_widget_set_margin_start (body, 12);
  gtk_widget_set_margin_end (body, 12);
  gtk_box_append (GTK_BOX (body), p->title);
  gtk_box_append (GTK_BOX (body), scroll);
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (content), header);
  gtk_box_append (GTK_BOX (content), body);
  adw_window_set_content (ADW_WINDOW (window), content);

  hn_error err = { 0 };
  if (names == NULL || names[0] == '\0') {
    gtk_label_set_text (GTK_LABEL (p->title), _("No dataset chosen"));
    gtk_text_buffer_set_text (p->text, _("Choose one or more datasets first."), -1);
  } else if (hone_dataset_preview_open (dataset_dir, names, identity_name, identity_author,
                                        &p->preview, &err) != HN_OK) {
    gtk_label_set_text (GTK_LABEL (p->title), _("The datasets cannot be read"));
    gtk_text_buffer_set_text (p->text, err.message, -1);
  }
  if (p->preview != NULL) {
    show_page (p);
  } else {
    gtk_widget_set_sensitive (p->prev, FALSE);
    gtk_widget_set_sensitive (p->next, FALSE);
  }
  g_free (heading);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

const char *
hone_dataset_preview_dialog_title (GtkWidget *dialog)
{
  Preview *p = g_object_get_data (G_OBJECT (dialog), PREVIEW_KEY);
  return gtk_label_get_text (GTK_LABEL (p->title));
}

char *
hone_dataset_preview_dialog_text (GtkWidget *dialog)
{
  Preview *p = g_object_get_data (G_OBJECT (dialog), PREVIEW_KEY);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds (p->text, &start, &end);
  return gtk_text_buffer_get_text (p->text, &start, &end, FALSE);
}
