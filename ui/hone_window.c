/* hone_window.c: the main window (see hone_window.h); its frame is resources/window.ui. */
#include "hone_window.h"
#include "i18n.h"
#include "i18n_relabel.h"

#include "app_settings.h"
#include "chat_page.h"
#include "checkpoint_menu.h"
#include "eval_page.h"
#include "export_page.h"
#include "form_input.h"
#include "top_bar_model.h"
#include "train_form.h"
#include "train_page.h"

#include <string.h>

struct _HoneWindow {
  AdwApplicationWindow parent_instance;
  GtkWidget *top_bar;
  AdwViewStack *stack;
  GHashTable *top_inputs; /* key -> input */
  GtkWidget *template_warning_icon, *template_warning; /* top_bar_model.h */
  GtkWidget *train_page;
  GtkWidget *chat_page;
  GtkWidget *eval_page;
  GtkWidget *export_page;
  GtkWidget *language; /* the top bar's language switch */
};

G_DEFINE_FINAL_TYPE (HoneWindow, hone_window, ADW_TYPE_APPLICATION_WINDOW)

AdwViewStack *
hone_window_stack (HoneWindow *self)
{
  return self->stack;
}

GtkWidget *
hone_window_train_page (HoneWindow *self)
{
  return self->train_page;
}

GtkWidget *
hone_window_chat_page (HoneWindow *self)
{
  return self->chat_page;
}

GtkWidget *
hone_window_eval_page (HoneWindow *self)
{
  return self->eval_page;
}

const char *
hone_window_template_warning (HoneWindow *self)
{
  return gtk_widget_get_visible (self->template_warning)
             ? gtk_label_get_text (GTK_LABEL (self->template_warning)) : "";
}

GtkWidget *
hone_window_export_page (HoneWindow *self)
{
  return self->export_page;
}

/* The top bar: a caption over each top field's input, the paths taking the spare width. */
static void
build_top_bar (HoneWindow *self)
{
  size_t n = 0;
  const HoneFormField *fields = hone_train_form_fields (&n);
  int column = 0;
  for (size_t i = 0; i < n; i++) {
    if (fields[i].group != HONE_GROUP_TOP)
      continue;
    GtkWidget *caption = gtk_label_new (_ (fields[i].label));
    gtk_label_set_xalign (GTK_LABEL (caption), 0);
    gtk_widget_add_css_class (caption, "caption");
    GtkWidget *input = hone_form_input_new (&fields[i]);
    gtk_widget_set_hexpand (input, fields[i].kind == HONE_FIELD_PATH);
    gtk_widget_set_tooltip_text (input, fields[i].key);
    GtkWidget *cell = input;
    if (strcmp (fields[i].key, "adapter_name_or_path") == 0) {
      hone_checkpoint_menu_attach (input, self->top_inputs); /* earlier runs */
    } else if (strcmp (fields[i].key, "template") == 0) { /* the template's warning icon */
      cell = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
      self->template_warning_icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
      gtk_widget_add_css_class (self->template_warning_icon, "warning");
      gtk_box_append (GTK_BOX (cell), input);
      gtk_box_append (GTK_BOX (cell), self->template_warning_icon);
    }
    gtk_grid_attach (GTK_GRID (self->top_bar), caption, column, 0, 1, 1);
    gtk_grid_attach (GTK_GRID (self->top_bar), cell, column, 1, 1, 1);
    g_hash_table_insert (self->top_inputs, (gpointer) fields[i].key, input);
    column++;
  }
  hone_form_inputs_set_defaults (self->top_inputs);
  /* the template's warning in words, under the bar */
  self->template_warning = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->template_warning), 0);
  gtk_label_set_wrap (GTK_LABEL (self->template_warning), TRUE);
  gtk_widget_add_css_class (self->template_warning, "warning");
  gtk_grid_attach (GTK_GRID (self->top_bar), self->template_warning, 0, 2, column, 1);
  hone_top_bar_link_model (GTK_WIDGET (self), self->top_inputs, self->template_warning_icon,
                           self->template_warning);
}

/* The language switch at the top bar's end (LLaMA-Factory's top row starts with one): relabels
 * the window in place (i18n_relabel.c), so typed values and running jobs stay, and is
 * remembered in GSettings' "language". */
static void
language_chosen (GObject *choice, GParamSpec *pspec, gpointer data)
{
  guint lang = gtk_drop_down_get_selected (GTK_DROP_DOWN (choice));
  if (lang >= HONE_LANG_COUNT || lang == hone_i18n_language ())
    return;
  hone_i18n_relabel (GTK_WIDGET (data), (HoneLanguage) lang);
  GSettings *settings = hone_app_settings ();
  if (settings != NULL)
    g_settings_set_string (settings, "language", hone_language_code ((HoneLanguage) lang));
}

static void
add_language_switch (HoneWindow *self)
{
  int column = 0; /* the first free column, after the top bar's fields */
  for (GtkWidget *c = gtk_widget_get_first_child (self->top_bar); c != NULL;
       c = gtk_widget_get_next_sibling (c)) {
    int left = 0, width = 0;
    gtk_grid_query_child (GTK_GRID (self->top_bar), c, &left, NULL, &width, NULL);
    column = MAX (column, left + width);
  }
  GtkWidget *caption = gtk_label_new (_ ("Language"));
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_widget_add_css_class (caption, "caption");
  const char *names[HONE_LANG_COUNT + 1] = { NULL };
  for (int i = 0; i < HONE_LANG_COUNT; i++)
    names[i] = hone_language_name ((HoneLanguage) i);
  self->language = gtk_drop_down_new_from_strings (names);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->language), hone_i18n_language ());
  g_signal_connect (self->language, "notify::selected", G_CALLBACK (language_chosen), self);
  gtk_grid_attach (GTK_GRID (self->top_bar), caption, column, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (self->top_bar), self->language, column, 1, 1, 1);
}

void
hone_window_set_language (HoneWindow *self, HoneLanguage lang)
{
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->language), lang);
}

static void
add_page (HoneWindow *self, GtkWidget *child, const char *name, const char *title,
          const char *icon)
{
  AdwViewStackPage *page = adw_view_stack_add_titled (self->stack, child, name, title);
  adw_view_stack_page_set_icon_name (page, icon);
}

/* The size the window had, for the next start (GNOME's way: saved on close). */
static gboolean
save_window_state (GtkWindow *window, gpointer data)
{
  GSettings *settings = hone_app_settings ();
  if (settings != NULL) {
    int width = 0, height = 0;
    gtk_window_get_default_size (window, &width, &height);
    g_settings_set_int (settings, "window-width", width);
    g_settings_set_int (settings, "window-height", height);
    g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (window));
  }
  return FALSE; /* let it close */
}

static void
restore_window_state (HoneWindow *self)
{
  GSettings *settings = hone_app_settings ();
  if (settings == NULL)
    return;
  gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (settings, "window-width"),
                               g_settings_get_int (settings, "window-height"));
  if (g_settings_get_boolean (settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
hone_window_dispose (GObject *object)
{
  HoneWindow *self = HONE_WINDOW (object);
  g_clear_pointer (&self->top_inputs, g_hash_table_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), HONE_TYPE_WINDOW);
  G_OBJECT_CLASS (hone_window_parent_class)->dispose (object);
}

static void
hone_window_class_init (HoneWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = hone_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hone/Hone/window.ui");
  gtk_widget_class_bind_template_child (widget_class, HoneWindow, top_bar);
  gtk_widget_class_bind_template_child (widget_class, HoneWindow, stack);
}

static void
hone_window_init (HoneWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  restore_window_state (self);
  g_signal_connect (self, "close-request", G_CALLBACK (save_window_state), NULL);
  self->top_inputs = g_hash_table_new (g_str_hash, g_str_equal);
  build_top_bar (self);
  add_language_switch (self);
  self->train_page = hone_train_page_new (self->top_inputs);
  add_page (self, self->train_page, "train", _ ("Train"), "applications-science-symbolic");
  self->eval_page = hone_eval_page_new (self->top_inputs);
  add_page (self, self->eval_page, "evaluate", _ ("Evaluate"), "emblem-ok-symbolic");
  self->chat_page = hone_chat_page_new (self->top_inputs);
  add_page (self, self->chat_page, "chat", _ ("Chat"), "chat-message-new-symbolic");
  self->export_page = hone_export_page_new (self->top_inputs);
  add_page (self, self->export_page, "export", _ ("Export"), "document-save-symbolic");
}

GtkWidget *
hone_window_new (AdwApplication *app)
{
  return g_object_new (HONE_TYPE_WINDOW, "application", app, NULL);
}
