/* The top bar's known models (ui/known_models.c) against LLaMA-Factory's own tables
 * (tests/reference/known_models_ref.py): every name is upstream's, with upstream's folder and
 * default template (where the engine has that template; the model's own otherwise), every
 * template exists in the engine, base models are the ones upstream gives no template, a model
 * path finds its name, and the template warnings. */
#include <string.h>

#include "chat_template.h"
#include "known_models.h"
#include "test_util.h"

static bool engine_has(const char *name)
{
    for (const char *const *t = hn_chat_template_names(); *t != NULL; t++)
        if (strcmp(*t, name) == 0)
            return true;
    return false;
}

static void test_against_upstream(void)
{
    char *tmp = test_make_tmpdir();
    test_run_reference("known_models_ref.py", "write", tmp);
    char *path = g_build_filename(tmp, "models.json", NULL);
    cJSON *root = test_load_json(path);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    size_t n = 0;
    const HoneKnownModel *table = hone_known_models(&n);
    g_assert_cmpuint(n, >=, 60);
    size_t base = 0, own = 0;
    for (size_t i = 0; i < n; i++) {
        const HoneKnownModel *m = &table[i];
        const cJSON *up = cJSON_GetObjectItemCaseSensitive(models, m->name);
        if (up == NULL)
            g_error("%s is not one of LLaMA-Factory's model names", m->name);
        g_assert_cmpstr(m->hub_id, ==, cJSON_GetObjectItem(up, "hub_id")->valuestring);
        const char *want = cJSON_GetObjectItem(up, "template")->valuestring;
        if (engine_has(want)) {
            if (strcmp(m->template, want) != 0)
                g_error("%s: template %s, upstream's is %s", m->name, m->template, want);
        } else {
            /* a template the engine lacks: the model's own chat template instead */
            g_assert_cmpstr(m->template, ==, "");
            own++;
        }
        if (m->template[0] != '\0') {
            hn_chat_template t;
            hn_error err = {0};
            if (hn_chat_template_get(m->template, &t, &err) != HN_OK)
                g_error("%s: %s", m->name, err.message);
        }
        bool has = cJSON_IsTrue(cJSON_GetObjectItem(up, "has_template"));
        g_assert_cmpint(hone_known_model_is_base(m->name), ==, !has);
        base += !has;
        g_assert_true(hone_known_model(m->name) == m);
        g_assert_cmpstr(hone_known_model_template(m->name), ==, m->template);
    }
    g_assert_cmpuint(base, >=, 20);        /* both kinds are there */
    g_assert_cmpuint(n - base, >=, 20);
    g_assert_cmpuint(own, <=, 3);          /* SmolLM2's instruct models only */
    /* every engine template is one upstream has */
    const cJSON *templates = cJSON_GetObjectItemCaseSensitive(root, "templates");
    for (const char *const *t = hn_chat_template_names(); *t != NULL; t++) {
        bool found = false;
        const cJSON *item;
        cJSON_ArrayForEach(item, templates) found |= strcmp(item->valuestring, *t) == 0;
        if (!found)
            g_error("the engine's template %s is not LLaMA-Factory's", *t);
    }
    cJSON_Delete(root);
    g_free(path);
    test_remove_tree(tmp);
    g_free(tmp);
}

static void test_names_and_custom(void)
{
    char **names = hone_known_model_names();
    size_t n = 0;
    hone_known_models(&n);
    g_assert_cmpuint(g_strv_length(names), ==, n + 1);
    g_assert_cmpstr(names[n], ==, HONE_CUSTOM_MODEL);
    g_strfreev(names);
    g_assert_null(hone_known_model(HONE_CUSTOM_MODEL));
    g_assert_null(hone_known_model_template(HONE_CUSTOM_MODEL));
    g_assert_null(hone_known_model_template("No-Such-Model"));
    g_assert_false(hone_known_model_is_base(HONE_CUSTOM_MODEL));
}

/* Each entry's folder name finds it, as a folder (with a trailing slash), in other case, as a
 * GGUF file with and without a quantization suffix; other names are Custom. */
static void test_from_path(void)
{
    size_t n = 0;
    const HoneKnownModel *table = hone_known_models(&n);
    for (size_t i = 0; i < n; i++) {
        const char *folder = strrchr(table[i].hub_id, '/') + 1;
        char *upper = g_ascii_strup(folder, -1);
        char *paths[] = {
            g_strdup_printf("/models/%s", folder),
            g_strdup_printf("/models/%s/", folder),
            g_strdup_printf("rel/%s", upper),
            g_strdup_printf("/m/%s.gguf", folder),
            g_strdup_printf("/m/%s.Q4_1.gguf", folder),
            g_strdup_printf("/m/%s-Q4_K_M.gguf", upper),
        };
        for (size_t p = 0; p < G_N_ELEMENTS(paths); p++) {
            if (strcmp(hone_known_model_from_path(paths[p]), table[i].name) != 0)
                g_error("%s: found %s, not %s", paths[p], hone_known_model_from_path(paths[p]),
                        table[i].name);
            g_free(paths[p]);
        }
        g_free(upper);
    }
    g_assert_cmpstr(hone_known_model_from_path("/models/Qwen3-0.6B"), ==, "Qwen3-0.6B-Thinking");
    g_assert_cmpstr(hone_known_model_from_path("/models/Qwen3-0.6B-Base"), ==, "Qwen3-0.6B-Base");
    g_assert_cmpstr(hone_known_model_from_path("/models/my-model"), ==, HONE_CUSTOM_MODEL);
    g_assert_cmpstr(hone_known_model_from_path("/models/Qwen2.5-0.5Bx"), ==, HONE_CUSTOM_MODEL);
    g_assert_cmpstr(hone_known_model_from_path(""), ==, HONE_CUSTOM_MODEL);
    g_assert_cmpstr(hone_known_model_from_path(NULL), ==, HONE_CUSTOM_MODEL);
}

static void test_warnings(void)
{
    g_assert_true(hone_template_is_chat("qwen"));
    g_assert_true(hone_template_is_chat("llama3"));
    g_assert_false(hone_template_is_chat("default"));
    g_assert_false(hone_template_is_chat("alpaca"));
    g_assert_false(hone_template_is_chat(""));
    /* a base model with a chat template */
    char *w = hone_template_warning("Qwen2.5-0.5B", "qwen");
    test_assert_contains(w, "Qwen2.5-0.5B is a base model");
    test_assert_contains(w, "qwen");
    g_free(w);
    w = hone_template_warning("SmolLM2-135M", "llama3");
    test_assert_contains(w, "base model");
    g_free(w);
    /* an instruct model with another chat template than its own */
    w = hone_template_warning("Llama-3.2-1B-Instruct", "qwen");
    test_assert_contains(w, "Llama-3.2-1B-Instruct was tuned on the llama3 template, not qwen");
    g_free(w);
    /* nothing to say */
    g_assert_null(hone_template_warning("Qwen2.5-0.5B", "default"));
    g_assert_null(hone_template_warning("Qwen2.5-0.5B", ""));
    g_assert_null(hone_template_warning("Qwen2.5-0.5B-Instruct", "qwen"));
    g_assert_null(hone_template_warning("Qwen2.5-0.5B-Instruct", ""));
    g_assert_null(hone_template_warning("SmolLM2-135M-Instruct", "chatml"));
    g_assert_null(hone_template_warning(HONE_CUSTOM_MODEL, "qwen"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/known-models/against-upstream", test_against_upstream);
    g_test_add_func("/ui/known-models/names-and-custom", test_names_and_custom);
    g_test_add_func("/ui/known-models/from-path", test_from_path);
    g_test_add_func("/ui/known-models/warnings", test_warnings);
    return g_test_run();
}
