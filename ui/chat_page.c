/* chat_page.c: the Chat page's widgets (see chat_page.h); the model and the answers are
 * chat_session.c's. */
#include "chat_page.h"
#include "i18n.h"

#include <adwaita.h>

#include "chat_session.h"
#include "file_picker.h"
#include "form_input.h"

struct _HoneChatPage {
  GtkWidget parent_instance;
  GtkWidget *box;
  GHashTable *top_inputs; /* not owned */
  HoneChatSession *session;
  GtkWidget *load_button, *unload_button, *spinner, *status;
  GtkWidget *system, *thinking, *fast_decoding;
  GtkWidget *temperature, *top_p, *top_k, *repetition_penalty, *max_new_tokens;
  GtkWidget *bubbles, *scroll;
  GtkWidget *entry, *send_button, *stop_button, *clear_button;
  /* the answer being streamed: its labels (the thought's made when one comes) */
  GtkWidget *answer_box, *answer_label, *thought_label;
  GString *answer, *thought;
};

G_DEFINE_FINAL_TYPE (HoneChatPage, hone_chat_page, GTK_TYPE_WIDGET)

static void
set_status (HoneChatPage *self, const char *text)
{
  gtk_label_set_text (GTK_LABEL (self->status), text);
}

/* What the fast decoding switch asks for. */
static hn_decode_activations
decode_mode (HoneChatPage *self)
{
  return gtk_switch_get_active (GTK_SWITCH (self->fast_decoding)) ? HN_DECODE_INT8
                                                                  : HN_DECODE_FP32;
}

/* The engine's HN_DECODE_INT8_NO_EFFECT, for the status line. */
static const char *
no_effect_note (void)
{
  return _ ("Fast decoding has no effect on this model (it has no GGUF Q8_0 / Q4_1 weights): "
            "decoding stays exact.");
}

/* Buttons follow the session's state. */
static void
update_sensitivity (HoneChatPage *self)
{
  gboolean busy = hone_chat_session_busy (self->session);
  gboolean loaded = hone_chat_session_loaded (self->session);
  gboolean answering = busy && loaded;
  gtk_widget_set_sensitive (self->load_button, !busy);
  gtk_widget_set_sensitive (self->unload_button, !busy && loaded);
  gtk_widget_set_sensitive (self->send_button, !busy && loaded);
  gtk_widget_set_sensitive (self->entry, loaded);
  gtk_widget_set_sensitive (self->stop_button, answering);
  gtk_widget_set_sensitive (self->clear_button, !busy);
  gtk_widget_set_visible (self->spinner, busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
}

static char *
top_text (HoneChatPage *self, const char *key)
{
  GtkWidget *input = g_hash_table_lookup (self->top_inputs, key);
  char *text = input != NULL ? hone_form_input_get_text (input) : g_strdup ("");
  return g_strstrip (text);
}

/* ---- bubbles ---- */

static GtkWidget *
bubble_label (const char *text)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 70);
  return label;
}

static GtkWidget *
add_bubble (HoneChatPage *self, const char *role)
{
  GtkWidget *bubble = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_add_css_class (bubble, "chat-bubble");
  gtk_widget_add_css_class (bubble, role);
  gtk_widget_set_halign (bubble, strcmp (role, "user") == 0 ? GTK_ALIGN_END : GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (self->bubbles), bubble);
  return bubble;
}

/* Keeps the newest bubble in view as the list grows. */
static void
follow_end (GtkAdjustment *adjustment, GParamSpec *pspec, gpointer data)
{
  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment) -
                                            gtk_adjustment_get_page_size (adjustment));
}

static void
clear_bubbles (HoneChatPage *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->bubbles)) != NULL)
    gtk_box_remove (GTK_BOX (self->bubbles), child);
  self->answer_box = self->answer_label = self->thought_label = NULL;
}

/* ---- session callbacks ---- */

static void
on_loaded (gboolean ok, const char *message, gpointer data)
{
  HoneChatPage *self = data;
  if (ok) {
    /* message: which backend runs (backend_choice.h); then fast decoding's note when it has
     * no effect on this model */
    gboolean no_effect = hone_chat_session_decode_no_effect (self->session);
    char *text = g_strdup_printf ("%s %s%s%s", _ ("Model loaded."), message != NULL ? message : "",
                                  no_effect ? " " : "", no_effect ? no_effect_note () : "");
    set_status (self, text);
    g_free (text);
  } else {
    char *text = g_strdup_printf (_ ("Could not load the model: %s"), message);
    set_status (self, text);
    g_free (text);
  }
  update_sensitivity (self);
  if (ok)
    gtk_widget_grab_focus (self->entry);
}

static void
on_piece (const char *text, gboolean thought, gpointer data)
{
  HoneChatPage *self = data;
  if (thought) {
    if (self->thought_label == NULL) {
      self->thought_label = bubble_label ("");
      gtk_widget_add_css_class (self->thought_label, "chat-thought");
      gtk_box_prepend (GTK_BOX (self->answer_box), self->thought_label);
    }
    g_string_append (self->thought, text);
    gtk_label_set_text (GTK_LABEL (self->thought_label), self->thought->str);
  } else {
    g_string_append (self->answer, text);
    gtk_label_set_text (GTK_LABEL (self->answer_label), self->answer->str);
  }
}

static void
on_answered (gboolean ok, hn_finish_reason finish, const char *text, const char *message,
             gpointer data)
{
  HoneChatPage *self = data;
  (void) text;
  if (!ok) {
    char *line = g_strdup_printf (_ ("The answer failed: %s"), message);
    set_status (self, line);
    g_free (line);
  } else {
    set_status (self, finish == HN_FINISH_CANCELLED ? _ ("Stopped.")
                      : finish == HN_FINISH_LENGTH  ? _ ("Stopped at max new tokens.")
                                                    : _ ("Ready."));
  }
  if (self->answer->len == 0 && self->thought->len == 0)
    gtk_label_set_text (GTK_LABEL (self->answer_label), ok ? _ ("(no answer)") : _ ("(failed)"));
  self->thought_label = NULL;
  update_sensitivity (self);
  gtk_widget_grab_focus (self->entry);
}

static const HoneChatSessionCallbacks callbacks = { on_loaded, on_piece, on_answered };

/* ---- buttons ---- */

gboolean
hone_chat_page_load (HoneChatPage *self)
{
  hn_chat_args args;
  hn_chat_args_init (&args);
  args.model_name_or_path = top_text (self, "model_name_or_path");
  args.adapter_name_or_path = top_text (self, "adapter_name_or_path");
  args.template_name = top_text (self, "template");
  args.backend = top_text (self, "backend");
  args.decode_activations = decode_mode (self);
  gboolean ok = FALSE;
  if (args.model_name_or_path[0] == '\0') {
    set_status (self, _ ("Choose a model in the top bar (a folder or a GGUF file) first."));
  } else if (hone_chat_session_load (self->session, &args)) {
    clear_bubbles (self);
    char *line = g_strdup_printf (_ ("Loading %s…"), args.model_name_or_path);
    set_status (self, line);
    g_free (line);
    ok = TRUE;
  }
  hn_chat_args_clear (&args);
  update_sensitivity (self);
  return ok;
}

static void
load_clicked (GtkButton *button, gpointer data)
{
  hone_chat_page_load (data);
}

static void
unload_clicked (GtkButton *button, gpointer data)
{
  HoneChatPage *self = data;
  if (hone_chat_session_unload (self->session)) {
    clear_bubbles (self);
    set_status (self, _ ("No model loaded."));
  }
  update_sensitivity (self);
}

static double
spin_value (GtkWidget *spin)
{
  gtk_spin_button_update (GTK_SPIN_BUTTON (spin)); /* take typed text */
  return gtk_spin_button_get_value (GTK_SPIN_BUTTON (spin));
}

/* The sampling settings through the engine's checks (temperature 0: greedy). */
static gboolean
read_options (HoneChatPage *self, hn_generate_options *out)
{
  hn_chat_args args;
  hn_chat_args_init (&args);
  args.model_name_or_path = g_strdup ("(loaded)");
  hn_sampling *s = &args.generate.sampling;
  s->temperature = spin_value (self->temperature);
  s->top_p = spin_value (self->top_p);
  s->top_k = (int) spin_value (self->top_k);
  s->repetition_penalty = spin_value (self->repetition_penalty);
  args.generate.max_new_tokens = (int) spin_value (self->max_new_tokens);
  hn_error err = { 0 };
  gboolean ok = hn_chat_args_check (&args, &err) == HN_OK;
  if (ok)
    *out = args.generate;
  else
    set_status (self, err.message);
  hn_chat_args_clear (&args);
  return ok;
}

gboolean
hone_chat_page_send (HoneChatPage *self, const char *text)
{
  char *message = g_strstrip (g_strdup (text));
  hn_generate_options options;
  gboolean ok = message[0] != '\0' && read_options (self, &options) &&
                hone_chat_session_send (self->session, message,
                                        gtk_editable_get_text (GTK_EDITABLE (self->system)),
                                        gtk_check_button_get_active (
                                            GTK_CHECK_BUTTON (self->thinking)),
                                        &options);
  if (ok) {
    GtkWidget *user = add_bubble (self, "user");
    gtk_box_append (GTK_BOX (user), bubble_label (message));
    self->answer_box = add_bubble (self, "assistant");
    self->answer_label = bubble_label ("");
    gtk_box_append (GTK_BOX (self->answer_box), self->answer_label);
    self->thought_label = NULL;
    g_string_truncate (self->answer, 0);
    g_string_truncate (self->thought, 0);
    gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
    set_status (self, _ ("Answering…"));
  }
  g_free (message);
  update_sensitivity (self);
  return ok;
}

static void
send_clicked (GtkWidget *widget, gpointer data)
{
  HoneChatPage *self = data;
  char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry)));
  hone_chat_page_send (self, text);
  g_free (text);
}

static void
stop_clicked (GtkButton *button, gpointer data)
{
  HoneChatPage *self = data;
  hone_chat_session_stop (self->session);
  set_status (self, _ ("Stopping…"));
}

static void
clear_clicked (GtkButton *button, gpointer data)
{
  HoneChatPage *self = data;
  if (hone_chat_session_clear (self->session)) {
    clear_bubbles (self);
    set_status (self, _ ("History has been removed."));
  }
}

/* The switch: the session's mode for the next answers (at once when idle); the status says what
 * it does for the loaded model. */
static void
fast_decoding_toggled (GObject *object, GParamSpec *pspec, gpointer data)
{
  HoneChatPage *self = data;
  hn_decode_activations mode = decode_mode (self);
  hone_chat_session_set_decode_activations (self->session, mode);
  if (!hone_chat_session_loaded (self->session))
    return; /* the next Load takes it */
  if (mode == HN_DECODE_INT8 && hone_chat_session_decode_no_effect (self->session))
    set_status (self, no_effect_note ());
  else if (mode == HN_DECODE_INT8)
    set_status (self, _ ("Fast decoding is on from the next answer: faster, not exact."));
  else
    set_status (self, _ ("Exact decoding from the next answer."));
}

void
hone_chat_page_set_fast_decoding (HoneChatPage *self, gboolean on)
{
  gtk_switch_set_active (GTK_SWITCH (self->fast_decoding), on);
}

/* A GGUF file for the top bar's model path (its own button picks folders). */
static void
gguf_chosen (GFile *file, gpointer data)
{
  HoneChatPage *self = data;
  char *path = file != NULL ? g_file_get_path (file) : NULL;
  GtkWidget *input = g_hash_table_lookup (self->top_inputs, "model_name_or_path");
  if (path != NULL && input != NULL)
    hone_form_input_set_text (input, path);
  g_free (path);
  g_object_unref (self);
}

static void
gguf_clicked (GtkButton *button, gpointer data)
{
  hone_pick_file (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (button))), HONE_PICK_OPEN,
                  _ ("Model file (GGUF)"), NULL, NULL, gguf_chosen, g_object_ref (data));
}

/* ---- building ---- */

static GtkWidget *
spin_new (double lo, double hi, double step, int digits, double value)
{
  GtkWidget *spin = gtk_spin_button_new_with_range (lo, hi, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), (guint) digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  return spin;
}

static void
add_setting (GtkWidget *grid, int column, const char *caption, const char *key,
             GtkWidget *input)
{
  GtkWidget *label = gtk_label_new (caption);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_set_tooltip_text (input, key);
  gtk_grid_attach (GTK_GRID (grid), label, column, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), input, column, 1, 1, 1);
}

static GtkWidget *
button_new (const char *label, GCallback clicked, HoneChatPage *self)
{
  GtkWidget *button = gtk_button_new_with_label (label);
  g_signal_connect (button, "clicked", clicked, self);
  return button;
}

static GtkWidget *
build_model_row (HoneChatPage *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  self->load_button = button_new (_ ("Load model"), G_CALLBACK (load_clicked), self);
  gtk_widget_add_css_class (self->load_button, "suggested-action");
  self->unload_button = button_new (_ ("Unload model"), G_CALLBACK (unload_clicked), self);
  GtkWidget *gguf = button_new (_ ("GGUF file…"), G_CALLBACK (gguf_clicked), self);
  gtk_widget_set_tooltip_text (gguf, _ ("Choose a GGUF file as the top bar's model path"));
  self->spinner = gtk_spinner_new ();
  self->status = gtk_label_new (_ ("No model loaded."));
  gtk_label_set_xalign (GTK_LABEL (self->status), 0);
  /* wrapped, not ellipsized: a note such as fast decoding's is read whole */
  gtk_label_set_wrap (GTK_LABEL (self->status), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->status), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_hexpand (self->status, TRUE);
  gtk_box_append (GTK_BOX (row), self->load_button);
  gtk_box_append (GTK_BOX (row), self->unload_button);
  gtk_box_append (GTK_BOX (row), gguf);
  gtk_box_append (GTK_BOX (row), self->spinner);
  gtk_box_append (GTK_BOX (row), self->status);
  return row;
}

/* System prompt and sampling, with hone chat's defaults (hn_chat_args_init). */
static GtkWidget *
build_settings (HoneChatPage *self)
{
  hn_chat_args defaults;
  hn_chat_args_init (&defaults);
  const hn_sampling *s = &defaults.generate.sampling;
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 2);
  self->system = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->system), _ ("the template's default"));
  gtk_widget_set_hexpand (self->system, TRUE);
  self->temperature = spin_new (0, 1.5, 0.01, 2, s->temperature);
  self->top_p = spin_new (0, 1, 0.01, 2, s->top_p);
  self->top_k = spin_new (0, 1000, 1, 0, s->top_k);
  self->repetition_penalty = spin_new (0.01, 10, 0.01, 2, s->repetition_penalty);
  self->max_new_tokens = spin_new (1, 32768, 1, 0, defaults.generate.max_new_tokens);
  add_setting (grid, 0, _ ("System prompt"), "default_system", self->system);
  add_setting (grid, 1, _ ("Temperature"), "temperature", self->temperature);
  add_setting (grid, 2, _ ("Top-p"), "top_p", self->top_p);
  add_setting (grid, 3, _ ("Top-k"), "top_k", self->top_k);
  add_setting (grid, 4, _ ("Repetition penalty"), "repetition_penalty", self->repetition_penalty);
  add_setting (grid, 5, _ ("Max new tokens"), "max_new_tokens", self->max_new_tokens);
  self->thinking = gtk_check_button_new_with_label (_ ("Thinking"));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->thinking), defaults.enable_thinking);
  add_setting (grid, 6, _ ("Reasoning models"), "enable_thinking", self->thinking);
  hn_chat_args_clear (&defaults);
  return grid;
}

/* decode_activations: int8 (model_decode.h) as a switch row, off by default as hone chat. */
static GtkWidget *
build_fast_decoding (HoneChatPage *self)
{
  GtkWidget *list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 _ ("Fast decoding (int8 activations)"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               _ ("Faster answers from GGUF Q8_0 / Q4_1 weights; close to the "
                                  "exact ones, not equal"));
  self->fast_decoding = gtk_switch_new ();
  gtk_widget_set_valign (self->fast_decoding, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->fast_decoding, "decode_activations");
  g_signal_connect (self->fast_decoding, "notify::active", G_CALLBACK (fast_decoding_toggled),
                    self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), self->fast_decoding);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), self->fast_decoding);
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  return list;
}

static GtkWidget *
build_message_row (HoneChatPage *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  self->entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->entry), _ ("Message"));
  gtk_widget_set_hexpand (self->entry, TRUE);
  g_signal_connect (self->entry, "activate", G_CALLBACK (send_clicked), self);
  self->send_button = button_new (_ ("Send"), G_CALLBACK (send_clicked), self);
  gtk_widget_add_css_class (self->send_button, "suggested-action");
  self->stop_button = button_new (_ ("Stop"), G_CALLBACK (stop_clicked), self);
  gtk_widget_add_css_class (self->stop_button, "destructive-action");
  self->clear_button = button_new (_ ("Clear history"), G_CALLBACK (clear_clicked), self);
  gtk_box_append (GTK_BOX (row), self->entry);
  gtk_box_append (GTK_BOX (row), self->send_button);
  gtk_box_append (GTK_BOX (row), self->stop_button);
  gtk_box_append (GTK_BOX (row), self->clear_button);
  return row;
}

static void
hone_chat_page_dispose (GObject *object)
{
  HoneChatPage *self = HONE_CHAT_PAGE (object);
  g_clear_pointer (&self->session, hone_chat_session_free);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (hone_chat_page_parent_class)->dispose (object);
}

static void
hone_chat_page_finalize (GObject *object)
{
  HoneChatPage *self = HONE_CHAT_PAGE (object);
  g_string_free (self->answer, TRUE);
  g_string_free (self->thought, TRUE);
  G_OBJECT_CLASS (hone_chat_page_parent_class)->finalize (object);
}

static void
hone_chat_page_class_init (HoneChatPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hone_chat_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = hone_chat_page_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
hone_chat_page_init (HoneChatPage *self)
{
  self->answer = g_string_new (NULL);
  self->thought = g_string_new (NULL);
  self->session = hone_chat_session_new (&callbacks, self);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  gtk_widget_add_css_class (self->box, "chat-page");
  gtk_box_append (GTK_BOX (self->box), build_model_row (self));
  gtk_box_append (GTK_BOX (self->box), build_settings (self));
  gtk_box_append (GTK_BOX (self->box), build_fast_decoding (self));
  self->bubbles = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_add_css_class (self->bubbles, "chat-bubbles");
  self->scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroll), self->bubbles);
  gtk_widget_set_vexpand (self->scroll, TRUE);
  gtk_widget_add_css_class (self->scroll, "card");
  g_signal_connect (gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroll)),
                    "notify::upper", G_CALLBACK (follow_end), NULL);
  gtk_box_append (GTK_BOX (self->box), self->scroll);
  gtk_box_append (GTK_BOX (self->box), build_message_row (self));
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  update_sensitivity (self);
}

GtkWidget *
hone_chat_page_new (GHashTable *top_inputs)
{
  HoneChatPage *self = g_object_new (HONE_TYPE_CHAT_PAGE, NULL);
  self->top_inputs = top_inputs;
  return GTK_WIDGET (self);
}

gboolean
hone_chat_page_busy (HoneChatPage *self)
{
  return hone_chat_session_busy (self->session);
}

gboolean
hone_chat_page_loaded (HoneChatPage *self)
{
  return hone_chat_session_loaded (self->session);
}

const char *
hone_chat_page_last_answer (HoneChatPage *self)
{
  return self->answer->str;
}

const char *
hone_chat_page_status (HoneChatPage *self)
{
  return gtk_label_get_text (GTK_LABEL (self->status));
}
