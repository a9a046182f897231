/* Where an export writes before it is complete: a hidden folder inside export_dir
 * (.hone-export-XXXXXX), its files moved into export_dir only once every one of them is written,
 * so export_dir never holds part of an export (a cancelled or failed run, export.h). */
#pragma once

#include <stdbool.h>

#include "hn_error.h"

/* Makes the staging folder in export_dir (which must exist); g_free *staging. */
hn_status hn_export_staging_open(const char *export_dir, char **staging, hn_error *err);
/* Moves every file of staging into export_dir (replacing files of the same name: the
 * overwrite_output_dir case) and removes staging. */
hn_status hn_export_staging_commit(const char *staging, const char *export_dir, hn_error *err);
/* Removes staging and what is in it (the run's files); then export_dir too when created says the
 * run made it and it is empty. */
void hn_export_staging_discard(const char *staging, const char *export_dir, bool created);
