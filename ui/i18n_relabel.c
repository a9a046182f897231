/* i18n_relabel.c: a widget tree into another language (see i18n_relabel.h). */
#include "i18n_relabel.h"

#include <adwaita.h>

typedef const char *(*TextGet) (gpointer widget);
typedef void (*TextSet) (gpointer widget, const char *text);

typedef struct {
  HoneLanguage from, to;
} Switch;

static void
retranslate (gpointer widget, TextGet get, TextSet set, const Switch *sw)
{
  const char *text = get (widget);
  const char *now = hone_i18n_retranslate (text, sw->from, sw->to);
  if (now != NULL && g_strcmp0 (now, text) != 0) {
    char *copy = g_strdup (now); /* set may free text; now lives in the catalog */
    set (widget, copy);
    g_free (copy);
  }
}

static const char *
tooltip_get (gpointer w)
{
  return gtk_widget_get_tooltip_text (w);
}

static void
tooltip_set (gpointer w, const char *text)
{
  gtk_widget_set_tooltip_text (w, text);
}

static const char *
placeholder_get (gpointer w)
{
  return gtk_entry_get_placeholder_text (w);
}

static void
placeholder_set (gpointer w, const char *text)
{
  gtk_entry_set_placeholder_text (w, text);
}

static void
relabel_stack (AdwViewStack *stack, const Switch *sw)
{
  GtkSelectionModel *pages = adw_view_stack_get_pages (stack);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (pages));
  for (guint i = 0; i < n; i++) {
    AdwViewStackPage *page = g_list_model_get_item (G_LIST_MODEL (pages), i);
    retranslate (page, (TextGet) adw_view_stack_page_get_title,
                 (TextSet) adw_view_stack_page_set_title, sw);
    g_object_unref (page);
  }
  g_object_unref (pages);
}

static void
relabel_widget (GtkWidget *w, const Switch *sw)
{
  /* the children first: a button's own label child then gets its new text from the button */
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    relabel_widget (c, sw);
  if (GTK_IS_LABEL (w))
    retranslate (w, (TextGet) gtk_label_get_label, (TextSet) gtk_label_set_label, sw);
  else if (GTK_IS_BUTTON (w) && gtk_button_get_label (GTK_BUTTON (w)) != NULL)
    retranslate (w, (TextGet) gtk_button_get_label, (TextSet) gtk_button_set_label, sw);
  else if (GTK_IS_CHECK_BUTTON (w))
    retranslate (w, (TextGet) gtk_check_button_get_label, (TextSet) gtk_check_button_set_label,
                 sw);
  else if (GTK_IS_ENTRY (w))
    retranslate (w, placeholder_get, placeholder_set, sw);
  else if (GTK_IS_PROGRESS_BAR (w))
    retranslate (w, (TextGet) gtk_progress_bar_get_text, (TextSet) gtk_progress_bar_set_text, sw);
  if (ADW_IS_PREFERENCES_ROW (w))
    retranslate (w, (TextGet) adw_preferences_row_get_title,
                 (TextSet) adw_preferences_row_set_title, sw);
  if (ADW_IS_ACTION_ROW (w))
    retranslate (w, (TextGet) adw_action_row_get_subtitle, (TextSet) adw_action_row_set_subtitle,
                 sw);
  if (ADW_IS_EXPANDER_ROW (w))
    retranslate (w, (TextGet) adw_expander_row_get_subtitle,
                 (TextSet) adw_expander_row_set_subtitle, sw);
  if (ADW_IS_PREFERENCES_GROUP (w)) {
    retranslate (w, (TextGet) adw_preferences_group_get_title,
                 (TextSet) adw_preferences_group_set_title, sw);
    retranslate (w, (TextGet) adw_preferences_group_get_description,
                 (TextSet) adw_preferences_group_set_description, sw);
  }
  if (ADW_IS_VIEW_STACK (w))
    relabel_stack (ADW_VIEW_STACK (w), sw);
  retranslate (w, tooltip_get, tooltip_set, sw);
  gtk_widget_queue_draw (w); /* what draws its own text asks _() again */
}

void
hone_i18n_relabel (GtkWidget *root, HoneLanguage to)
{
  Switch sw = { hone_i18n_language (), to };
  hone_i18n_set_language (to);
  if (sw.from != sw.to)
    relabel_widget (root, &sw);
}
