/* top_bar_model.c: the top bar's model name, model path and template together (see
 * top_bar_model.h). */
#include "top_bar_model.h"

#include "form_input.h"
#include "known_models.h"

typedef struct {
  GHashTable *inputs;
  GtkWidget *icon, *label;
} Link;

static void
link_free (gpointer data)
{
  Link *link = data;
  g_hash_table_unref (link->inputs);
  g_free (link);
}

static char *
text_of (Link *link, const char *key)
{
  return hone_form_input_get_text (g_hash_table_lookup (link->inputs, key));
}

static void
update_warning (Link *link)
{
  char *name = text_of (link, "model_name");
  char *template = text_of (link, "template");
  char *warning = hone_template_warning (name, template);
  gtk_widget_set_visible (link->icon, warning != NULL);
  gtk_widget_set_visible (link->label, warning != NULL);
  gtk_widget_set_tooltip_text (link->icon, warning);
  gtk_label_set_text (GTK_LABEL (link->label), warning != NULL ? warning : "");
  g_free (warning);
  g_free (template);
  g_free (name);
}

/* upstream's get_model_info: the name's template (Custom leaves it) */
static void
model_name_changed (GObject *input, GParamSpec *pspec, gpointer data)
{
  Link *link = data;
  char *name = text_of (link, "model_name");
  const char *template = hone_known_model_template (name);
  if (template != NULL)
    hone_form_input_set_text (g_hash_table_lookup (link->inputs, "template"), template);
  g_free (name);
  update_warning (link);
}

static void
template_changed (GObject *input, GParamSpec *pspec, gpointer data)
{
  update_warning (data);
}

static void
model_path_changed (GtkEditable *editable, gpointer data)
{
  Link *link = data;
  const char *found = hone_known_model_from_path (gtk_editable_get_text (editable));
  char *name = text_of (link, "model_name");
  if (g_strcmp0 (found, HONE_CUSTOM_MODEL) != 0 && g_strcmp0 (found, name) != 0)
    hone_form_input_set_text (g_hash_table_lookup (link->inputs, "model_name"), found);
  g_free (name);
}

void
hone_top_bar_link_model (GtkWidget *window, GHashTable *inputs, GtkWidget *icon,
                         GtkWidget *label)
{
  Link *link = g_new0 (Link, 1);
  *link = (Link){ g_hash_table_ref (inputs), icon, label };
  g_object_set_data_full (G_OBJECT (window), "hone-top-bar-model", link, link_free);
  g_signal_connect (g_hash_table_lookup (inputs, "model_name"), "notify::selected",
                    G_CALLBACK (model_name_changed), link);
  g_signal_connect (g_hash_table_lookup (inputs, "template"), "notify::selected",
                    G_CALLBACK (template_changed), link);
  g_signal_connect (hone_form_input_editable (g_hash_table_lookup (inputs, "model_name_or_path")),
                    "changed", G_CALLBACK (model_path_changed), link);
  update_warning (link);
}
