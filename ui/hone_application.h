/* HoneApplication: the AdwApplication (app id io.github.hone.Hone) that opens HoneWindow. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define HONE_APP_ID "io.github.hone.Hone"
#define HONE_TYPE_APPLICATION (hone_application_get_type ())
G_DECLARE_FINAL_TYPE (HoneApplication, hone_application, HONE, APPLICATION, AdwApplication)

HoneApplication *hone_application_new (void);

G_END_DECLS
