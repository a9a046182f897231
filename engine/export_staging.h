/* Where an export writes before it is complete: a hidden folder inside export_dir
 * (.hone-export-XXXXXX), its files moved into export_dir only once every one of them is written,
 * so export_dir never holds part of an export (a cancelled or failed run, export.h). */
#pragma once

#include "hn_error.h"

/* Makes the staging folder in export_dir (which must exist); g_free *staging. */
hn_status hn_export_staging_open(const char *export_dir, char **staging, hn_error *err);
/* Moves every file of staging into export_dir (replacing files of the same name: the
 * overwrite_output_dir case) and removes staging. */
hn_status hn_export_staging_commit(const char *staging, const char *export_dir, hn_error *err);
/* The highest folder of export_dir's path that does not exist yet (export_dir itself, or one of
 * its parents), which making export_dir creates; NULL when export_dir exists. g_free it. */
char *hn_export_first_missing(const char *export_dir);
/* Removes staging and what is in it (the run's files); then, when made (from
 * hn_export_first_missing) is not NULL, the empty folders the run made: export_dir and its parents
 * up to made. */
void hn_export_staging_discard(const char *staging, const char *export_dir, const char *made);
