/* Facts about the desktop toolkit this build links, for `hone env`. */
#pragma once

#include <glib.h>

/* Appends "GTK 4.8.3, libadwaita 1.2.2, cairo 1.16.0" (the run-time versions). */
void hone_gui_append_versions (GString *out);
