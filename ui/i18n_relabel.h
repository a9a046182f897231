/* Switching the desktop app's language while it runs: every text a widget shows that is one
 * of the catalogs' strings is put into the new language, in place, so that what the user
 * typed, a running job and the chat stay as they are. */
#pragma once

#include <gtk/gtk.h>

#include "i18n.h"

/* Sets the language (hone_i18n_set_language) and retranslates root and every widget under it:
 * labels, buttons, check buttons, rows' titles and subtitles, preferences groups' titles,
 * tooltips, entries' placeholders, progress bars' text and view stacks' page titles, and
 * redraws what draws its own text (the loss chart). Text put together at run time (a status
 * with a path in it) keeps its language until the page next sets it. */
void hone_i18n_relabel (GtkWidget *root, HoneLanguage to);
