/* screenshots.c: the HONE_GUI_SCREENSHOTS test hook (see screenshots.h). Each page is shown,
 * left a moment to lay out and draw, rendered through the window's own renderer into a
 * texture and saved as PNG. */
#include "screenshots.h"

#include <stdio.h>
#include <string.h>

#include "chat_page.h"
#include "checkpoint_menu.h"
#include "dataset_preview_dialog.h"
#include "eval_page.h"
#include "export_page.h"
#include "form_input.h"
#include "hone_application.h"
#include "loss_chart.h"
#include "train_page.h"

#define SETTLE_MS 700
#define SHOT_RETRIES 10 /* ticks a shot may wait for its page to draw */

typedef struct {
  HoneWindow *window;
  char *dir;
  GPtrArray *pages; /* names still to shoot */
  char **languages; /* HONE_GUI_LANGUAGES's, owning the names "page@language" */
  guint next;
  int failures;
  int retries;      /* of the current shot */
  gboolean waiting; /* for the run that train-run started */
  int chatting;     /* chat-run: 1 loading, 2 answering; chat-fast: 3 loading */
  gboolean evaluating; /* eval-error, eval-run: the evaluation runs */
  gboolean exporting; /* export-run, export-cancel: waiting for the export */
  GtkWidget *dialog;   /* dataset-preview: the window shot instead of the main one */
} Shooter;

static gboolean
save_window_png (GtkWidget *window, const char *path)
{
  int width = gtk_widget_get_width (window), height = gtk_widget_get_height (window);
  if (width <= 0 || height <= 0)
    return FALSE;
  GdkPaintable *paintable = gtk_widget_paintable_new (window);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node (snapshot);
  gboolean ok = FALSE;
  if (node != NULL) {
    GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
    GdkTexture *texture =
        gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
    ok = gdk_texture_save_to_png (texture, path);
    g_object_unref (texture);
    gsk_render_node_unref (node);
  }
  g_object_unref (paintable);
  return ok;
}

typedef GtkWidget *(*InputLookup) (gpointer page, const char *key);

/* "key=value" lines (the variable env's) into a page's inputs. */
static void
fill_fields (gpointer page, InputLookup lookup, const char *env)
{
  const char *text = g_getenv (env);
  char **lines = g_strsplit (text, "\n", -1);
  for (char **line = lines; *line != NULL; line++) {
    char *eq = strchr (*line, '=');
    if (eq == NULL)
      continue;
    *eq = '\0';
    GtkWidget *input = lookup (page, g_strstrip (*line));
    if (input != NULL)
      hone_form_input_set_text (input, eq + 1);
    else
      fprintf (stderr, "hone gui: %s names no field %s\n", env, *line);
  }
  g_strfreev (lines);
}

static GtkWidget *
train_input (gpointer page, const char *key)
{
  return hone_train_page_input (page, key);
}

static GtkWidget *
eval_input (gpointer page, const char *key)
{
  return hone_eval_page_input (page, key);
}

/* HONE_GUI_TOP's "key=value" lines one at a time into the top bar, each followed by what the
 * model fields then hold: "top bar: model_name=M template=T warning=W". */
static void
fill_top_bar (HoneWindow *window, HoneTrainPage *train)
{
  const char *text = g_getenv ("HONE_GUI_TOP");
  if (text == NULL || text[0] == '\0')
    return;
  char **lines = g_strsplit (text, "\n", -1);
  for (char **line = lines; *line != NULL; line++) {
    char *eq = strchr (*line, '=');
    GtkWidget *input = NULL;
    if (eq != NULL) {
      *eq = '\0';
      input = hone_train_page_input (train, g_strstrip (*line));
    }
    if (input == NULL) {
      fprintf (stderr, "hone gui: HONE_GUI_TOP names no field: %s\n", *line);
      continue;
    }
    hone_form_input_set_text (input, eq + 1);
    char *name = hone_form_input_get_text (hone_train_page_input (train, "model_name"));
    char *template = hone_form_input_get_text (hone_train_page_input (train, "template"));
    printf ("top bar: model_name=%s template=%s warning=%s\n", name, template,
            hone_window_template_warning (window));
    /* the checkpoint path's earlier runs: listed, then the first two chosen */
    GtkWidget *checkpoint = hone_train_page_input (train, "adapter_name_or_path");
    char **runs = hone_checkpoint_menu_runs (checkpoint);
    char *list = g_strjoinv (",", runs);
    printf ("checkpoint runs: %s\n", list);
    for (guint i = 0; i < 2 && runs[0] != NULL && runs[i] != NULL; i++) {
      hone_checkpoint_menu_choose (checkpoint, i);
      char *chosen = hone_form_input_get_text (checkpoint);
      printf ("checkpoint path: %s\n", chosen);
      g_free (chosen);
    }
    hone_form_input_set_text (checkpoint, "");
    g_free (list);
    g_strfreev (runs);
    g_free (template);
    g_free (name);
  }
  g_strfreev (lines);
}

static gboolean
scroll_to_end (gpointer page)
{
  hone_train_page_scroll_to_end (page);
  return G_SOURCE_REMOVE;
}

/* "page@zh_CN": the page in that language (the top bar's switch first, when it changes); its
 * file is page-zh_CN.png. The Start button's label is printed for the test. */
static const char *
switch_language (Shooter *s, const char *name, char **base)
{
  const char *at = strchr (name, '@');
  *base = g_strndup (name, at != NULL ? (gsize) (at - name) : strlen (name));
  HoneLanguage lang = HONE_LANG_EN;
  if (at != NULL && !hone_language_parse (at + 1, &lang)) {
    fprintf (stderr, "hone gui: HONE_GUI_LANGUAGES names no language %s\n", at + 1);
    s->failures++;
  }
  if (at != NULL && lang != hone_i18n_language ()) {
    hone_window_set_language (s->window, lang);
    HoneTrainPage *train = HONE_TRAIN_PAGE (hone_window_train_page (s->window));
    printf ("language %s: start button %s\n", hone_language_code (lang),
            gtk_button_get_label (GTK_BUTTON (hone_train_page_start_button (train))));
  }
  return *base;
}

static gboolean
shoot_next (gpointer data)
{
  Shooter *s = data;
  AdwViewStack *stack = hone_window_stack (s->window);
  HoneTrainPage *train = HONE_TRAIN_PAGE (hone_window_train_page (s->window));
  if (s->waiting) {
    if (hone_train_page_running (train))
      return G_SOURCE_CONTINUE;
    s->waiting = FALSE;
    hone_train_page_scroll_to_end (train);
    HoneLossChart *chart = HONE_LOSS_CHART (hone_train_page_chart (train));
    printf ("chart points: %u loss, %u eval\n", hone_loss_chart_n_loss (chart),
            hone_loss_chart_n_eval (chart));
    printf ("start button: %s\n", hone_train_page_start_label (train));
    return G_SOURCE_CONTINUE; /* shot at the next tick, once scrolled and drawn */
  }
  if (s->chatting > 0) {
    HoneChatPage *chat = HONE_CHAT_PAGE (hone_window_chat_page (s->window));
    if (hone_chat_page_busy (chat))
      return G_SOURCE_CONTINUE;
    const char *question = g_getenv ("HONE_GUI_CHAT_QUESTION");
    if (question == NULL || question[0] == '\0')
      question = "What is 2+2?";
    if (s->chatting == 1 && hone_chat_page_loaded (chat) &&
        hone_chat_page_send (chat, question)) {
      s->chatting = 2;
      return G_SOURCE_CONTINUE;
    }
    printf ("chat status: %s\nchat reply: %s\n", hone_chat_page_status (chat),
            hone_chat_page_last_answer (chat));
    s->chatting = 0;
    return G_SOURCE_CONTINUE; /* shot at the next tick, once drawn */
  }
  if (s->evaluating) {
    HoneEvalPage *eval = HONE_EVAL_PAGE (hone_window_eval_page (s->window));
    if (hone_eval_page_busy (eval))
      return G_SOURCE_CONTINUE;
    printf ("eval status: %s\n", hone_eval_page_status (eval));
    const char *const metrics[] = { "eval_loss", "eval_perplexity", "predict_bleu-4",
                                    "predict_rouge-1", "predict_rouge-2", "predict_rouge-l" };
    for (size_t i = 0; i < G_N_ELEMENTS (metrics); i++) {
      const char *value = hone_eval_page_result (eval, metrics[i]);
      printf ("eval result %s: %s\n", metrics[i], value != NULL ? value : "(none)");
    }
    s->evaluating = FALSE;
    hone_eval_page_scroll_to_end (eval);
    return G_SOURCE_CONTINUE; /* shot at the next tick, once scrolled and drawn */
  }
  if (s->exporting) {
    HoneExportPage *export = HONE_EXPORT_PAGE (hone_window_export_page (s->window));
    if (hone_export_page_busy (export))
      return G_SOURCE_CONTINUE;
    printf ("export status: %s\n", hone_export_page_status (export));
    char **lines = g_strsplit (hone_export_page_summary (export), "\n", -1);
    for (char **line = lines; *line != NULL; line++)
      if ((*line)[0] != '\0')
        printf ("export file: %s\n", *line);
    g_strfreev (lines);
    s->exporting = FALSE;
    return G_SOURCE_CONTINUE; /* shot at the next tick, once drawn */
  }
  if (s->next > 0) { /* the page shown last time has drawn by now */
    char *file = g_strdup_printf ("%s.png", (char *) g_ptr_array_index (s->pages, s->next - 1));
    g_strdelimit (file, "@", '-');
    char *path = g_build_filename (s->dir, file, NULL);
    GtkWidget *shot = s->dialog != NULL ? s->dialog : GTK_WIDGET (s->window);
    gboolean saved = save_window_png (shot, path);
    if (!saved && s->retries < SHOT_RETRIES) {
      /* nothing drawn yet (a loaded machine can take longer than SETTLE_MS to lay out a
       * page after a language switch): the same page again at the next tick */
      s->retries++;
      g_free (path);
      g_free (file);
      return G_SOURCE_CONTINUE;
    }
    s->retries = 0;
    if (saved) {
      printf ("screenshot %s\n", path);
    } else {
      fprintf (stderr, "hone gui: could not save the screenshot %s\n", path);
      s->failures++;
    }
    fflush (stdout);
    g_free (path);
    g_free (file);
    if (s->dialog != NULL) {
      gtk_window_destroy (GTK_WINDOW (s->dialog));
      s->dialog = NULL;
    }
  }
  if (s->next == s->pages->len) {
    GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (s->window)));
    if (s->failures > 0)
      g_printerr ("hone gui: %d screenshots failed\n", s->failures);
    gtk_window_close (GTK_WINDOW (s->window)); /* as the user would: the size is saved */
    g_application_quit (app);
    g_ptr_array_unref (s->pages);
    g_strfreev (s->languages);
    g_free (s->dir);
    g_free (s);
    return G_SOURCE_REMOVE;
  }
  char *base = NULL;
  const char *name = switch_language (s, g_ptr_array_index (s->pages, s->next), &base);
  if (strcmp (name, "train-end") == 0) { /* the Train page's lower half, after Preview */
    adw_view_stack_set_visible_child_name (stack, "train");
    hone_train_page_show_preview (train);
    g_timeout_add (SETTLE_MS / 2, scroll_to_end, train);
  } else if (strcmp (name, "dataset-preview") == 0) { /* HONE_GUI_PREVIEW's datasets */
    adw_view_stack_set_visible_child_name (stack, "train");
    hone_form_input_set_text (hone_train_page_input (train, "dataset"),
                              g_getenv ("HONE_GUI_PREVIEW"));
    s->dialog = hone_train_page_preview_datasets (train);
    printf ("dataset preview: %s\n", hone_dataset_preview_dialog_title (s->dialog));
    if (hone_dataset_preview_dialog_next (s->dialog)) {
      char *text = hone_dataset_preview_dialog_text (s->dialog);
      char **lines = g_strsplit (text, "\n", -1);
      printf ("dataset preview next: %s | %s\n", hone_dataset_preview_dialog_title (s->dialog),
              lines[0]);
      g_strfreev (lines);
      g_free (text);
    }
  } else if (strcmp (name, "train-run") == 0) { /* HONE_GUI_TRAIN's fields, then Start */
    adw_view_stack_set_visible_child_name (stack, "train");
    fill_fields (train, train_input, "HONE_GUI_TRAIN");
    s->waiting = hone_train_page_start (train);
    if (!s->waiting) {
      fprintf (stderr, "hone gui: Start did not start a run (the page's log says why)\n");
      s->failures++;
    }
  } else if (strcmp (name, "chat-run") == 0) { /* HONE_GUI_CHAT's model: Load, then Send */
    adw_view_stack_set_visible_child_name (stack, "chat");
    hone_form_input_set_text (hone_train_page_input (train, "model_name_or_path"),
                              g_getenv ("HONE_GUI_CHAT"));
    const char *adapter = g_getenv ("HONE_GUI_CHAT_ADAPTER"); /* the top bar's checkpoint */
    if (adapter != NULL && adapter[0] != '\0')
      hone_form_input_set_text (hone_train_page_input (train, "adapter_name_or_path"), adapter);
    s->chatting = hone_chat_page_load (HONE_CHAT_PAGE (hone_window_chat_page (s->window)));
    if (!s->chatting) {
      fprintf (stderr, "hone gui: Load did not start\n");
      s->failures++;
    }
  } else if (g_str_has_prefix (name, "eval-")) {
    /* HONE_GUI_EVAL's fields (eval-error: then HONE_GUI_EVAL_ERROR's), then Start */
    adw_view_stack_set_visible_child_name (stack, "evaluate");
    HoneEvalPage *eval = HONE_EVAL_PAGE (hone_window_eval_page (s->window));
    fill_fields (eval, eval_input, "HONE_GUI_EVAL");
    if (strcmp (name, "eval-error") == 0)
      fill_fields (eval, eval_input, "HONE_GUI_EVAL_ERROR");
    s->evaluating = hone_eval_page_start (eval);
    if (!s->evaluating) {
      fprintf (stderr, "hone gui: Start did not start an evaluation: %s\n",
               hone_eval_page_status (eval));
      s->failures++;
    }
  } else if (strcmp (name, "chat-fast") == 0) {
    /* HONE_GUI_CHAT_FAST's model loaded with the fast decoding switch on */
    adw_view_stack_set_visible_child_name (stack, "chat");
    hone_form_input_set_text (hone_train_page_input (train, "model_name_or_path"),
                              g_getenv ("HONE_GUI_CHAT_FAST"));
    hone_form_input_set_text (hone_train_page_input (train, "adapter_name_or_path"), "");
    HoneChatPage *chat = HONE_CHAT_PAGE (hone_window_chat_page (s->window));
    hone_chat_page_set_fast_decoding (chat, TRUE);
    s->chatting = hone_chat_page_load (chat) ? 3 : 0;
    if (!s->chatting) {
      fprintf (stderr, "hone gui: Load did not start\n");
      s->failures++;
    }
  } else if (strcmp (name, "export-run") == 0 || strcmp (name, "export-cancel") == 0) {
    /* HONE_GUI_EXPORT's model into _DIR; export-cancel: into _CANCEL_DIR, Cancel at once */
    gboolean cancel = strcmp (name, "export-cancel") == 0;
    adw_view_stack_set_visible_child_name (stack, "export");
    hone_form_input_set_text (hone_train_page_input (train, "model_name_or_path"),
                              g_getenv ("HONE_GUI_EXPORT"));
    HoneExportPage *export = HONE_EXPORT_PAGE (hone_window_export_page (s->window));
    const char *dir = g_getenv (cancel ? "HONE_GUI_EXPORT_CANCEL_DIR" : "HONE_GUI_EXPORT_DIR");
    hone_export_page_set_folder (export, dir != NULL ? dir : "");
    s->exporting = hone_export_page_export (export);
    if (s->exporting && cancel && !hone_export_page_cancel (export)) {
      fprintf (stderr, "hone gui: Cancel was refused\n");
      s->failures++;
    }
    if (!s->exporting) {
      fprintf (stderr, "hone gui: Export did not start: %s\n", hone_export_page_status (export));
      s->failures++;
    }
  } else {
    adw_view_stack_set_visible_child_name (stack, name);
    if (strcmp (name, "train") == 0) { /* from the top, also after train-end */
      GtkWidget *scroll = gtk_widget_get_first_child (GTK_WIDGET (train));
      GtkAdjustment *v = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroll));
      gtk_adjustment_set_value (v, gtk_adjustment_get_lower (v));
      fill_top_bar (s->window, train);
    }
  }
  g_free (base);
  s->next++;
  return G_SOURCE_CONTINUE;
}

void
hone_screenshots_take (HoneWindow *window, const char *dir)
{
  Shooter *s = g_new0 (Shooter, 1);
  s->window = window;
  s->dir = g_strdup (dir);
  s->pages = g_ptr_array_new ();
  g_ptr_array_add (s->pages, "train");
  g_ptr_array_add (s->pages, "evaluate");
  g_ptr_array_add (s->pages, "chat");
  g_ptr_array_add (s->pages, "export");
  g_ptr_array_add (s->pages, "train-end");
  const char *preview = g_getenv ("HONE_GUI_PREVIEW");
  if (preview != NULL && preview[0] != '\0')
    g_ptr_array_add (s->pages, "dataset-preview");
  const char *train = g_getenv ("HONE_GUI_TRAIN");
  if (train != NULL && train[0] != '\0')
    g_ptr_array_add (s->pages, "train-run");
  const char *chat = g_getenv ("HONE_GUI_CHAT");
  if (chat != NULL && chat[0] != '\0')
    g_ptr_array_add (s->pages, "chat-run");
  const char *chat_fast = g_getenv ("HONE_GUI_CHAT_FAST");
  if (chat_fast != NULL && chat_fast[0] != '\0')
    g_ptr_array_add (s->pages, "chat-fast");
  const char *eval = g_getenv ("HONE_GUI_EVAL");
  const char *eval_error = g_getenv ("HONE_GUI_EVAL_ERROR");
  if (eval != NULL && eval[0] != '\0' && eval_error != NULL && eval_error[0] != '\0')
    g_ptr_array_add (s->pages, "eval-error");
  if (eval != NULL && eval[0] != '\0')
    g_ptr_array_add (s->pages, "eval-run");
  const char *export = g_getenv ("HONE_GUI_EXPORT");
  const char *export_cancel = g_getenv ("HONE_GUI_EXPORT_CANCEL_DIR");
  if (export != NULL && export[0] != '\0' && export_cancel != NULL && export_cancel[0] != '\0')
    g_ptr_array_add (s->pages, "export-cancel");
  if (export != NULL && export[0] != '\0')
    g_ptr_array_add (s->pages, "export-run");
  /* HONE_GUI_LANGUAGES="zh_CN zh_TW en": the five pages again in each, switched at run time */
  const char *languages = g_getenv ("HONE_GUI_LANGUAGES");
  s->languages = g_strsplit (languages != NULL ? languages : "", " ", -1);
  for (char **lang = s->languages; *lang != NULL; lang++) {
    if (**lang == '\0')
      continue;
    char *names = g_strdup_printf ("train@%s evaluate@%s chat@%s export@%s train-end@%s", *lang,
                                   *lang, *lang, *lang, *lang);
    char *old = *lang;
    *lang = names; /* the array owns the names; pages points into them */
    g_free (old);
    for (char *p = names; p != NULL;) {
      char *space = strchr (p, ' ');
      if (space != NULL)
        *space = '\0';
      g_ptr_array_add (s->pages, p);
      p = space != NULL ? space + 1 : NULL;
    }
  }
  printf ("start language: %s\n", hone_language_code (hone_i18n_language ()));
  GtkIconTheme *theme = gtk_icon_theme_get_for_display (gtk_widget_get_display (GTK_WIDGET (window)));
  for (size_t i = 0; i < 2; i++) {
    const char *icon = i == 0 ? HONE_APP_ID : HONE_APP_ID "-symbolic";
    printf ("app icon %s: %s\n", icon, gtk_icon_theme_has_icon (theme, icon) ? "found" : "missing");
  }
  g_mkdir_with_parents (dir, 0755);
  g_timeout_add (SETTLE_MS, shoot_next, s);
}
