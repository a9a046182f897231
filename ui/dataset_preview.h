/* The Train page's dataset preview apart from its dialog: the chosen datasets read as the
 * trainer reads them (engine/dataset_read.h: every format converted to prompt and response
 * turns, several datasets one after another, identity.json's {{name}} and {{author}} filled
 * in), shown a page of rows at a time as upstream's preview box does (webui/components/
 * data.py: PAGE_SIZE 2, prev / next). */
#pragma once

#include <glib.h>

#include "hn_error.h"

#define HONE_PREVIEW_PAGE_SIZE 2

typedef struct _HoneDatasetPreview HoneDatasetPreview;

/* Reads names (a comma list from dataset_dir/dataset_info.json); identity name and author
 * may be NULL or "" (the placeholders stay). An unreadable dataset is the engine's error. */
hn_status hone_dataset_preview_open (const char *dataset_dir, const char *names,
                                     const char *identity_name, const char *identity_author,
                                     HoneDatasetPreview **out, hn_error *err);
void hone_dataset_preview_free (HoneDatasetPreview *preview);

size_t hone_dataset_preview_n_rows (const HoneDatasetPreview *preview);
/* At least 1 (an empty dataset has one empty page). */
size_t hone_dataset_preview_n_pages (const HoneDatasetPreview *preview);
/* Page page's rows as text: "Row N" then one "role: text" line per turn (the system prompt
 * first when a row has one; a ranking row's two answers as chosen and rejected), rows apart
 * by a blank line. g_free. */
char *hone_dataset_preview_page (const HoneDatasetPreview *preview, size_t page);
/* "Rows 3-4 of 1000" (g_free). */
char *hone_dataset_preview_page_title (const HoneDatasetPreview *preview, size_t page);
