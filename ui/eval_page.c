/* eval_page.c: the Evaluate page's widgets (see eval_page.h); the run is eval_job.c's. The
 * fields, their starting values and the arguments they make follow LLaMA-Factory's
 * webui/components/eval.py and runner.py's _parse_eval_args (stage sft, eval_dataset,
 * predict_with_generate with do_predict); ranges and checks are the engine's key table's. */
#include "eval_page.h"
#include "i18n.h"

#include <adwaita.h>
#include <string.h>

#include "eval_job.h"
#include "form_input.h"

static const HoneFormField FIELDS[] = {
  { "dataset_dir", N_ ("Data folder"), HONE_FIELD_PATH, HONE_GROUP_MAIN, NULL, 0, 0 },
  { "eval_dataset", N_ ("Datasets"), HONE_FIELD_DATASETS, HONE_GROUP_MAIN, NULL, 0, 0 },
  { "cutoff_len", N_ ("Cutoff length"), HONE_FIELD_INT, HONE_GROUP_MAIN, NULL, 1, 0 },
  { "max_samples", N_ ("Maximum samples per dataset"),
    HONE_FIELD_INT, HONE_GROUP_MAIN, NULL, 1, 0 },
  { "per_device_eval_batch_size", N_ ("Batch size"), HONE_FIELD_INT, HONE_GROUP_MAIN, NULL, 1, 0 },
  { "do_eval", N_ ("Evaluation loss and perplexity"), HONE_FIELD_SWITCH, HONE_GROUP_MAIN, NULL, 0,
    0 },
  { "do_predict", N_ ("Save predictions"), HONE_FIELD_SWITCH, HONE_GROUP_MAIN, NULL, 0, 0 },
  { "max_new_tokens", N_ ("Maximum new tokens"), HONE_FIELD_INT, HONE_GROUP_MAIN, NULL, 1, 0 },
  { "top_p", N_ ("Top-p"), HONE_FIELD_NUMBER, HONE_GROUP_MAIN, NULL, 0.01, 2 },
  { "temperature", N_ ("Temperature (0: greedy)"), HONE_FIELD_NUMBER, HONE_GROUP_MAIN, NULL, 0.01,
    2 },
  { "output_dir", N_ ("Output folder"), HONE_FIELD_TEXT, HONE_GROUP_OUTPUT, NULL, 0, 0 },
};

/* eval.py's starting values (the rest are the engine's defaults, which equal upstream's:
 * dataset_dir "data", top_p 0.7, temperature 0.95). Upstream's page evaluates the loss or
 * predicts (one checkbox); Hone runs both at once, so both start on. */
static const char *const START[][2] = {
  { "cutoff_len", "1024" },     { "max_samples", "100000" }, { "per_device_eval_batch_size", "2" },
  { "do_eval", "true" },        { "do_predict", "true" },    { "max_new_tokens", "512" },
};

/* The top bar's keys an evaluation takes (runner.py's _parse_eval_args). */
static const char *const TOP_KEYS[] = { "model_name_or_path", "finetuning_type",
                                        "adapter_name_or_path", "template", "backend" };

static const char *const METRICS[] = { "eval_loss", "eval_perplexity", "predict_bleu-4",
                                       "predict_rouge-1", "predict_rouge-2", "predict_rouge-l" };

struct _HoneEvalPage {
  GtkWidget parent_instance;
  GtkWidget *scroll;
  GHashTable *inputs;     /* key -> input, the page's */
  GHashTable *top_inputs; /* the window's */
  GtkWidget *dataset_row;
  GtkWidget *start_button, *abort_button, *progress, *status;
  GtkWidget *results; /* GtkGrid: metric, value */
  GHashTable *values; /* metric -> value text shown */
  GtkTextBuffer *log;
  HoneEvalJob *job;
};

G_DEFINE_FINAL_TYPE (HoneEvalPage, hone_eval_page, GTK_TYPE_WIDGET)

GtkWidget *
hone_eval_page_input (HoneEvalPage *self, const char *key)
{
  GtkWidget *input = g_hash_table_lookup (self->inputs, key);
  return input != NULL ? input : g_hash_table_lookup (self->top_inputs, key);
}

static char *
input_text (HoneEvalPage *self, const char *key)
{
  GtkWidget *input = hone_eval_page_input (self, key);
  return g_strstrip (input != NULL ? hone_form_input_get_text (input) : g_strdup (""));
}

static void
set_status (HoneEvalPage *self, const char *text, gboolean error)
{
  gtk_label_set_text (GTK_LABEL (self->status), text);
  if (error)
    gtk_widget_add_css_class (self->status, "error");
  else
    gtk_widget_remove_css_class (self->status, "error");
}

static void
append_log (HoneEvalPage *self, const char *line)
{
  GtkTextIter end;
  gtk_text_buffer_get_end_iter (self->log, &end);
  gtk_text_buffer_insert (self->log, &end, line, -1);
  gtk_text_buffer_insert (self->log, &end, "\n", 1);
}

static void
update_sensitivity (HoneEvalPage *self)
{
  gboolean busy = hone_eval_job_busy (self->job);
  gtk_widget_set_sensitive (self->start_button, !busy);
  gtk_widget_set_sensitive (self->abort_button, busy);
}

static void
abort_clicked (GtkButton *button, HoneEvalPage *self)
{
  (void) button;
  hone_eval_job_stop (self->job);
  gtk_label_set_text (GTK_LABEL (self->status), _ ("Stopping after the current batch or token…"));
}

/* ---- results table ---- */

static void
clear_results (HoneEvalPage *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->results)) != NULL)
    gtk_grid_remove (GTK_GRID (self->results), child);
  g_hash_table_remove_all (self->values);
  gtk_widget_set_visible (self->results, FALSE);
}

static void
add_result_row (HoneEvalPage *self, int row, const char *name, const char *value)
{
  GtkWidget *key = gtk_label_new (name);
  gtk_label_set_xalign (GTK_LABEL (key), 0);
  gtk_widget_add_css_class (key, "dim-label");
  GtkWidget *val = gtk_label_new (value);
  gtk_label_set_xalign (GTK_LABEL (val), 0);
  gtk_label_set_selectable (GTK_LABEL (val), TRUE);
  gtk_label_set_wrap (GTK_LABEL (val), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (val), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_hexpand (val, TRUE);
  gtk_grid_attach (GTK_GRID (self->results), key, 0, row, 1, 1);
  gtk_grid_attach (GTK_GRID (self->results), val, 1, row, 1, 1);
}

static void
show_results (HoneEvalPage *self, const HoneEvalResults *r)
{
  clear_results (self);
  const double values[] = { r->eval_loss, r->eval_perplexity, r->bleu4,
                            r->rouge1,    r->rouge2,          r->rougel };
  const gboolean shown[] = { r->has_eval, r->has_eval, r->has_predict,
                             r->has_predict, r->has_predict, r->has_predict };
  int row = 0;
  for (size_t i = 0; i < G_N_ELEMENTS (METRICS); i++) {
    if (!shown[i])
      continue;
    char *text = g_strdup_printf ("%.4f", values[i]);
    add_result_row (self, row++, METRICS[i], text);
    g_hash_table_insert (self->values, (gpointer) METRICS[i], text);
  }
  add_result_row (self, row++, _ ("Output folder"), r->output_dir);
  for (char **f = r->files; f != NULL && *f != NULL; f++)
    add_result_row (self, row++, f == r->files ? _ ("Files written") : "", *f);
  gtk_widget_set_visible (self->results, TRUE);
}

void
hone_eval_page_scroll_to_end (HoneEvalPage *self)
{
  GtkAdjustment *v = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroll));
  gtk_adjustment_set_value (v, gtk_adjustment_get_upper (v) - gtk_adjustment_get_page_size (v));
}

/* Once the results table has its size (an idle runs after the frame's layout). */
static gboolean
scroll_to_results (gpointer data)
{
  if (HONE_EVAL_PAGE (data)->scroll != NULL) /* not disposed meanwhile */
    hone_eval_page_scroll_to_end (data);
  return G_SOURCE_REMOVE;
}

/* ---- job callbacks ---- */

static void
on_note (const char *line, gpointer data)
{
  append_log (data, line);
}

static void
on_progress (const char *phase, gsize done, gsize total, double tokens_per_s, gpointer data)
{
  HoneEvalPage *self = data;
  char *text = g_strdup_printf (strcmp (phase, "eval") == 0
                                    ? _ ("Evaluating %zu/%zu examples, %.1f tokens/s")
                                    : _ ("Predicting %zu/%zu examples, %.1f tokens/s"),
                                (size_t) done, (size_t) total, tokens_per_s);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress),
                                 total > 0 ? (double) done / (double) total : 0);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), text);
  g_free (text);
}

static void
on_finished (gboolean ok, const char *message, const HoneEvalResults *results, gpointer data)
{
  HoneEvalPage *self = data;
  if (ok) {
    set_status (self, _ ("Finished."), FALSE);
    show_results (self, results);
    append_log (self, _ ("Finished."));
    g_idle_add_full (G_PRIORITY_LOW, scroll_to_results, g_object_ref (self), g_object_unref);
  } else {
    char *text = g_strdup_printf (_ ("Evaluation failed: %s"), message);
    set_status (self, text, TRUE);
    append_log (self, text);
    g_free (text);
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Failed"));
  }
  update_sensitivity (self);
}

static const HoneEvalJobCallbacks callbacks = { on_note, on_progress, on_finished };

/* ---- the arguments ---- */

/* Where the output goes: output_dir as is when absolute, else under the Train page's saves
 * folder for this model and method (train_form.h, upstream's get_save_dir). */
static char *
output_path (HoneEvalPage *self, const char *name)
{
  HoneTrainForm form;
  GDateTime *now = g_date_time_new_now_local ();
  hone_train_form_init (&form, NULL, now);
  g_date_time_unref (now);
  const char *const keys[] = { "model_name_or_path", "finetuning_type" };
  for (size_t i = 0; i < G_N_ELEMENTS (keys); i++) {
    char *text = input_text (self, keys[i]);
    hone_train_form_set (&form, keys[i], text);
    g_free (text);
  }
  hone_train_form_set (&form, "output_dir", name);
  char *path = hone_train_form_output_path (&form);
  hone_train_form_clear (&form);
  return path;
}

static hn_status
set_field (hn_train_args *args, const char *key, const char *label, const char *text,
           hn_error *err)
{
  char *where = g_strdup_printf ("Evaluate page, %s", label);
  hn_status s = hn_train_args_set (args, key, text, where, err);
  g_free (where);
  return s;
}

/* The page and the top bar as the engine's arguments, checked as hn_eval_run checks them. */
static hn_status
read_args (HoneEvalPage *self, hn_train_args *args, hn_error *err)
{
  HN_TRY (hn_train_args_set (args, "stage", "sft", "Evaluate page", err));
  for (size_t i = 0; i < G_N_ELEMENTS (TOP_KEYS); i++) {
    char *text = input_text (self, TOP_KEYS[i]);
    hn_status s = text[0] != '\0' ? set_field (args, TOP_KEYS[i], "top bar", text, err) : HN_OK;
    g_free (text);
    HN_TRY (s);
  }
  if (args->model_name_or_path == NULL)
    return hn_fail (err, HN_ERR_ARGUMENT, "choose a model in the top bar (a folder or a GGUF "
                    "file) first");
  for (size_t i = 0; i < G_N_ELEMENTS (FIELDS); i++) {
    const HoneFormField *f = &FIELDS[i];
    char *text = input_text (self, f->key);
    hn_status s = HN_OK;
    if (strcmp (f->key, "output_dir") == 0) {
      if (text[0] == '\0') {
        s = hn_fail (err, HN_ERR_ARGUMENT, "Evaluate page, %s: needs a folder name", f->label);
      } else {
        char *path = output_path (self, text);
        s = set_field (args, f->key, f->label, path, err);
        g_free (path);
      }
    } else if (strcmp (f->key, "eval_dataset") == 0 && text[0] == '\0') {
      s = hn_fail (err, HN_ERR_ARGUMENT, "Evaluate page, %s: choose at least one dataset",
                   f->label);
    } else if (strcmp (f->key, "do_predict") == 0) { /* runner.py: predict_with_generate */
      s = set_field (args, f->key, f->label, text, err);
      if (s == HN_OK)
        s = set_field (args, "predict_with_generate", f->label, text, err);
    } else {
      s = set_field (args, f->key, f->label, text, err);
    }
    g_free (text);
    HN_TRY (s);
  }
  return hn_train_args_check_eval (args, err);
}

/* ---- buttons ---- */

gboolean
hone_eval_page_start (HoneEvalPage *self)
{
  if (hone_eval_job_busy (self->job))
    return FALSE;
  hn_train_args args;
  hn_train_args_init (&args);
  hn_error err = { 0 };
  gboolean ok = read_args (self, &args, &err) == HN_OK;
  if (!ok) {
    set_status (self, err.message, TRUE);
  } else {
    char *line = g_strdup_printf (_ ("Evaluating %s into %s…"), args.model_name_or_path,
                                  args.output_dir);
    gtk_text_buffer_set_text (self->log, "", 0);
    append_log (self, line);
    set_status (self, line, FALSE);
    g_free (line);
    clear_results (self);
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Loading…"));
    ok = hone_eval_job_start (self->job, &args);
  }
  hn_train_args_clear (&args);
  update_sensitivity (self);
  return ok;
}

static void
start_clicked (GtkButton *button, gpointer data)
{
  hone_eval_page_start (data);
}

/* ---- layout ---- */

static void
refresh_datasets (HoneEvalPage *self)
{
  char *dir = input_text (self, "dataset_dir");
  hn_error err = { 0 };
  gboolean ok = hone_form_input_set_dataset_dir (hone_eval_page_input (self, "eval_dataset"),
                                                 dir, "sft", &err); /* hone eval: pt, sft */
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->dataset_row), ok ? NULL : err.message);
  g_free (dir);
}

static void
dataset_dir_changed (GtkEditable *editable, gpointer data)
{
  refresh_datasets (data);
}

static GtkWidget *
field_row (HoneEvalPage *self, const HoneFormField *field)
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

/* Starting values: the engine's defaults, then eval.py's, then eval_<time>. */
static void
set_start_values (HoneEvalPage *self)
{
  hn_train_args args;
  hn_train_args_init (&args);
  for (size_t i = 0; i < G_N_ELEMENTS (FIELDS); i++) {
    char *text = hn_train_args_get (&args, FIELDS[i].key);
    hone_form_input_set_text (hone_eval_page_input (self, FIELDS[i].key),
                              text != NULL ? text : "");
    g_free (text);
  }
  hn_train_args_clear (&args);
  for (size_t i = 0; i < G_N_ELEMENTS (START); i++)
    hone_form_input_set_text (hone_eval_page_input (self, START[i][0]), START[i][1]);
  GDateTime *now = g_date_time_new_now_local ();
  char *name = hone_eval_output_name (now);
  hone_form_input_set_text (hone_eval_page_input (self, "output_dir"), name);
  g_free (name);
  g_date_time_unref (now);
}

static void
build (HoneEvalPage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  GtkWidget *main_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (main_group), _ ("Evaluation"));
  GtkWidget *output_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (output_group), _ ("Output"));
  for (size_t i = 0; i < G_N_ELEMENTS (FIELDS); i++) {
    GtkWidget *row = field_row (self, &FIELDS[i]);
    if (strcmp (FIELDS[i].key, "eval_dataset") == 0)
      self->dataset_row = row;
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (FIELDS[i].group == HONE_GROUP_OUTPUT
                                                          ? output_group
                                                          : main_group),
                               row);
  }
  gtk_box_append (GTK_BOX (box), main_group);
  gtk_box_append (GTK_BOX (box), output_group);

  GtkWidget *run_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_halign (run_row, GTK_ALIGN_CENTER);
  self->start_button = gtk_button_new_with_mnemonic (_ ("_Start"));
  gtk_widget_add_css_class (self->start_button, "suggested-action");
  gtk_widget_add_css_class (self->start_button, "pill");
  g_signal_connect (self->start_button, "clicked", G_CALLBACK (start_clicked), self);
  self->abort_button = gtk_button_new_with_mnemonic (_ ("_Abort"));
  gtk_widget_add_css_class (self->abort_button, "destructive-action");
  gtk_widget_add_css_class (self->abort_button, "pill");
  g_signal_connect (self->abort_button, "clicked", G_CALLBACK (abort_clicked), self);
  gtk_widget_set_sensitive (self->abort_button, FALSE);
  gtk_widget_set_tooltip_text (self->abort_button,
                               _ ("Stop the evaluation after the current batch or token"));
  gtk_box_append (GTK_BOX (run_row), self->start_button);
  gtk_box_append (GTK_BOX (run_row), self->abort_button);
  gtk_box_append (GTK_BOX (box), run_row);

  self->status = gtk_label_new ("Ready.");
  gtk_label_set_xalign (GTK_LABEL (self->status), 0);
  gtk_label_set_wrap (GTK_LABEL (self->status), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->status), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->status), TRUE);
  gtk_box_append (GTK_BOX (box), self->status);

  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Ready"));
  gtk_box_append (GTK_BOX (box), self->progress);

  self->results = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->results), 24);
  gtk_grid_set_row_spacing (GTK_GRID (self->results), 6);
  gtk_widget_add_css_class (self->results, "card");
  gtk_widget_add_css_class (self->results, "eval-results");
  gtk_box_append (GTK_BOX (box), self->results);

  GtkWidget *log_view = gtk_text_view_new ();
  self->log = gtk_text_view_get_buffer (GTK_TEXT_VIEW (log_view));
  gtk_text_view_set_editable (GTK_TEXT_VIEW (log_view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (log_view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (log_view), GTK_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (log_view, "log-view");
  GtkWidget *log_scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (log_scroll), log_view);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (log_scroll), 140);
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
  clear_results (self);
}

static void
hone_eval_page_dispose (GObject *object)
{
  HoneEvalPage *self = HONE_EVAL_PAGE (object);
  g_clear_pointer (&self->job, hone_eval_job_free); /* waits for a running evaluation */
  g_clear_pointer (&self->scroll, gtk_widget_unparent);
  g_clear_pointer (&self->inputs, g_hash_table_unref);
  g_clear_pointer (&self->top_inputs, g_hash_table_unref);
  g_clear_pointer (&self->values, g_hash_table_unref);
  G_OBJECT_CLASS (hone_eval_page_parent_class)->dispose (object);
}

static void
hone_eval_page_class_init (HoneEvalPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hone_eval_page_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
hone_eval_page_init (HoneEvalPage *self)
{
  self->inputs = g_hash_table_new (g_str_hash, g_str_equal);
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  self->job = hone_eval_job_new (&callbacks, self);
}

GtkWidget *
hone_eval_page_new (GHashTable *top_inputs)
{
  HoneEvalPage *self = g_object_new (HONE_TYPE_EVAL_PAGE, NULL);
  self->top_inputs = g_hash_table_ref (top_inputs);
  build (self);
  set_start_values (self);
  g_signal_connect (hone_form_input_editable (hone_eval_page_input (self, "dataset_dir")),
                    "changed", G_CALLBACK (dataset_dir_changed), self);
  refresh_datasets (self);
  update_sensitivity (self);
  return GTK_WIDGET (self);
}

gboolean
hone_eval_page_busy (HoneEvalPage *self)
{
  return hone_eval_job_busy (self->job);
}

const char *
hone_eval_page_status (HoneEvalPage *self)
{
  return gtk_label_get_text (GTK_LABEL (self->status));
}

const char *
hone_eval_page_result (HoneEvalPage *self, const char *metric)
{
  return g_hash_table_lookup (self->values, metric);
}
