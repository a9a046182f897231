/* gui_info.c: run-time versions of GTK, libadwaita and cairo as linked into this build. */
#include "gui_info.h"

#include <adwaita.h>
#include <cairo.h>
#include <gtk/gtk.h>

void
hone_gui_append_versions (GString *out)
{
  g_string_append_printf (out, "GTK %u.%u.%u, libadwaita %u.%u.%u, cairo %s",
                          gtk_get_major_version (), gtk_get_minor_version (),
                          gtk_get_micro_version (), adw_get_major_version (),
                          adw_get_minor_version (), adw_get_micro_version (),
                          cairo_version_string ());
}
