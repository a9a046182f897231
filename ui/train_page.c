/* train_page.c: the Train page (see train_page.h). Laid out as LLaMA-Factory's Train tab: the
 * main rows, expanders for the extra, freeze and LoRA settings, the output folder, the buttons,
 * then the progress, the loss chart and the log. */
#include "train_page.h"
#include "i18n.h"

#include <adwaita.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dataset_preview_dialog.h"
#include "file_picker.h"
#include "form_input.h"
#include "loss_chart.h"
#include "saved_runs.h"
#include "train_form.h"
#include "train_run.h"

struct _HoneTrainPage {
  GtkWidget parent_instance;
  GtkWidget *scroll;
  GHashTable *top_inputs; /* key -> input, the window's */
  GHashTable *inputs;     /* key -> input, this page's */
  GtkWidget *dataset_row;
  GtkWidget *preview_button, *save_button, *load_button, *start_button, *abort_button;
  GtkWidget *progress, *chart;
  GtkTextBuffer *log;
  GtkWidget *log_view;
  HoneTrainRun *run;
  char *run_output_text; /* the running run's output_dir as the field had it */
  char *renewed_text;    /* and the fresh name Start put in the field */
};

G_DEFINE_FINAL_TYPE (HoneTrainPage, hone_train_page, GTK_TYPE_WIDGET)

GtkWidget *
hone_train_page_input (HoneTrainPage *self, const char *key)
{
  GtkWidget *input = g_hash_table_lookup (self->inputs, key);
  return input != NULL ? input : g_hash_table_lookup (self->top_inputs, key);
}

GtkWidget *
hone_train_page_chart (HoneTrainPage *self)
{
  return self->chart;
}

GtkWidget *
hone_train_page_start_button (HoneTrainPage *self)
{
  return self->start_button;
}

gboolean
hone_train_page_running (HoneTrainPage *self)
{
  return self->run != NULL;
}

/* ---- log ---- */

static void
log_append (HoneTrainPage *self, const char *text)
{
  GtkTextIter end;
  gtk_text_buffer_get_end_iter (self->log, &end);
  gtk_text_buffer_insert (self->log, &end, text, -1);
  gtk_text_buffer_get_end_iter (self->log, &end);
  gtk_text_buffer_insert (self->log, &end, "\n", 1);
  GtkTextMark *mark = gtk_text_buffer_get_insert (self->log);
  gtk_text_buffer_get_end_iter (self->log, &end);
  gtk_text_buffer_place_cursor (self->log, &end);
  gtk_text_view_scroll_mark_onscreen (GTK_TEXT_VIEW (self->log_view), mark);
}

static void
log_set (HoneTrainPage *self, const char *text)
{
  gtk_text_buffer_set_text (self->log, "", 0);
  log_append (self, text);
}

/* ---- form ---- */

/* The form from every input (top bar and page). */
static void
read_form (HoneTrainPage *self, HoneTrainForm *form)
{
  GDateTime *now = g_date_time_new_now_local ();
  hone_train_form_init (form, NULL, now);
  g_date_time_unref (now);
  size_t n = 0;
  const HoneFormField *fields = hone_train_form_fields (&n);
  for (size_t i = 0; i < n; i++) {
    GtkWidget *input = hone_train_page_input (self, fields[i].key);
    if (input == NULL)
      continue;
    char *text = hone_form_input_get_text (input);
    hone_train_form_set (form, fields[i].key, text);
    g_free (text);
  }
}

/* The checked arguments of the form, or FALSE with err set. */
static gboolean
form_args (HoneTrainPage *self, hn_train_args *args, char **output, hn_error *err)
{
  HoneTrainForm form;
  read_form (self, &form);
  hn_train_args_init (args);
  gboolean ok = hone_train_form_to_args (&form, args, err) == HN_OK &&
                hn_train_args_check (args, err) == HN_OK;
  *output = ok ? g_strdup (args->output_dir) : NULL;
  hone_train_form_clear (&form);
  if (!ok)
    hn_train_args_clear (args);
  return ok;
}

char *
hone_train_page_preview (HoneTrainPage *self)
{
  hn_train_args args;
  char *output = NULL;
  hn_error err = { 0 };
  if (!form_args (self, &args, &output, &err))
    return g_strdup_printf (_ ("Error: %s"), err.message);
  char *yaml = hn_train_args_to_yaml (&args);
  char *config = g_build_filename (output, "training_args.yaml", NULL);
  char *quoted = g_shell_quote (config);
  char *text = g_strdup_printf ("hone train %s\n\n# %s\n%s", quoted, config, yaml);
  g_free (quoted);
  g_free (config);
  g_free (yaml);
  g_free (output);
  hn_train_args_clear (&args);
  return text;
}

static void
preview_clicked (GtkButton *button, gpointer data)
{
  HoneTrainPage *self = data;
  char *text = hone_train_page_preview (self);
  log_set (self, text);
  g_free (text);
}

void
hone_train_page_show_preview (HoneTrainPage *self)
{
  preview_clicked (NULL, self);
}

void
hone_train_page_scroll_to_end (HoneTrainPage *self)
{
  GtkAdjustment *v = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroll));
  gtk_adjustment_set_value (v, gtk_adjustment_get_upper (v) - gtk_adjustment_get_page_size (v));
}

/* ---- save and load ---- */

static void
save_chosen (GFile *file, gpointer data)
{
  HoneTrainPage *self = data;
  char *path = file != NULL ? g_file_get_path (file) : NULL;
  if (path != NULL) {
    HoneTrainForm form;
    read_form (self, &form);
    hn_error err = { 0 };
    char *text = hone_train_form_save (&form, path, &err) == HN_OK
                     ? g_strdup_printf (_ ("Saved the arguments to %s"), path)
                     : g_strdup_printf (_ ("Not saved: %s"), err.message);
    log_set (self, text);
    g_free (text);
    hone_train_form_clear (&form);
  }
  g_free (path);
  g_object_unref (self);
}

static void
save_clicked (GtkButton *button, gpointer data)
{
  hone_pick_file (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (data))), HONE_PICK_SAVE,
                  _ ("Save arguments"), NULL, "training_args.yaml", save_chosen,
                  g_object_ref (data));
}

/* Every input (top bar and page) from the form. */
static void
write_form (HoneTrainPage *self, const HoneTrainForm *form)
{
  size_t n = 0;
  const HoneFormField *fields = hone_train_form_fields (&n);
  /* the data folder first, so that the dataset list offers the loaded names */
  hone_form_input_set_text (hone_train_page_input (self, "dataset_dir"),
                            hone_train_form_get (form, "dataset_dir"));
  for (size_t i = 0; i < n; i++) {
    GtkWidget *input = hone_train_page_input (self, fields[i].key);
    if (input != NULL)
      hone_form_input_set_text (input, form->values[i]);
  }
}

static void
load_chosen (GFile *file, gpointer data)
{
  HoneTrainPage *self = data;
  char *path = file != NULL ? g_file_get_path (file) : NULL;
  if (path != NULL) {
    HoneTrainForm form;
    read_form (self, &form);
    hn_error err = { 0 };
    char **ignored = NULL;
    if (hone_train_form_load (&form, path, &ignored, &err) == HN_OK) {
      write_form (self, &form);
      char *list = g_strjoinv (", ", ignored);
      char *text = ignored[0] != NULL
                       ? g_strdup_printf (_ ("Loaded the arguments of %s. Keys Hone does not "
                                             "use: %s"), path, list)
                       : g_strdup_printf (_ ("Loaded the arguments of %s"), path);
      log_set (self, text);
      g_free (text);
      g_free (list);
      g_strfreev (ignored);
    } else {
      char *text = g_strdup_printf (_ ("Not loaded: %s"), err.message);
      log_set (self, text);
      g_free (text);
    }
    hone_train_form_clear (&form);
  }
  g_free (path);
  g_object_unref (self);
}

static void
load_clicked (GtkButton *button, gpointer data)
{
  hone_pick_file (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (data))), HONE_PICK_OPEN,
                  _ ("Load arguments"), NULL, NULL, load_chosen, g_object_ref (data));
}

/* ---- a run ---- */

/* Start says "Resume from checkpoint-N" when the output folder holds one: the trainer then
 * resumes from it (saved_runs.h). */
static void
update_start_label (HoneTrainPage *self)
{
  HoneTrainForm form;
  read_form (self, &form);
  char *out = hone_train_form_output_path (&form);
  char *label = hone_saved_run_start_label (out);
  gtk_button_set_label (GTK_BUTTON (self->start_button), label);
  g_free (label);
  g_free (out);
  hone_train_form_clear (&form);
}

const char *
hone_train_page_start_label (HoneTrainPage *self)
{
  return gtk_button_get_label (GTK_BUTTON (self->start_button));
}

static void
output_changed (GtkEditable *editable, gpointer data)
{
  update_start_label (data);
}

static void
method_changed (GObject *input, GParamSpec *pspec, gpointer data)
{
  update_start_label (data);
}

static void
set_running (HoneTrainPage *self, gboolean running)
{
  gtk_widget_set_sensitive (self->start_button, !running);
  gtk_widget_set_sensitive (self->preview_button, !running);
  gtk_widget_set_sensitive (self->load_button, !running);
  gtk_widget_set_sensitive (self->abort_button, running);
}

static void
run_output (const char *line, gpointer data)
{
  log_append (data, line);
}

static void
run_log (const HoneTrainLogLine *line, gpointer data)
{
  HoneTrainPage *self = data;
  if (isfinite (line->loss))
    hone_loss_chart_add_loss (HONE_LOSS_CHART (self->chart), (double) line->step, line->loss);
  if (isfinite (line->eval_loss))
    hone_loss_chart_add_eval (HONE_LOSS_CHART (self->chart), (double) line->step,
                              line->eval_loss);
  char *text = hone_train_progress_text (line);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), text);
  g_free (text);
  if (line->total_steps > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress),
                                   CLAMP ((double) line->step / (double) line->total_steps, 0, 1));
}

static gboolean
free_run_idle (gpointer data)
{
  hone_train_run_free (data);
  return G_SOURCE_REMOVE;
}

static void
run_finished (gboolean success, const char *message, gpointer data)
{
  HoneTrainPage *self = data;
  log_append (self, message);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), message);
  if (success)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 1);
  g_idle_add (free_run_idle, self->run); /* not from inside its own callback */
  self->run = NULL;
  set_running (self, FALSE);
  /* an interrupted run: its folder back in the field, so that Start resumes it */
  GtkWidget *output = hone_train_page_input (self, "output_dir");
  char *now = hone_form_input_get_text (output);
  if (!success && self->renewed_text != NULL && strcmp (now, self->renewed_text) == 0) {
    hone_form_input_set_text (output, self->run_output_text);
    HoneTrainForm form;
    read_form (self, &form);
    char *path = hone_train_form_output_path (&form);
    if (hone_saved_run_resume_step (path) < 0) /* nothing to resume: the fresh name again */
      hone_form_input_set_text (output, self->renewed_text);
    g_free (path);
    hone_train_form_clear (&form);
  }
  g_free (now);
  g_clear_pointer (&self->run_output_text, g_free);
  g_clear_pointer (&self->renewed_text, g_free);
  update_start_label (self);
}

/* A fresh output name for the next run, as upstream's page does after each start. */
static void
renew_output_name (HoneTrainPage *self)
{
  GtkWidget *input = hone_train_page_input (self, "output_dir");
  char *current = hone_form_input_get_text (input);
  if (g_str_has_prefix (current, "train_") && strchr (current, G_DIR_SEPARATOR) == NULL) {
    GDateTime *now = g_date_time_new_now_local ();
    char *name = hone_train_form_output_name (now);
    hone_form_input_set_text (input, name);
    g_free (name);
    g_date_time_unref (now);
  }
  g_free (current);
}

gboolean
hone_train_page_start (HoneTrainPage *self)
{
  if (self->run != NULL)
    return FALSE;
  hn_train_args args;
  char *output = NULL;
  hn_error err = { 0 };
  if (!form_args (self, &args, &output, &err)) {
    log_set (self, err.message);
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Not started: see the log"));
    return FALSE;
  }
  char *yaml = hn_train_args_to_yaml (&args);
  hn_train_args_clear (&args);
  char *config = g_build_filename (output, "training_args.yaml", NULL);
  GError *error = NULL;
  gboolean ok = g_mkdir_with_parents (output, 0755) == 0;
  if (!ok)
    error = g_error_new (G_FILE_ERROR, g_file_error_from_errno (errno),
                         "cannot create the output folder %s: %s", output, g_strerror (errno));
  ok = ok && g_file_set_contents (config, yaml, -1, &error);
  static const HoneTrainRunCallbacks callbacks = { run_output, run_log, run_finished };
  if (ok) {
    hone_loss_chart_clear (HONE_LOSS_CHART (self->chart));
    char *quoted = g_shell_quote (config);
    char *command = g_strdup_printf ("hone train %s", quoted);
    log_set (self, command);
    g_free (command);
    g_free (quoted);
    self->run = hone_train_run_start (g_getenv ("HONE_GUI_TRAIN_EXE"), config, output,
                                      &callbacks, self, &error);
    ok = self->run != NULL;
  }
  if (ok) {
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Starting..."));
    set_running (self, TRUE);
    GtkWidget *output_input = hone_train_page_input (self, "output_dir");
    g_free (self->run_output_text);
    self->run_output_text = hone_form_input_get_text (output_input);
    renew_output_name (self);
    g_free (self->renewed_text);
    self->renewed_text = hone_form_input_get_text (output_input);
  } else {
    log_append (self, error->message);
    g_error_free (error);
  }
  g_free (config);
  g_free (yaml);
  g_free (output);
  return ok;
}

static void
start_clicked (GtkButton *button, gpointer data)
{
  hone_train_page_start (data);
}

static void
abort_clicked (GtkButton *button, gpointer data)
{
  HoneTrainPage *self = data;
  if (self->run != NULL) {
    log_append (self, _ ("Aborting: hone train saves a checkpoint and stops..."));
    hone_train_run_abort (self->run);
  }
}

/* ---- layout ---- */

static void
refresh_datasets (HoneTrainPage *self)
{
  GtkWidget *dir_input = hone_train_page_input (self, "dataset_dir");
  GtkWidget *datasets = hone_train_page_input (self, "dataset");
  char *dir = hone_form_input_get_text (dir_input);
  char *stage = hone_form_input_get_text (hone_train_page_input (self, "stage"));
  hn_error err = { 0 };
  if (hone_form_input_set_dataset_dir (datasets, dir, stage, &err))
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->dataset_row), NULL);
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->dataset_row), err.message);
  g_free (stage);
  g_free (dir);
}

GtkWidget *
hone_train_page_preview_datasets (HoneTrainPage *self)
{
  HoneTrainForm form;
  read_form (self, &form);
  GtkWidget *dialog = hone_dataset_preview_dialog_new (
      GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
      hone_train_form_get (&form, "dataset_dir"), hone_train_form_get (&form, "dataset"),
      hone_train_form_get (&form, "identity_name"), hone_train_form_get (&form, "identity_author"));
  hone_train_form_clear (&form);
  return dialog;
}

static void
preview_datasets_clicked (GtkButton *button, gpointer data)
{
  hone_train_page_preview_datasets (data);
}

static void
dataset_dir_changed (GtkEditable *editable, gpointer data)
{
  refresh_datasets (data);
}

/* rm and dpo list the ranking datasets, the other stages the rest */
static void
stage_changed (GObject *input, GParamSpec *pspec, gpointer data)
{
  refresh_datasets (data);
}

/* A row for field: its label as title, the input at the end. */
static GtkWidget *
field_row (HoneTrainPage *self, const HoneFormField *field)
{
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ (field->label));
  gtk_widget_set_tooltip_text (row, field->key);
  GtkWidget *input = hone_form_input_new (field);
  if (field->kind == HONE_FIELD_PATH || field->kind == HONE_FIELD_TEXT)
    gtk_widget_set_hexpand (input, TRUE);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), input);
  if (field->kind == HONE_FIELD_SWITCH)
    adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), input);
  g_hash_table_insert (self->inputs, (gpointer) field->key, input);
  return row;
}

static GtkWidget *
button (const char *label, const char *style, GCallback clicked, gpointer data)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  if (style != NULL)
    gtk_widget_add_css_class (b, style);
  g_signal_connect (b, "clicked", clicked, data);
  return b;
}

static void
build (HoneTrainPage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  size_t n = 0;
  const HoneFormField *fields = hone_train_form_fields (&n);
  GtkWidget *groups[HONE_GROUP_COUNT] = { NULL };
  GtkWidget *expanders = adw_preferences_group_new ();
  for (size_t i = 0; i < n; i++) {
    HoneFieldGroup g = fields[i].group;
    if (g == HONE_GROUP_TOP)
      continue; /* the window's top bar */
    GtkWidget *row = field_row (self, &fields[i]);
    if (strcmp (fields[i].key, "dataset") == 0) { /* upstream's Preview dataset button */
      self->dataset_row = row;
      GtkWidget *preview = gtk_button_new_with_label (_("Preview"));
      gtk_widget_set_valign (preview, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (preview, _("The chosen datasets' rows, as training reads them"));
      g_signal_connect (preview, "clicked", G_CALLBACK (preview_datasets_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), preview);
    }
    if (groups[g] == NULL) {
      if (g == HONE_GROUP_MAIN || g == HONE_GROUP_OUTPUT) {
        groups[g] = adw_preferences_group_new ();
        adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (groups[g]),
                                         _ (hone_train_form_group_title (g)));
      } else {
        groups[g] = adw_expander_row_new ();
        adw_preferences_row_set_title (ADW_PREFERENCES_ROW (groups[g]),
                                       _ (hone_train_form_group_title (g)));
        adw_preferences_group_add (ADW_PREFERENCES_GROUP (expanders), groups[g]);
      }
    }
    if (ADW_IS_EXPANDER_ROW (groups[g]))
      adw_expander_row_add_row (ADW_EXPANDER_ROW (groups[g]), row);
    else
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (groups[g]), row);
  }
  gtk_box_append (GTK_BOX (box), groups[HONE_GROUP_MAIN]);
  gtk_box_append (GTK_BOX (box), expanders);
  gtk_box_append (GTK_BOX (box), groups[HONE_GROUP_OUTPUT]);

  /* the arguments' buttons over the run's, so that a narrow window still fits them */
  GtkWidget *args_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *run_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_halign (args_row, GTK_ALIGN_CENTER);
  gtk_widget_set_halign (run_row, GTK_ALIGN_CENTER);
  self->preview_button = button (_ ("_Preview command"), NULL, G_CALLBACK (preview_clicked), self);
  self->save_button = button (_ ("Sa_ve arguments"), NULL, G_CALLBACK (save_clicked), self);
  self->load_button = button (_ ("_Load arguments"), NULL, G_CALLBACK (load_clicked), self);
  self->start_button = button (_ ("_Start"), "suggested-action", G_CALLBACK (start_clicked), self);
  self->abort_button =
      button (_ ("_Abort"), "destructive-action", G_CALLBACK (abort_clicked), self);
  gtk_widget_add_css_class (self->start_button, "pill");
  gtk_widget_add_css_class (self->abort_button, "pill");
  gtk_box_append (GTK_BOX (args_row), self->preview_button);
  gtk_box_append (GTK_BOX (args_row), self->save_button);
  gtk_box_append (GTK_BOX (args_row), self->load_button);
  gtk_box_append (GTK_BOX (run_row), self->start_button);
  gtk_box_append (GTK_BOX (run_row), self->abort_button);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (buttons), args_row);
  gtk_box_append (GTK_BOX (buttons), run_row);
  gtk_box_append (GTK_BOX (box), buttons);

  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Ready"));
  gtk_box_append (GTK_BOX (box), self->progress);

  self->chart = hone_loss_chart_new ();
  gtk_widget_add_css_class (self->chart, "card");
  gtk_box_append (GTK_BOX (box), self->chart);

  self->log_view = gtk_text_view_new ();
  self->log = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->log_view));
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->log_view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->log_view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->log_view), GTK_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (self->log_view, "log-view");
  GtkWidget *log_scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (log_scroll), self->log_view);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (log_scroll), 180);
  gtk_widget_add_css_class (log_scroll, "card");
  gtk_box_append (GTK_BOX (box), log_scroll);

  GtkWidget *clamp = adw_clamp_new ();
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 960);
  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  self->scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroll), clamp);
  gtk_widget_set_parent (self->scroll, GTK_WIDGET (self));
  set_running (self, FALSE);
}

static void
hone_train_page_dispose (GObject *object)
{
  HoneTrainPage *self = HONE_TRAIN_PAGE (object);
  g_clear_pointer (&self->run, hone_train_run_free);
  g_clear_pointer (&self->run_output_text, g_free);
  g_clear_pointer (&self->renewed_text, g_free);
  g_clear_pointer (&self->scroll, gtk_widget_unparent);
  g_clear_pointer (&self->inputs, g_hash_table_unref);
  g_clear_pointer (&self->top_inputs, g_hash_table_unref);
  G_OBJECT_CLASS (hone_train_page_parent_class)->dispose (object);
}

static void
hone_train_page_class_init (HoneTrainPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hone_train_page_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
hone_train_page_init (HoneTrainPage *self)
{
  self->inputs = g_hash_table_new (g_str_hash, g_str_equal);
}

GtkWidget *
hone_train_page_new (GHashTable *top_inputs)
{
  HoneTrainPage *self = g_object_new (HONE_TYPE_TRAIN_PAGE, NULL);
  self->top_inputs = g_hash_table_ref (top_inputs);
  build (self);
  hone_form_inputs_set_defaults (self->inputs);
  g_signal_connect (hone_form_input_editable (hone_train_page_input (self, "dataset_dir")),
                    "changed",
                    G_CALLBACK (dataset_dir_changed), self);
  g_signal_connect (hone_train_page_input (self, "stage"), "notify::selected",
                    G_CALLBACK (stage_changed), self);
  refresh_datasets (self);
  /* the output folder is the field under saves/MODEL/METHOD: any of them changes it */
  g_signal_connect (hone_form_input_editable (hone_train_page_input (self, "output_dir")),
                    "changed", G_CALLBACK (output_changed), self);
  g_signal_connect_object (
      hone_form_input_editable (hone_train_page_input (self, "model_name_or_path")), "changed",
      G_CALLBACK (output_changed), self, 0);
  g_signal_connect_object (hone_train_page_input (self, "finetuning_type"), "notify::selected",
                           G_CALLBACK (method_changed), self, 0);
  update_start_label (self);
  return GTK_WIDGET (self);
}
