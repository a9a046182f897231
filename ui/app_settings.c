/* app_settings.c: the app's GSettings, when its schema is installed (see app_settings.h). */
#include "app_settings.h"

#include "hone_application.h"

GSettings *
hone_app_settings (void)
{
  static GSettings *settings = NULL;
  static gboolean looked = FALSE;
  if (!looked) {
    looked = TRUE;
    GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
    GSettingsSchema *schema =
        source != NULL ? g_settings_schema_source_lookup (source, HONE_APP_ID, TRUE) : NULL;
    if (schema != NULL) {
      settings = g_settings_new_full (schema, NULL, NULL);
      g_settings_schema_unref (schema);
    } else {
      g_message ("the GSettings schema %s is not installed: window size and folders are not "
                 "remembered", HONE_APP_ID);
    }
  }
  return settings;
}
