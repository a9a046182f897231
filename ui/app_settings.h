/* The app's GSettings (schema io.github.hone.Hone, data/io.github.hone.Hone.gschema.xml): the
 * window size and the last folder a picker opened. NULL when the schema is not installed (a
 * build tree run without GSETTINGS_SCHEMA_DIR): the app then just remembers nothing. */
#pragma once

#include <gio/gio.h>

/* The settings object, made on first use; owned here. */
GSettings *hone_app_settings (void);
