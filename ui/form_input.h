/* The input widget of one form field (train_form.h): an entry, a spin button, a drop-down, a
 * switch, a path entry with a picker button or a dataset multi-select, and its value as the
 * text a HoneTrainForm holds. Containers (the top bar, the Train page's rows) place it. */
#pragma once

#include <gtk/gtk.h>

#include "train_form.h"

/* A new input for field (its range and choices from the engine's key table). */
GtkWidget *hone_form_input_new (const HoneFormField *field);
const HoneFormField *hone_form_input_field (GtkWidget *input);

/* The value as text (g_free), and setting it from text (a choice not offered is added). */
char *hone_form_input_get_text (GtkWidget *input);
void hone_form_input_set_text (GtkWidget *input, const char *text);

/* A dataset input's choices: the names the engine reads from DIR/dataset_info.json (the
 * selection keeps the names still offered). Returns false with err set when the file cannot be
 * read; the list is then empty. */
gboolean hone_form_input_set_dataset_dir (GtkWidget *input, const char *dir, const char *stage,
                                          hn_error *err);

/* The text entry of a text, number or path input (for its "changed" signal); NULL otherwise. */
GtkEditable *hone_form_input_editable (GtkWidget *input);

/* Sets every input in inputs (key -> input) to the form's starting values
 * (hone_train_form_init). */
void hone_form_inputs_set_defaults (GHashTable *inputs);
