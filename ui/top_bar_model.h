/* The top bar's model fields working together, as upstream's top.py wires them: choosing a
 * model name sets its template (known_models.h), a model path that is a known model's folder
 * or GGUF file chooses that name, and a warning (an icon by the template, a line under the bar)
 * says when the template does not suit the model (hone_template_warning). */
#pragma once

#include <gtk/gtk.h>

/* inputs: the top bar's inputs by key (form_input.h), kept while window lives; icon and label
 * show the warning (hidden when there is none). */
void hone_top_bar_link_model (GtkWidget *window, GHashTable *inputs, GtkWidget *icon,
                              GtkWidget *label);
