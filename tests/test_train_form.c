/* The Train page's form apart from its widgets (ui/train_form.c): the starting values are
 * LLaMA-Factory's Web UI's, every field survives form -> hn_train_args -> training_args.yaml ->
 * hn_train_args -> form, bad values get the engine's message naming the field, and the
 * dataset list holds what the engine can read. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "chat_template.h"
#include "known_models.h"
#include "test_util.h"
#include "train_form.h"

static GDateTime *fixed_time(void)
{
    GTimeZone *utc = g_time_zone_new_utc();
    GDateTime *t = g_date_time_new(utc, 2026, 11, 29, 11, 39, 17);
    g_time_zone_unref(utc);
    return t;
}

/* The values LLaMA-Factory's Web UI opens with (webui/components/train.py and top.py, as listed
 * in ../shared/reference/llamafactory-fields.md), as the form's text; Hone's identity keys
 * start empty (identity.json keeps its placeholders). */
static void test_webui_start_values(void)
{
    static const char *const want[][2] = {
        {"finetuning_type", "lora"}, {"backend", "auto"}, {"stage", "sft"},
        {"dataset_dir", "data"}, {"dataset", ""}, {"identity_name", ""},
        {"identity_author", ""}, {"learning_rate", "5e-05"},
        {"num_train_epochs", "3"}, {"max_grad_norm", "1"}, {"max_samples", "100000"},
        {"compute_type", "bf16"}, {"cutoff_len", "2048"}, {"per_device_train_batch_size", "2"},
        {"gradient_accumulation_steps", "8"}, {"val_size", "0"}, {"lr_scheduler_type", "cosine"},
        {"seed", "42"}, {"logging_steps", "5"}, {"save_steps", "100"}, {"warmup_steps", "0"},
        {"packing", ""}, {"neat_packing", "false"}, {"train_on_prompt", "false"},
        {"mask_history", "false"}, {"enable_thinking", "true"},
        {"freeze_trainable_layers", "2"}, {"freeze_trainable_modules", "all"},
        {"freeze_extra_modules", ""}, {"lora_rank", "8"}, {"lora_alpha", "16"},
        {"lora_dropout", "0"}, {"loraplus_lr_ratio", ""}, {"create_new_adapter", "false"},
        {"use_rslora", "false"}, {"use_dora", "false"}, {"pissa_init", "false"},
        {"lora_target", "all"}, {"additional_target", ""}, {"model_name_or_path", ""},
        {"adapter_name_or_path", ""}, {"template", ""}, {"model_name", "Custom"},
        {"pref_beta", "0.1"}, {"pref_ftx", "0"}, {"pref_loss", "sigmoid"}, {"simpo_gamma", "0.5"},
        {"output_dir", "train_2026-11-29-11-39-17"},
    };
    GDateTime *now = fixed_time();
    HoneTrainForm form;
    hone_train_form_init(&form, "/saves", now);
    size_t n = 0;
    hone_train_form_fields(&n);
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(want)); /* every field is listed here */
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_nonnull(hone_train_form_field(want[i][0]));
        g_assert_cmpstr(hone_train_form_get(&form, want[i][0]), ==, want[i][1]);
    }
    hone_train_form_clear(&form);
    g_date_time_unref(now);
}

/* A value for field different from `old`, drawn at random within what the engine accepts. */
static char *random_value(const HoneFormField *f, const char *old)
{
    hn_train_arg_info info = {0};
    hn_train_args_key_info(f->key, &info);
    for (;;) {
        char *v = NULL;
        switch (f->kind) {
        case HONE_FIELD_INT: {
            double lo = fmax(info.min, -1000), hi = fmin(info.max, 100000);
            v = g_strdup_printf("%d", g_test_rand_int_range((gint32)lo, (gint32)hi + 1));
            break;
        }
        case HONE_FIELD_NUMBER: {
            double hi = fmin(info.max, 10);
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            v = g_strdup(g_ascii_formatd(buf, sizeof buf, "%.4g",
                                         g_test_rand_double_range(0, hi)));
            break;
        }
        case HONE_FIELD_CHOICE: {
            char **list = hone_train_form_choices(f);
            v = g_strdup(list[g_test_rand_int_range(0, (gint32)g_strv_length(list))]);
            g_strfreev(list);
            break;
        }
        case HONE_FIELD_SWITCH:
            v = g_strdup(g_test_rand_bit() ? "true" : "false");
            break;
        case HONE_FIELD_TEXT:
        case HONE_FIELD_PATH:
            if (strcmp(f->key, "output_dir") == 0)
                v = g_strdup_printf("run_%u", g_test_rand_int_range(0, 1 << 30));
            else if (info.kind == HN_ARG_LIST)
                v = g_strdup_printf("m%u,n%u", g_test_rand_int_range(0, 1000),
                                    g_test_rand_int_range(0, 1000));
            else
                v = g_strdup_printf("/models/x%u", g_test_rand_int_range(0, 1 << 30));
            break;
        case HONE_FIELD_DATASETS:
            v = g_strdup_printf("d%u,e%u", g_test_rand_int_range(0, 1000),
                                g_test_rand_int_range(0, 1000));
            break;
        }
        if (strcmp(v, old) != 0)
            return v;
        g_free(v);
    }
}

/* Equal as text, or as numbers for number fields (5e-05 and 0.00005 are one value). */
static void assert_same(const HoneFormField *f, const char *got, const char *want)
{
    if (f->kind == HONE_FIELD_NUMBER && want[0] != '\0') {
        g_assert_cmpfloat(g_ascii_strtod(got, NULL), ==, g_ascii_strtod(want, NULL));
        return;
    }
    if (strcmp(got, want) != 0)
        g_error("field %s: \"%s\" came back as \"%s\"", f->key, want, got);
}

/* Every field, set to a random value other than its start, survives the whole round trip. */
static void test_round_trip_every_field(void)
{
    char *tmp = test_make_tmpdir();
    GDateTime *now = fixed_time();
    for (int round = 0; round < 20; round++) {
        HoneTrainForm form, back;
        hone_train_form_init(&form, tmp, now);
        size_t n = 0;
        const HoneFormField *fields = hone_train_form_fields(&n);
        for (size_t i = 0; i < n; i++) {
            char *v = random_value(&fields[i], form.values[i]);
            hone_train_form_set(&form, fields[i].key, v);
            g_free(v);
        }
        /* the model name is not saved: it comes back from the model path, so the path is one
         * of that model's folder, as a folder or a GGUF file */
        const HoneKnownModel *known = hone_known_model(hone_train_form_get(&form, "model_name"));
        if (known != NULL) {
            char *model = g_strdup_printf(round % 2 ? "/models/%s" : "/models/%s.Q4_1.gguf",
                                          strrchr(known->hub_id, '/') + 1);
            hone_train_form_set(&form, "model_name_or_path", model);
            g_free(model);
        }
        hn_train_args args, loaded;
        hn_error err = {0};
        hn_train_args_init(&args);
        if (hone_train_form_to_args(&form, &args, &err) != HN_OK)
            g_error("round %d: %s", round, err.message);
        g_assert_true(args.do_train);
        g_assert_true(args.plot_loss);
        /* the relative output name lands under saves/MODEL/METHOD */
        char *model_name = g_path_get_basename(hone_train_form_get(&form, "model_name_or_path"));
        char *want_out = g_build_filename(tmp, model_name,
                                          hone_train_form_get(&form, "finetuning_type"),
                                          hone_train_form_get(&form, "output_dir"), NULL);
        g_assert_cmpstr(args.output_dir, ==, want_out);
        g_free(want_out);
        g_free(model_name);

        char *yaml = hn_train_args_to_yaml(&args);
        hn_train_args_init(&loaded);
        char **ignored = NULL;
        if (hn_train_args_parse(&loaded, yaml, strlen(yaml), "training_args.yaml", false,
                                &ignored, &err) != HN_OK)
            g_error("round %d: %s\n%s", round, err.message, yaml);
        g_assert_cmpuint(g_strv_length(ignored), ==, 0);
        g_strfreev(ignored);

        hone_train_form_init(&back, tmp, now);
        hone_train_form_from_args(&back, &loaded);
        for (size_t i = 0; i < n; i++)
            assert_same(&fields[i], back.values[i], form.values[i]);

        g_free(yaml);
        hn_train_args_clear(&args);
        hn_train_args_clear(&loaded);
        hone_train_form_clear(&back);
        hone_train_form_clear(&form);
    }
    g_date_time_unref(now);
    test_remove_tree(tmp);
    g_free(tmp);
}

/* The choice lists: the model names then Custom, the template's auto ("") then every engine
 * template, the engine's own choices elsewhere; what "" shows as. */
static void test_choices(void)
{
    char **names = hone_train_form_choices(hone_train_form_field("model_name"));
    size_t n = 0;
    const HoneKnownModel *known = hone_known_models(&n);
    g_assert_cmpuint(g_strv_length(names), ==, n + 1);
    g_assert_cmpstr(names[0], ==, known[0].name);
    g_assert_cmpstr(names[n], ==, "Custom");
    g_strfreev(names);
    const HoneFormField *tf = hone_train_form_field("template");
    g_assert_cmpint(tf->kind, ==, HONE_FIELD_CHOICE);
    char **templates = hone_train_form_choices(tf);
    const char *const *engine = hn_chat_template_names();
    g_assert_cmpuint(g_strv_length(templates), ==, g_strv_length((char **)engine) + 1);
    g_assert_cmpstr(templates[0], ==, "");
    for (size_t i = 0; engine[i] != NULL; i++)
        g_assert_cmpstr(templates[i + 1], ==, engine[i]);
    g_strfreev(templates);
    g_assert_cmpstr(hone_train_form_choice_label(tf, ""), ==, "auto");
    g_assert_cmpstr(hone_train_form_choice_label(tf, "qwen"), ==, "qwen");
    char **backends = hone_train_form_choices(hone_train_form_field("backend"));
    g_assert_cmpuint(g_strv_length(backends), ==, 3);
    g_assert_cmpstr(backends[0], ==, "auto");
    g_strfreev(backends);
    char **stages = hone_train_form_choices(hone_train_form_field("stage"));
    g_assert_cmpuint(g_strv_length(stages), ==, 5); /* pt sft rm dpo kto: not ppo */
    g_assert_cmpstr(stages[4], ==, "kto");
    g_strfreev(stages);
    /* the saves folder of a model and method */
    char *dir = hone_train_form_saves_dir("/saves", "/m/Qwen2.5-0.5B/", "lora");
    g_assert_cmpstr(dir, ==, "/saves/Qwen2.5-0.5B/lora");
    g_free(dir);
    dir = hone_train_form_saves_dir(NULL, "", "full");
    char *want = g_build_filename(g_get_user_data_dir(), "hone", "saves", "model", "full", NULL);
    g_assert_cmpstr(dir, ==, want);
    g_free(want);
    g_free(dir);
}

/* An absolute output folder is kept as it is both ways; empty fields without a default stay
 * unset; compute type fp32 clears bf16. */
static void test_output_and_unset_fields(void)
{
    GDateTime *now = fixed_time();
    HoneTrainForm form;
    hone_train_form_init(&form, "/saves", now);
    hone_train_form_set(&form, "model_name_or_path", "/m/SmolLM2-135M/");
    char *path = hone_train_form_output_path(&form);
    g_assert_cmpstr(path, ==, "/saves/SmolLM2-135M/lora/train_2026-11-29-11-39-17");
    g_free(path);
    hone_train_form_set(&form, "output_dir", "/elsewhere/run1");
    hone_train_form_set(&form, "max_samples", "");
    hone_train_form_set(&form, "compute_type", "fp32");
    hn_train_args args;
    hn_error err = {0};
    hn_train_args_init(&args);
    g_assert_cmpint(hone_train_form_to_args(&form, &args, &err), ==, HN_OK);
    g_assert_cmpstr(args.output_dir, ==, "/elsewhere/run1");
    g_assert_cmpint(args.max_samples, ==, 0); /* unset: every sample */
    g_assert_false(args.bf16);
    g_assert_false(args.packing_set);
    HoneTrainForm back;
    hone_train_form_init(&back, "/saves", now);
    hone_train_form_from_args(&back, &args);
    g_assert_cmpstr(hone_train_form_get(&back, "output_dir"), ==, "/elsewhere/run1");
    g_assert_cmpstr(hone_train_form_get(&back, "max_samples"), ==, "");
    g_assert_cmpstr(hone_train_form_get(&back, "compute_type"), ==, "fp32");
    hn_train_args_clear(&args);
    hone_train_form_clear(&back);
    hone_train_form_clear(&form);
    g_date_time_unref(now);
}

/* Bad values get the engine's message, naming the page's field and the key. */
static void test_bad_values(void)
{
    static const char *const cases[][3] = {
        {"learning_rate", "fast", "Train page, Learning rate: learning_rate must be a number"},
        {"lora_rank", "0", "Train page, LoRA rank: lora_rank must be between 1 and"},
        {"cutoff_len", "", "Train page, Cutoff length: cutoff_len must be a whole number"},
        {"lora_target", "", "Train page, LoRA modules: lora_target needs a value"},
        {"stage", "ppo2", "Train page, Stage: stage must be one of"},
        {"compute_type", "fp16", "Train page, Compute type: must be bf16 or fp32"},
        {"output_dir", "", "Train page, Output folder: needs a folder name"},
    };
    GDateTime *now = fixed_time();
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        HoneTrainForm form;
        hone_train_form_init(&form, "/saves", now);
        g_assert_true(hone_train_form_set(&form, cases[i][0], cases[i][1]));
        hn_train_args args;
        hn_error err = {0};
        hn_train_args_init(&args);
        g_assert_cmpint(hone_train_form_to_args(&form, &args, &err), ==, HN_ERR_ARGUMENT);
        test_assert_contains(err.message, cases[i][2]);
        hn_train_args_clear(&args);
        hone_train_form_clear(&form);
    }
    HoneTrainForm form;
    hone_train_form_init(&form, NULL, now);
    g_assert_false(hone_train_form_set(&form, "no_such_key", "1"));
    g_assert_null(hone_train_form_get(&form, "no_such_key"));
    hone_train_form_clear(&form);
    g_date_time_unref(now);
}

/* The dataset list: the repository's data/ folder, and a folder whose entries the engine cannot
 * read (a hub entry, a split other than train) or cannot list (a comma in the name). */
static void test_dataset_names(void)
{
    char *data = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
    char **names = NULL;
    hn_error err = {0};
    g_assert_cmpint(hone_dataset_names(data, NULL, &names, &err), ==, HN_OK);
    g_assert_true(g_strv_contains((const char *const *)names, "identity"));
    g_assert_true(g_strv_contains((const char *const *)names, "alpaca_en_demo"));
    g_assert_true(g_strv_contains((const char *const *)names, "dpo_en_demo"));
    g_strfreev(names);
    /* as upstream's Web UI: rm and dpo list the ranking datasets, other stages the rest */
    const char *stages[] = {"dpo", "rm", "sft", "kto"};
    for (size_t i = 0; i < G_N_ELEMENTS(stages); i++) {
        g_assert_cmpint(hone_dataset_names(data, stages[i], &names, &err), ==, HN_OK);
        gboolean pairs = i < 2;
        g_assert_true(g_strv_contains((const char *const *)names, "dpo_zh_demo") == pairs);
        g_assert_true(g_strv_contains((const char *const *)names, "identity") == !pairs);
        g_assert_true(g_strv_contains((const char *const *)names, "kto_en_demo") == !pairs);
        g_strfreev(names);
    }
    g_free(data);

    char *tmp = test_make_tmpdir();
    char *info = g_build_filename(tmp, "dataset_info.json", NULL);
    test_write_text(info, "{\"mine\": {\"file_name\": \"mine.json\"},\n"
                          " \"hub\": {\"hf_hub_url\": \"someone/data\"},\n"
                          " \"a,b\": {\"file_name\": \"ab.json\"},\n"
                          " \"test_split\": {\"file_name\": \"t.json\", \"split\": \"test\"}}");
    g_assert_cmpint(hone_dataset_names(tmp, NULL, &names, &err), ==, HN_OK);
    g_assert_cmpuint(g_strv_length(names), ==, 1);
    g_assert_cmpstr(names[0], ==, "mine");
    g_strfreev(names);
    test_write_text(info, "{\"mine\": ");
    g_assert_cmpint(hone_dataset_names(tmp, NULL, &names, &err), !=, HN_OK);
    test_assert_contains(err.message, "dataset_info.json");
    g_remove(info);
    g_assert_cmpint(hone_dataset_names(tmp, NULL, &names, &err), !=, HN_OK);
    test_assert_contains(err.message, info);
    g_free(info);
    test_remove_tree(tmp);
    g_free(tmp);
}

/* Save arguments then Load arguments give the form back; a file with keys Hone does not use
 * lists them; a broken file names its place. */
static void test_save_and_load(void)
{
    char *tmp = test_make_tmpdir();
    char *path = g_build_filename(tmp, "args.yaml", NULL);
    GDateTime *now = fixed_time();
    HoneTrainForm form, back;
    hone_train_form_init(&form, tmp, now);
    hone_train_form_set(&form, "model_name_or_path", "/models/SmolLM2");
    hone_train_form_set(&form, "dataset", "identity,alpaca_en_demo");
    hone_train_form_set(&form, "learning_rate", "0.0002");
    hone_train_form_set(&form, "use_dora", "true");
    hone_train_form_set(&form, "lora_target", "q_proj,v_proj");
    hn_error err = {0};
    g_assert_cmpint(hone_train_form_save(&form, path, &err), ==, HN_OK);
    hone_train_form_init(&back, tmp, now);
    char **ignored = NULL;
    g_assert_cmpint(hone_train_form_load(&back, path, &ignored, &err), ==, HN_OK);
    g_assert_cmpuint(g_strv_length(ignored), ==, 0);
    g_strfreev(ignored);
    size_t n = 0;
    const HoneFormField *fields = hone_train_form_fields(&n);
    for (size_t i = 0; i < n; i++)
        assert_same(&fields[i], back.values[i], form.values[i]);
    hone_train_form_clear(&back);

    test_write_text(path, "model_name_or_path: /m\nlearning_rate: 1e-4\nreport_to: wandb\n");
    hone_train_form_init(&back, tmp, now);
    g_assert_cmpint(hone_train_form_load(&back, path, &ignored, &err), ==, HN_OK);
    g_assert_cmpuint(g_strv_length(ignored), ==, 1);
    g_assert_cmpstr(ignored[0], ==, "report_to");
    g_strfreev(ignored);
    g_assert_cmpstr(hone_train_form_get(&back, "learning_rate"), ==, "0.0001");
    g_assert_cmpstr(hone_train_form_get(&back, "lr_scheduler_type"), ==, "linear"); /* file's */
    hone_train_form_clear(&back);

    test_write_text(path, "learning_rate: [1\n");
    hone_train_form_init(&back, tmp, now);
    g_assert_cmpint(hone_train_form_load(&back, path, NULL, &err), !=, HN_OK);
    test_assert_contains(err.message, path);
    hone_train_form_clear(&back);
    hone_train_form_clear(&form);
    g_date_time_unref(now);
    g_free(path);
    test_remove_tree(tmp);
    g_free(tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/train-form/webui-start-values", test_webui_start_values);
    g_test_add_func("/ui/train-form/round-trip-every-field", test_round_trip_every_field);
    g_test_add_func("/ui/train-form/output-and-unset-fields", test_output_and_unset_fields);
    g_test_add_func("/ui/train-form/choices", test_choices);
    g_test_add_func("/ui/train-form/bad-values", test_bad_values);
    g_test_add_func("/ui/train-form/dataset-names", test_dataset_names);
    g_test_add_func("/ui/train-form/save-and-load", test_save_and_load);
    return g_test_run();
}
