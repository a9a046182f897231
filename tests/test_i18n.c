/* The desktop app's languages (ui/i18n.c): locale names map to English, Simplified or
 * Traditional Chinese as the system's choice; the catalogs compiled into the binary translate
 * the pages' strings (the Train page's Start button becomes 开始 / 開始) and every field label;
 * a shown text goes back to its msgid and over to the other language (the run-time switch). */
#include <string.h>

#include "i18n.h"
#include "test_util.h"
#include "train_form.h"

static void test_locale_names(void)
{
    static const struct {
        const char *locale;
        HoneLanguage want;
    } cases[] = {
        {"zh_CN.UTF-8", HONE_LANG_ZH_CN}, {"zh_CN", HONE_LANG_ZH_CN},
        {"zh_SG.GB2312", HONE_LANG_ZH_CN}, {"zh", HONE_LANG_ZH_CN},
        {"zh_Hans_CN", HONE_LANG_ZH_CN}, {"ZH_cn.utf8", HONE_LANG_ZH_CN},
        {"zh_TW.UTF-8", HONE_LANG_ZH_TW}, {"zh_TW", HONE_LANG_ZH_TW},
        {"zh_HK.BIG5-HKSCS", HONE_LANG_ZH_TW}, {"zh_MO", HONE_LANG_ZH_TW},
        {"zh-TW", HONE_LANG_ZH_TW}, {"zh_Hant", HONE_LANG_ZH_TW},
        {"zh_TW.UTF-8@euro", HONE_LANG_ZH_TW},
        {"en_US.UTF-8", HONE_LANG_EN}, {"en_GB", HONE_LANG_EN}, {"C", HONE_LANG_EN},
        {"C.UTF-8", HONE_LANG_EN}, {"POSIX", HONE_LANG_EN}, {"", HONE_LANG_EN},
        {"ja_JP.UTF-8", HONE_LANG_EN}, {"zu_ZA", HONE_LANG_EN}, {"zhx", HONE_LANG_EN},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("%s", cases[i].locale);
        g_assert_cmpint(hone_language_for_locale(cases[i].locale), ==, cases[i].want);
    }
    g_assert_cmpint(hone_language_for_locale(NULL), ==, HONE_LANG_EN);
}

/* gettext's order: LANGUAGE's first entry, then LC_ALL, LC_MESSAGES, LANG. */
static void test_environment_order(void)
{
    const char *const vars[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < G_N_ELEMENTS(vars); i++)
        g_unsetenv(vars[i]);
    g_assert_cmpint(hone_language_from_environment(), ==, HONE_LANG_EN);
    g_setenv("LANG", "zh_CN.UTF-8", TRUE);
    g_assert_cmpint(hone_language_from_environment(), ==, HONE_LANG_ZH_CN);
    g_setenv("LC_MESSAGES", "zh_HK.UTF-8", TRUE);
    g_assert_cmpint(hone_language_from_environment(), ==, HONE_LANG_ZH_TW);
    g_setenv("LC_ALL", "en_US.UTF-8", TRUE);
    g_assert_cmpint(hone_language_from_environment(), ==, HONE_LANG_EN);
    g_setenv("LC_ALL", "", TRUE); /* empty: not set */
    g_assert_cmpint(hone_language_from_environment(), ==, HONE_LANG_ZH_TW);
    g_setenv("LANGUAGE", "zh_SG:zh_TW:en", TRUE);
    g_assert_cmpint(hone_language_from_environment(), ==, HONE_LANG_ZH_CN);
    for (size_t i = 0; i < G_N_ELEMENTS(vars); i++)
        g_unsetenv(vars[i]);
}

static void test_codes_and_names(void)
{
    const char *const codes[] = {"en", "zh_CN", "zh_TW"};
    const char *const names[] = {"English", "简体中文", "繁體中文"};
    for (int i = 0; i < HONE_LANG_COUNT; i++) {
        HoneLanguage lang = HONE_LANG_COUNT;
        g_assert_true(hone_language_parse(codes[i], &lang));
        g_assert_cmpint(lang, ==, i);
        g_assert_cmpstr(hone_language_code(lang), ==, codes[i]);
        g_assert_cmpstr(hone_language_name(lang), ==, names[i]);
    }
    HoneLanguage lang = HONE_LANG_EN;
    g_assert_false(hone_language_parse("zh", &lang));
    g_assert_false(hone_language_parse("", &lang));
    g_assert_false(hone_language_parse(NULL, &lang));
}

/* The Start button's label and a few page strings, in each language through _(). */
static void test_translations(void)
{
    g_assert_cmpint(hone_i18n_language(), ==, HONE_LANG_EN);
    g_assert_cmpstr(_("_Start"), ==, "_Start");
    g_assert_cmpuint(hone_i18n_catalog_size(HONE_LANG_EN), ==, 0);
    hone_i18n_set_language(HONE_LANG_ZH_CN);
    g_assert_cmpstr(_("_Start"), ==, "开始(_S)");
    g_assert_cmpstr(_("Learning rate"), ==, "学习率");
    g_assert_cmpstr(_("Export"), ==, "导出");
    g_assert_cmpstr(_("not a message of the app"), ==, "not a message of the app");
    char *text = g_strdup_printf(_("Running %lld/%lld: %s < %s"), 3LL, 10LL, "0:00:04", "0:00:09");
    g_assert_cmpstr(text, ==, "运行中 3/10：0:00:04 < 0:00:09");
    g_free(text);
    hone_i18n_set_language(HONE_LANG_ZH_TW);
    g_assert_cmpstr(_("_Start"), ==, "開始(_S)");
    g_assert_cmpstr(_("Learning rate"), ==, "學習率");
    g_assert_cmpstr(_("Export"), ==, "匯出");
    g_assert_cmpstr(_("Data folder"), ==, "資料夾");
    hone_i18n_set_language(HONE_LANG_EN);
    g_assert_cmpstr(_("Export"), ==, "Export");
    /* both catalogs hold the same messages, well over the page's hundred */
    guint n = hone_i18n_catalog_size(HONE_LANG_ZH_CN);
    g_assert_cmpuint(n, >, 100);
    g_assert_cmpuint(hone_i18n_catalog_size(HONE_LANG_ZH_TW), ==, n);
}

/* Every Train page label and group title is marked (N_) and translated in both languages, and
 * its translation leads back to it (what the run-time switch relies on). */
static void test_every_field_label(void)
{
    size_t n = 0;
    const HoneFormField *fields = hone_train_form_fields(&n);
    for (HoneLanguage lang = HONE_LANG_ZH_CN; lang < HONE_LANG_COUNT; lang++) {
        for (size_t i = 0; i <= n; i++) {
            const char *msgid = i < n ? fields[i].label
                                      : hone_train_form_group_title(HONE_GROUP_LORA);
            const char *shown = hone_gettext_in(lang, msgid);
            g_test_message("%s: %s -> %s", hone_language_code(lang), msgid, shown);
            g_assert_cmpstr(shown, !=, msgid);
            g_assert_cmpstr(hone_i18n_retranslate(shown, lang, HONE_LANG_EN), ==, msgid);
            g_assert_cmpstr(hone_i18n_retranslate(msgid, HONE_LANG_EN, lang), ==, shown);
        }
    }
}

static void test_retranslate(void)
{
    g_assert_cmpstr(hone_i18n_retranslate("开始(_S)", HONE_LANG_ZH_CN, HONE_LANG_ZH_TW), ==,
                    "開始(_S)");
    g_assert_cmpstr(hone_i18n_retranslate("開始(_S)", HONE_LANG_ZH_TW, HONE_LANG_EN), ==, "_Start");
    g_assert_cmpstr(hone_i18n_retranslate("_Start", HONE_LANG_EN, HONE_LANG_ZH_CN), ==, "开始(_S)");
    g_assert_cmpstr(hone_i18n_retranslate("_Start", HONE_LANG_EN, HONE_LANG_EN), ==, "_Start");
    /* user data and texts put together at run time are not the catalogs' */
    g_assert_null(hone_i18n_retranslate("identity", HONE_LANG_EN, HONE_LANG_ZH_CN));
    g_assert_null(hone_i18n_retranslate("正在加载 /tmp/m.gguf…", HONE_LANG_ZH_CN, HONE_LANG_EN));
    g_assert_null(hone_i18n_retranslate("", HONE_LANG_EN, HONE_LANG_ZH_CN));
    g_assert_null(hone_i18n_retranslate(NULL, HONE_LANG_ZH_TW, HONE_LANG_ZH_CN));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/i18n/locale-names", test_locale_names);
    g_test_add_func("/ui/i18n/environment-order", test_environment_order);
    g_test_add_func("/ui/i18n/codes-and-names", test_codes_and_names);
    g_test_add_func("/ui/i18n/translations", test_translations);
    g_test_add_func("/ui/i18n/every-field-label", test_every_field_label);
    g_test_add_func("/ui/i18n/retranslate", test_retranslate);
    return g_test_run();
}
