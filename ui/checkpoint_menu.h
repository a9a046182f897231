/* The checkpoint path's list of earlier runs (upstream's list_checkpoints): a menu button
 * joined to the top bar's checkpoint input that, each time it opens, lists the finished runs
 * of the top bar's model and finetuning method under saves/MODEL/METHOD/ (saved_runs.h).
 * Choosing one puts its folder in the path: with LoRA adapters stack, so a check adds or
 * removes it in the comma list; full and freeze take one. */
#pragma once

#include <gtk/gtk.h>

/* checkpoint_input: the top bar's adapter_name_or_path input; inputs: the top bar's by key. */
void hone_checkpoint_menu_attach (GtkWidget *checkpoint_input, GHashTable *inputs);

/* The runs the menu lists now (refreshed; NULL-terminated, g_strfreev), and choosing the
 * index-th as a click would: for tests. */
char **hone_checkpoint_menu_runs (GtkWidget *checkpoint_input);
void hone_checkpoint_menu_choose (GtkWidget *checkpoint_input, guint index);
