/* Freeze and LoRA selection against LLaMA-Factory's init_adapter with PEFT on tiny models of
 * each decoder family (tests/reference/trainable_ref.py): the same weights train, and where
 * upstream refuses a configuration, Hone does too. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"
#include "trainable.h"

static const char *string_arg(const cJSON *args, const char *key, const char *fallback)
{
    const cJSON *v = cJSON_GetObjectItem(args, key);
    return cJSON_IsString(v) ? v->valuestring : fallback;
}

static const char *kind_text(hn_train_kind kind)
{
    return kind == HN_TRAIN_FULL ? "full" : kind == HN_TRAIN_LORA ? "lora" : "frozen";
}

/* Compares one case; returns false (with a message) on a difference. */
static bool check_case(int index, const cJSON *c)
{
    const char *family = cJSON_GetObjectItem(c, "family")->valuestring;
    const char *method = cJSON_GetObjectItem(c, "method")->valuestring;
    const cJSON *args = cJSON_GetObjectItem(c, "args");
    const cJSON *names_json = cJSON_GetObjectItem(c, "names");
    size_t n = (size_t)cJSON_GetArraySize(names_json);
    const char **names = g_new(const char *, n);
    int num_layers = 0;
    for (size_t i = 0; i < n; i++) {
        names[i] = cJSON_GetArrayItem(names_json, (int)i)->valuestring;
        int layer = -1;
        if (sscanf(names[i], "model.layers.%d.", &layer) == 1 && layer + 1 > num_layers)
            num_layers = layer + 1;
    }
    bool tied = true;
    for (size_t i = 0; i < n; i++)
        tied &= strcmp(names[i], "lm_head.weight") != 0;
    hn_train_kind *kinds = g_new0(hn_train_kind, n), lm_head = HN_TRAIN_FROZEN;
    hn_error err = {0};
    hn_status status;
    if (strcmp(method, "freeze") == 0) {
        hn_freeze_options o;
        hn_freeze_options_init(&o);
        const cJSON *layers = cJSON_GetObjectItem(args, "freeze_trainable_layers");
        if (layers != NULL)
            o.freeze_trainable_layers = layers->valueint;
        o.freeze_trainable_modules = string_arg(args, "freeze_trainable_modules", "all");
        o.freeze_extra_modules = string_arg(args, "freeze_extra_modules", NULL);
        status = hn_select_freeze(names, n, num_layers, &o, kinds, &err);
    } else {
        hn_lora_target_options o;
        hn_lora_target_options_init(&o);
        o.lora_target = string_arg(args, "lora_target", "all");
        o.additional_target = string_arg(args, "additional_target", NULL);
        status = hn_select_lora(names, n, tied, &o, kinds, &lm_head, &err);
    }
    char *label = cJSON_PrintUnformatted(args);
    bool ok = true;
    const cJSON *upstream_error = cJSON_GetObjectItem(c, "error");
    if (upstream_error != NULL || status != HN_OK) {
        ok = upstream_error != NULL && status != HN_OK;
        if (!ok)
            g_test_message("case %d (%s %s %s): Hone says \"%s\", upstream \"%s\"", index, family,
                           method, label, status == HN_OK ? "ok" : err.message,
                           upstream_error != NULL ? upstream_error->valuestring : "ok");
    } else {
        const cJSON *trainable = cJSON_GetObjectItem(c, "trainable");
        int n_expected = cJSON_GetArraySize(trainable), n_got = 0;
        for (size_t i = 0; i < n + (tied ? 1 : 0); i++) { /* a tied lm_head last */
            const char *name = i < n ? names[i] : "lm_head.weight";
            hn_train_kind got = i < n ? kinds[i] : lm_head;
            const cJSON *want = cJSON_GetObjectItem(trainable, name);
            const char *want_text = want != NULL ? want->valuestring : "frozen";
            n_got += got != HN_TRAIN_FROZEN;
            if (strcmp(kind_text(got), want_text) != 0) {
                g_test_message("case %d (%s %s %s): %s is %s, upstream %s", index, family, method,
                               label, name, kind_text(got), want_text);
                ok = false;
            }
        }
        ok &= n_got == n_expected;
    }
    g_free(label);
    g_free(kinds);
    g_free(names);
    return ok;
}

static void test_against_llamafactory(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("trainable_ref.py", "write", dir);
    char *path = g_build_filename(dir, "expected.json", NULL);
    cJSON *cases = test_load_json(path);
    int passed = 0, total = cJSON_GetArraySize(cases);
    for (int i = 0; i < total; i++)
        passed += check_case(i, cJSON_GetArrayItem(cases, i));
    g_test_message("%d of %d selections equal LLaMA-Factory's", passed, total);
    g_assert_cmpint(total, >=, 60);
    g_assert_cmpint(passed, ==, total);
    cJSON_Delete(cases);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

static const char *const NAMES[] = {
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
    "model.layers.0.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
    "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.q_proj.bias",
    "model.layers.1.mlp.down_proj.weight", "model.layers.1.input_layernorm.weight",
    "model.norm.weight",
};

static void expect_lora_error(const char *target, const char *additional, const char *needle)
{
    hn_lora_target_options o = {target, additional};
    hn_train_kind kinds[G_N_ELEMENTS(NAMES)], lm_head;
    hn_error err = {0};
    g_assert_cmpint(hn_select_lora(NAMES, G_N_ELEMENTS(NAMES), true, &o, kinds, &lm_head, &err),
                    ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, needle);
}

/* Messages of Hone's own, and the rules by hand on a small name list. */
static void test_by_hand(void)
{
    size_t n = G_N_ELEMENTS(NAMES);
    hn_train_kind kinds[G_N_ELEMENTS(NAMES)], lm_head;
    hn_error err = {0};
    hn_lora_target_options lora;
    hn_lora_target_options_init(&lora);
    g_assert_cmpint(hn_select_lora(NAMES, n, true, &lora, kinds, &lm_head, &err), ==, HN_OK);
    for (size_t i = 0; i < n; i++) /* all linear weights get LoRA; biases and norms do not */
        g_assert_cmpint(kinds[i], ==, g_str_has_suffix(NAMES[i], "proj.weight") ? HN_TRAIN_LORA
                                                                                : HN_TRAIN_FROZEN);
    g_assert_cmpint(lm_head, ==, HN_TRAIN_FROZEN);
    expect_lora_error("W_pack", NULL, "lora_target W_pack: matches no module of this model (its "
                      "linear layers: q_proj, down_proj, lm_head; or all)");
    expect_lora_error("embed_tokens", NULL, "model.embed_tokens is an embedding (LoRA on "
                      "embeddings is not supported yet)");
    expect_lora_error("mlp", NULL, "model.layers.0.mlp is a block of layers");
    expect_lora_error("input_layernorm", NULL, "is a norm layer");
    expect_lora_error("all", "q_proj", "additional_target q_proj: model.layers.0.self_attn.q_proj "
                      "has a LoRA adapter already");
    expect_lora_error("q_proj,lm_head", "lm_head", "lm_head has a LoRA adapter already");
    expect_lora_error("all", "vision_tower", "additional_target vision_tower: matches no module");

    hn_freeze_options freeze;
    hn_freeze_options_init(&freeze);
    freeze.freeze_trainable_layers = -1;
    freeze.freeze_trainable_modules = "self_attn";
    g_assert_cmpint(hn_select_freeze(NAMES, n, 2, &freeze, kinds, &err), ==, HN_OK);
    for (size_t i = 0; i < n; i++)
        g_assert_cmpint(kinds[i], ==, g_str_has_prefix(NAMES[i], "model.layers.0.self_attn.")
                                          ? HN_TRAIN_FULL : HN_TRAIN_FROZEN);
    freeze.freeze_trainable_modules = "attn";
    g_assert_cmpint(hn_select_freeze(NAMES, n, 2, &freeze, kinds, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "freeze_trainable_modules: module \"attn\" is not in this "
                                      "model; choose from self_attn, mlp, input_layernorm");
    g_assert_cmpint(hn_select_freeze(NAMES, n, 0, &freeze, kinds, &err), ==, HN_ERR_ARGUMENT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/trainable/by-hand", test_by_hand);
    g_test_add_func("/reference/trainable/llamafactory", test_against_llamafactory);
    return g_test_run();
}
