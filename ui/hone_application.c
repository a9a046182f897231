/* hone_application.c: the app object and hone_gui_run (see hone_application.h, hone_gui.h). */
#include "hone_application.h"

#include <stdio.h>

#include "hone-resources.h"
#include "hone_gui.h"
#include "app_settings.h"
#include "hone_window.h"
#include "screenshots.h"

struct _HoneApplication {
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (HoneApplication, hone_application, ADW_TYPE_APPLICATION)

static void
hone_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  /* the icon compiled in (resources' icons/), also when Hone is not installed */
  gtk_window_set_default_icon_name (HONE_APP_ID);
  if (window == NULL)
    window = GTK_WINDOW (hone_window_new (ADW_APPLICATION (app)));
  gtk_window_present (window);
  const char *dir = g_getenv ("HONE_GUI_SCREENSHOTS");
  if (dir != NULL && dir[0] != '\0')
    hone_screenshots_take (HONE_WINDOW (window), dir);
}

static void
hone_application_class_init (HoneApplicationClass *klass)
{
  G_APPLICATION_CLASS (klass)->activate = hone_application_activate;
}

static void
hone_application_init (HoneApplication *self)
{
}

HoneApplication *
hone_application_new (void)
{
  return g_object_new (HONE_TYPE_APPLICATION, "application-id", HONE_APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS, NULL);
}

/* The language the window opens in: the one chosen in the top bar before (GSettings'
 * "language"), else the system's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG). */
static HoneLanguage
start_language (void)
{
  GSettings *settings = hone_app_settings ();
  char *code = settings != NULL ? g_settings_get_string (settings, "language") : NULL;
  HoneLanguage lang = HONE_LANG_EN;
  gboolean chosen = hone_language_parse (code, &lang);
  g_free (code);
  return chosen ? lang : hone_language_from_environment ();
}

int
hone_gui_run (int argc, char **argv)
{
  if (!gtk_init_check ()) {
    fprintf (stderr, "hone gui: cannot open a display (neither DISPLAY nor WAYLAND_DISPLAY "
                     "leads to one). The desktop app needs a graphical session; the command "
                     "line works without one: 'hone train CONFIG', 'hone chat ...', "
                     "'hone --help'.\n");
    return 1;
  }
  /* a static library drops an object nothing refers to: refer to the resource bundle's */
  g_assert (hone_resources_get_resource () != NULL);
  hone_i18n_set_language (start_language ());
  HoneApplication *app = hone_application_new ();
  char *app_argv[] = { "hone", NULL };
  int status = g_application_run (G_APPLICATION (app), 1, app_argv);
  g_object_unref (app);
  return status;
}
