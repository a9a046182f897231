/* i18n.c: the in-memory message catalogs (see i18n.h). Each .mo file is read from the
 * GResource once, on first use, and kept for the program's life: the strings _() returns
 * point into it. The .mo layout is GNU gettext's ("The Format of GNU MO Files" in its
 * manual): a magic number, the revision, the count N, the offsets of the original and the
 * translated strings' tables, each table N pairs of (length, offset) 32-bit words. */
#include "i18n.h"

#include <gio/gio.h>
#include <string.h>

#include "hone-locale.h"

#define MO_MAGIC 0x950412deu
#define MO_SWAPPED 0xde120495u

typedef struct {
  GBytes *data;
  GHashTable *forward;  /* msgid -> translation */
  GHashTable *backward; /* translation -> msgid */
} Catalog;

static Catalog *catalogs[HONE_LANG_COUNT];
static gsize loaded[HONE_LANG_COUNT];
static gint current = HONE_LANG_EN;

static const char *const CODES[HONE_LANG_COUNT] = { "en", "zh_CN", "zh_TW" };
static const char *const NAMES[HONE_LANG_COUNT] = { "English", "简体中文", "繁體中文" };

const char *
hone_language_code (HoneLanguage lang)
{
  return lang < HONE_LANG_COUNT ? CODES[lang] : CODES[HONE_LANG_EN];
}

const char *
hone_language_name (HoneLanguage lang)
{
  return lang < HONE_LANG_COUNT ? NAMES[lang] : NAMES[HONE_LANG_EN];
}

gboolean
hone_language_parse (const char *code, HoneLanguage *lang)
{
  for (int i = 0; code != NULL && i < HONE_LANG_COUNT; i++)
    if (strcmp (code, CODES[i]) == 0) {
      *lang = (HoneLanguage) i;
      return TRUE;
    }
  return FALSE;
}

HoneLanguage
hone_language_for_locale (const char *locale)
{
  if (locale == NULL)
    return HONE_LANG_EN;
  /* language[_territory][.codeset][@modifier]; also zh-TW, zh_Hant_TW */
  size_t n = strcspn (locale, ".@");
  char *name = g_ascii_strdown (locale, (gssize) n);
  g_strdelimit (name, "-", '_');
  HoneLanguage lang = HONE_LANG_EN;
  if (strcmp (name, "zh") == 0 || g_str_has_prefix (name, "zh_")) {
    lang = HONE_LANG_ZH_CN;
    char **parts = g_strsplit (name, "_", -1);
    for (char **p = parts + 1; *p != NULL; p++)
      if (strcmp (*p, "tw") == 0 || strcmp (*p, "hk") == 0 || strcmp (*p, "mo") == 0 ||
          strcmp (*p, "hant") == 0)
        lang = HONE_LANG_ZH_TW;
    g_strfreev (parts);
  }
  g_free (name);
  return lang;
}

HoneLanguage
hone_language_from_environment (void)
{
  const char *language = g_getenv ("LANGUAGE");
  if (language != NULL && language[0] != '\0') {
    char *first = g_strndup (language, strcspn (language, ":"));
    HoneLanguage lang = hone_language_for_locale (first);
    g_free (first);
    return lang;
  }
  const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
  for (size_t i = 0; i < G_N_ELEMENTS (vars); i++) {
    const char *value = g_getenv (vars[i]);
    if (value != NULL && value[0] != '\0')
      return hone_language_for_locale (value);
  }
  return HONE_LANG_EN;
}

static guint32
word (const guint8 *data, gsize offset, gboolean swapped)
{
  guint32 w;
  memcpy (&w, data + offset, 4);
  return swapped ? GUINT32_SWAP_LE_BE (w) : w;
}

/* The strings of a .mo file; a file that breaks the format is a build error: abort. */
static Catalog *
catalog_load (HoneLanguage lang)
{
  char *path = g_strdup_printf ("/io/github/hone/Hone/locale/%s.mo", CODES[lang]);
  GError *error = NULL;
  g_assert (hone_locale_get_resource () != NULL); /* keeps the bundle in the static library */
  GBytes *bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (bytes == NULL)
    g_error ("the message catalog %s is not in the binary: %s", path, error->message);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_assert (size >= 20);
  guint32 magic;
  memcpy (&magic, data, 4);
  if (magic != MO_MAGIC && magic != MO_SWAPPED)
    g_error ("%s: not a .mo file (magic 0x%08x)", path, magic);
  gboolean swapped = magic == MO_SWAPPED;
  guint32 n = word (data, 8, swapped), originals = word (data, 12, swapped);
  guint32 translations = word (data, 16, swapped);
  Catalog *c = g_new0 (Catalog, 1);
  c->data = bytes;
  c->forward = g_hash_table_new (g_str_hash, g_str_equal);
  c->backward = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint32 i = 0; i < n; i++) {
    gsize o = (gsize) originals + 8u * i, t = (gsize) translations + 8u * i;
    if (o + 8 > size || t + 8 > size)
      g_error ("%s: string table %u lies past the end", path, i);
    guint32 olen = word (data, o, swapped), ooff = word (data, o + 4, swapped);
    guint32 tlen = word (data, t, swapped), toff = word (data, t + 4, swapped);
    if ((gsize) ooff + olen >= size || (gsize) toff + tlen >= size || data[ooff + olen] != 0 ||
        data[toff + tlen] != 0)
      g_error ("%s: string %u lies past the end or is not NUL-terminated", path, i);
    const char *msgid = (const char *) data + ooff, *msgstr = (const char *) data + toff;
    if (msgid[0] == '\0')
      continue; /* the header */
    /* a plural entry is "singular\0plural" -> "form0\0..."; Chinese has one form */
    g_hash_table_insert (c->forward, (gpointer) msgid, (gpointer) msgstr);
    if (!g_hash_table_contains (c->backward, msgstr))
      g_hash_table_insert (c->backward, (gpointer) msgstr, (gpointer) msgid);
  }
  g_free (path);
  return c;
}

static Catalog *
catalog (HoneLanguage lang)
{
  if (lang == HONE_LANG_EN || lang >= HONE_LANG_COUNT)
    return NULL;
  if (g_once_init_enter (&loaded[lang])) {
    catalogs[lang] = catalog_load (lang);
    g_once_init_leave (&loaded[lang], 1);
  }
  return catalogs[lang];
}

void
hone_i18n_set_language (HoneLanguage lang)
{
  g_atomic_int_set (&current, lang < HONE_LANG_COUNT ? (gint) lang : HONE_LANG_EN);
}

HoneLanguage
hone_i18n_language (void)
{
  return (HoneLanguage) g_atomic_int_get (&current);
}

const char *
hone_gettext_in (HoneLanguage lang, const char *msgid)
{
  Catalog *c = catalog (lang);
  if (c == NULL || msgid == NULL || msgid[0] == '\0')
    return msgid;
  const char *text = g_hash_table_lookup (c->forward, msgid);
  return text != NULL ? text : msgid;
}

const char *
hone_gettext (const char *msgid)
{
  return hone_gettext_in (hone_i18n_language (), msgid);
}

const char *
hone_i18n_retranslate (const char *text, HoneLanguage from, HoneLanguage to)
{
  if (text == NULL || text[0] == '\0')
    return NULL;
  const char *msgid = NULL;
  if (from == HONE_LANG_EN) {
    /* English is the msgids: known when some catalog has it */
    for (int i = HONE_LANG_EN + 1; i < HONE_LANG_COUNT && msgid == NULL; i++)
      if (g_hash_table_contains (catalog ((HoneLanguage) i)->forward, text))
        msgid = text;
  } else {
    msgid = g_hash_table_lookup (catalog (from)->backward, text);
  }
  return msgid != NULL ? hone_gettext_in (to, msgid) : NULL;
}

guint
hone_i18n_catalog_size (HoneLanguage lang)
{
  Catalog *c = catalog (lang);
  return c != NULL ? g_hash_table_size (c->forward) : 0;
}
