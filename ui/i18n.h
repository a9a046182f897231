/* The desktop app's languages: English (the sources' text), Simplified and Traditional Chinese.
 * The catalogs are msgfmt's .mo files of po/, compiled into the hone binary as a GResource and
 * looked up in memory, so that one file carries every language and the language can change
 * while the app runs. _() and N_() mark the strings for xgettext as glib/gi18n.h does. */
#pragma once

#include <glib.h>

typedef enum {
  HONE_LANG_EN,
  HONE_LANG_ZH_CN, /* Simplified Chinese */
  HONE_LANG_ZH_TW, /* Traditional Chinese, Taiwan's wording */
  HONE_LANG_COUNT,
} HoneLanguage;

#define _(text) hone_gettext (text)
#define N_(text) (text)

/* "en", "zh_CN", "zh_TW": the GSettings key's values and po/'s file names. */
const char *hone_language_code (HoneLanguage lang);
/* The language's own name: "English", "简体中文", "繁體中文". */
const char *hone_language_name (HoneLanguage lang);
/* A code as hone_language_code gives it; FALSE for any other text. */
gboolean hone_language_parse (const char *code, HoneLanguage *lang);
/* A POSIX locale name to the app's language: zh_CN, zh_SG and zh (also zh_Hans) to Simplified,
 * zh_TW, zh_HK, zh_MO (also zh_Hant) to Traditional, anything else (NULL, "", C, en_US.UTF-8,
 * ...) to English. The codeset and modifier (".UTF-8", "@...") do not matter. */
HoneLanguage hone_language_for_locale (const char *locale);
/* The system's choice for messages, as gettext reads it: the first entry of LANGUAGE, else
 * LC_ALL, else LC_MESSAGES, else LANG (the first that is set and not empty). */
HoneLanguage hone_language_from_environment (void);

/* The language _() translates to from now on (English at start). */
void hone_i18n_set_language (HoneLanguage lang);
HoneLanguage hone_i18n_language (void);

/* msgid in the current language (msgid itself when the catalog lacks it). The text lives as
 * long as the program. */
const char *hone_gettext (const char *msgid) G_GNUC_FORMAT (1);
/* The same in any language. */
const char *hone_gettext_in (HoneLanguage lang, const char *msgid) G_GNUC_FORMAT (2);
/* text (a string shown in language from) in language to; NULL when text is not a string of
 * the catalogs (user data, numbers, a message put together at run time). */
const char *hone_i18n_retranslate (const char *text, HoneLanguage from, HoneLanguage to);
/* How many messages lang's catalog holds (0 for English): for tests. */
guint hone_i18n_catalog_size (HoneLanguage lang);
