/* PEFT LoRA adapters against peft itself (tests/reference/peft_adapter_ref.py): Hone reads the
 * adapters peft saves for tiny random Llama and Qwen2 models (r=4, rsLoRA, DoRA,
 * modules_to_save lm_head / embed_tokens (tied too), a regex target; fp32, fp16, bf16) and its
 * numbers equal the file's exactly; peft's PeftModel.from_pretrained loads the adapters Hone
 * writes (from those, and from random data) and its state dict equals Hone's data exactly. */
#include <cjson/cJSON.h>
#include <string.h>

#include "peft_adapter.h"
#include "test_util.h"

#define PEFT_PREFIX "base_model.model."

/* ---- reading peft's adapters ---- */

/* Asserts that the fp32 tensor `name` of expected.safetensors has exactly data's bits. */
static void check_tensor(const hn_st_file *expected, const char *name, const float *data,
                         int64_t numel, const char *case_name)
{
    const hn_st_tensor *t = hn_st_find(expected, name);
    if (t == NULL)
        g_error("%s: Hone has %s, which peft did not save", case_name, name);
    g_assert_cmpint(t->dtype, ==, HN_DTYPE_F32);
    g_assert_cmpint(t->numel, ==, numel);
    float *want = g_new(float, (size_t)numel);
    memcpy(want, t->data, (size_t)numel * sizeof(float)); /* not necessarily aligned */
    for (int64_t i = 0; i < numel; i++)
        if (memcmp(&want[i], &data[i], sizeof(float)) != 0)
            g_error("%s: %s[%" G_GINT64_FORMAT "]: Hone read %.9g, peft saved %.9g", case_name,
                    name, i, (double)data[i], (double)want[i]);
    g_free(want);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Asserts that list (n strings, any order) equals the JSON array `want` (sorted). */
static void check_list(char **list, size_t n, const cJSON *want, const char *what)
{
    g_assert_cmpint((int)n, ==, cJSON_GetArraySize(want));
    char **sorted = g_memdup2(list, n * sizeof *list);
    qsort(sorted, n, sizeof *sorted, compare_strings);
    for (size_t i = 0; i < n; i++)
        if (strcmp(sorted[i], cJSON_GetArrayItem(want, (int)i)->valuestring) != 0)
            g_error("%s: \"%s\" where peft has \"%s\"", what, sorted[i],
                    cJSON_GetArrayItem(want, (int)i)->valuestring);
    g_free(sorted);
}

static const char *json_text(const cJSON *c, const char *key)
{
    return cJSON_GetObjectItem(c, key)->valuestring;
}

static double json_number(const cJSON *c, const char *key)
{
    return cJSON_GetObjectItem(c, key)->valuedouble;
}

static void check_config(const hn_lora_config *config, const cJSON *c)
{
    const char *name = json_text(c, "name");
    g_assert_cmpint(config->r, ==, (int)json_number(c, "r"));
    g_assert_cmpfloat(config->lora_alpha, ==, json_number(c, "lora_alpha"));
    g_assert_cmpfloat(config->lora_dropout, ==, json_number(c, "lora_dropout"));
    g_assert_true(config->use_rslora == cJSON_IsTrue(cJSON_GetObjectItem(c, "use_rslora")));
    g_assert_true(config->use_dora == cJSON_IsTrue(cJSON_GetObjectItem(c, "use_dora")));
    g_assert_true(config->ensure_weight_tying ==
                  cJSON_IsTrue(cJSON_GetObjectItem(c, "ensure_weight_tying")));
    const cJSON *regex = cJSON_GetObjectItem(c, "target_modules_regex");
    if (cJSON_IsString(regex))
        g_assert_cmpstr(config->target_modules_regex, ==, regex->valuestring);
    else
        check_list(config->target_modules, config->n_target_modules,
                   cJSON_GetObjectItem(c, "target_modules"), name);
    const cJSON *to_save = cJSON_GetObjectItem(c, "modules_to_save");
    if (cJSON_IsNull(to_save))
        g_assert_null(config->modules_to_save);
    else
        check_list(config->modules_to_save, config->n_modules_to_save, to_save, name);
    g_assert_cmpstr(config->base_model_name_or_path, ==, json_text(c, "base_model_name_or_path"));
    g_assert_cmpstr(config->init_lora_weights, ==, json_text(c, "init_lora_weights"));
    g_assert_cmpstr(config->peft_version, ==, json_text(c, "peft_version"));
    /* the same formula in doubles as peft's layer: exactly equal */
    g_assert_cmpfloat(hn_peft_scaling(config), ==, json_number(c, "scaling"));
}

/* Reads one adapter peft saved and checks every number and field. */
static void check_read(const cJSON *c, hn_peft_adapter *adapter)
{
    const char *name = json_text(c, "name"), *folder = json_text(c, "folder");
    hn_error err = {0};
    if (hn_peft_read(folder, adapter, &err) != HN_OK)
        g_error("%s: %s", name, err.message);
    check_config(&adapter->config, c);

    char *path = g_build_filename(folder, "expected.safetensors", NULL);
    hn_st_file *expected = NULL;
    if (hn_st_open(path, &expected, &err) != HN_OK)
        g_error("%s", err.message);
    size_t n_checked = 0;
    int64_t r = adapter->config.r;
    for (size_t i = 0; i < adapter->n_modules; i++) {
        const hn_lora_module *m = &adapter->modules[i];
        char *a = g_strdup_printf(PEFT_PREFIX "%s.lora_A.weight", m->name);
        char *b = g_strdup_printf(PEFT_PREFIX "%s.lora_B.weight", m->name);
        check_tensor(expected, a, m->lora_a, r * m->in_features, name);
        check_tensor(expected, b, m->lora_b, m->out_features * r, name);
        n_checked += 2;
        if (m->magnitude != NULL) {
            char *mag = g_strdup_printf(PEFT_PREFIX "%s.lora_magnitude_vector", m->name);
            check_tensor(expected, mag, m->magnitude, m->out_features, name);
            n_checked++;
            g_free(mag);
        }
        g_free(a);
        g_free(b);
    }
    for (size_t i = 0; i < adapter->n_saved; i++) {
        char *full = g_strdup_printf(PEFT_PREFIX "%s", adapter->saved[i].name);
        check_tensor(expected, full, adapter->saved[i].data, adapter->saved[i].numel, name);
        n_checked++;
        g_free(full);
    }
    g_assert_cmpint(n_checked, ==, hn_st_count(expected));
    g_assert_cmpint(n_checked, ==, (size_t)json_number(c, "n_tensors"));
    hn_st_close(expected);
    g_free(path);
}

/* ---- writing for peft ---- */

static cJSON *tensor_json(const float *data, int ndim, const int64_t *shape)
{
    cJSON *t = cJSON_CreateObject();
    cJSON *dims = cJSON_AddArrayToObject(t, "shape");
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)shape[d]));
        numel *= shape[d];
    }
    cJSON *values = cJSON_AddArrayToObject(t, "values");
    for (int64_t i = 0; i < numel; i++)
        cJSON_AddItemToArray(values, cJSON_CreateNumber((double)data[i]));
    return t;
}

static cJSON *string_array(char **list, size_t n)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(array, cJSON_CreateString(list[i]));
    return array;
}

/* Writes the adapter as dtype into folder and returns its entry for the Python check. */
static cJSON *write_for_peft(const hn_peft_adapter *adapter, const char *folder, hn_dtype dtype,
                             const char *base_folder)
{
    hn_error err = {0};
    if (hn_peft_write(folder, adapter, dtype, &err) != HN_OK)
        g_error("%s", err.message);
    const hn_lora_config *c = &adapter->config;
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "folder", folder);
    cJSON_AddStringToObject(entry, "base", base_folder);
    cJSON_AddStringToObject(entry, "dtype", hn_dtype_name(dtype));
    cJSON_AddNumberToObject(entry, "scaling", hn_peft_scaling(c));
    cJSON *config = cJSON_AddObjectToObject(entry, "config");
    cJSON_AddNumberToObject(config, "r", c->r);
    cJSON_AddNumberToObject(config, "lora_alpha", c->lora_alpha);
    cJSON_AddNumberToObject(config, "lora_dropout", c->lora_dropout);
    cJSON_AddBoolToObject(config, "use_rslora", c->use_rslora);
    cJSON_AddBoolToObject(config, "use_dora", c->use_dora);
    cJSON_AddBoolToObject(config, "ensure_weight_tying", c->ensure_weight_tying);
    cJSON_AddStringToObject(config, "base_model_name_or_path", c->base_model_name_or_path);
    if (c->target_modules_regex != NULL)
        cJSON_AddStringToObject(config, "target_modules", c->target_modules_regex);
    else
        cJSON_AddItemToObject(config, "target_modules",
                              string_array(c->target_modules, c->n_target_modules));
    if (c->modules_to_save != NULL)
        cJSON_AddItemToObject(config, "modules_to_save",
                              string_array(c->modules_to_save, c->n_modules_to_save));
    else
        cJSON_AddNullToObject(config, "modules_to_save");
    cJSON *tensors = cJSON_AddObjectToObject(entry, "tensors");
    for (size_t i = 0; i < adapter->n_modules; i++) {
        const hn_lora_module *m = &adapter->modules[i];
        const int64_t a_shape[2] = {c->r, m->in_features}, b_shape[2] = {m->out_features, c->r};
        char *name = g_strdup_printf(PEFT_PREFIX "%s.lora_A.weight", m->name);
        cJSON_AddItemToObject(tensors, name, tensor_json(m->lora_a, 2, a_shape));
        g_free(name);
        name = g_strdup_printf(PEFT_PREFIX "%s.lora_B.weight", m->name);
        cJSON_AddItemToObject(tensors, name, tensor_json(m->lora_b, 2, b_shape));
        g_free(name);
        if (m->magnitude != NULL) {
            name = g_strdup_printf(PEFT_PREFIX "%s.lora_magnitude_vector", m->name);
            cJSON_AddItemToObject(tensors, name, tensor_json(m->magnitude, 1, &m->out_features));
            g_free(name);
        }
    }
    for (size_t i = 0; i < adapter->n_saved; i++) {
        const hn_saved_tensor *t = &adapter->saved[i];
        char *name = g_strdup_printf(PEFT_PREFIX "%s", t->name);
        cJSON_AddItemToObject(tensors, name, tensor_json(t->data, t->ndim, t->shape));
        g_free(name);
    }
    return entry;
}

static void fill_random(float *data, int64_t n, GRand *rand, double center)
{
    for (int64_t i = 0; i < n; i++)
        data[i] = (float)(center + g_rand_double_range(rand, -0.5, 0.5));
}

/* An adapter of random data on every linear of a base model whose last name part is in
 * `targets`, plus the named full tensors. */
static void make_random(hn_peft_adapter *adapter, const cJSON *base, const char *const *targets,
                        size_t n_targets, const char *const *saved_params,
                        const char *const *modules_to_save, size_t n_saved, guint32 seed)
{
    GRand *rand = g_rand_new_with_seed(seed);
    hn_peft_set_targets(&adapter->config, targets, n_targets);
    const cJSON *linear;
    cJSON_ArrayForEach(linear, cJSON_GetObjectItem(base, "linears"))
    {
        const char *leaf = strrchr(linear->string, '.');
        leaf = leaf != NULL ? leaf + 1 : linear->string;
        bool targeted = false;
        for (size_t i = 0; i < n_targets; i++)
            targeted |= strcmp(leaf, targets[i]) == 0;
        if (!targeted)
            continue;
        int64_t out = (int64_t)cJSON_GetArrayItem(linear, 0)->valuedouble;
        int64_t in = (int64_t)cJSON_GetArrayItem(linear, 1)->valuedouble;
        hn_lora_module *m = hn_peft_add_module(adapter, linear->string, in, out);
        fill_random(m->lora_a, adapter->config.r * in, rand, 0);
        fill_random(m->lora_b, out * adapter->config.r, rand, 0);
        if (m->magnitude != NULL)
            fill_random(m->magnitude, out, rand, 1);
    }
    if (n_saved > 0)
        hn_peft_set_modules_to_save(&adapter->config, modules_to_save, n_saved);
    for (size_t i = 0; i < n_saved; i++) {
        const cJSON *shape = cJSON_GetObjectItem(cJSON_GetObjectItem(base, "params"),
                                                 saved_params[i]);
        g_assert_nonnull(shape);
        int64_t dims[HN_MAX_DIMS];
        int ndim = cJSON_GetArraySize(shape);
        for (int d = 0; d < ndim; d++)
            dims[d] = (int64_t)cJSON_GetArrayItem(shape, d)->valuedouble;
        hn_saved_tensor *t = hn_peft_add_saved(adapter, saved_params[i], ndim, dims);
        fill_random(t->data, t->numel, rand, 0);
    }
    g_rand_free(rand);
}

static void add_written(cJSON *entries, const hn_peft_adapter *adapter, const char *dir,
                        const char *name, const char *base_folder)
{
    char *folder = g_strdup_printf("%s/hone/%s-f32", dir, name);
    cJSON_AddItemToArray(entries, write_for_peft(adapter, folder, HN_DTYPE_F32, base_folder));
    g_free(folder);
    folder = g_strdup_printf("%s/hone/%s-bf16", dir, name);
    cJSON_AddItemToArray(entries, write_for_peft(adapter, folder, HN_DTYPE_BF16, base_folder));
    g_free(folder);
}

static void add_random_adapters(cJSON *entries, const cJSON *bases, const char *dir)
{
    const cJSON *llama = cJSON_GetObjectItem(bases, "llama");
    const cJSON *qwen2 = cJSON_GetObjectItem(bases, "qwen2");
    const char *all[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                         "down_proj"};
    const char *qv[] = {"q_proj", "v_proj"};

    hn_peft_adapter a;
    hn_peft_adapter_init(&a); /* DoRA + rsLoRA + lm_head on every linear */
    a.config.r = 8;
    a.config.lora_alpha = 16;
    a.config.use_rslora = true;
    a.config.use_dora = true;
    a.config.lora_dropout = 0.05;
    const char *lm_head[] = {"lm_head.weight"}, *lm_head_module[] = {"lm_head"};
    make_random(&a, llama, all, G_N_ELEMENTS(all), lm_head, lm_head_module, 1, 7);
    add_written(entries, &a, dir, "random-llama-dora", json_text(llama, "folder"));
    hn_peft_adapter_free(&a);

    hn_peft_adapter_init(&a); /* a fractional alpha, embed_tokens, a base model path */
    a.config.r = 2;
    a.config.lora_alpha = 5.5;
    a.config.lora_dropout = 0.1;
    g_free(a.config.init_lora_weights);
    a.config.init_lora_weights = g_strdup("false");
    g_free(a.config.base_model_name_or_path);
    a.config.base_model_name_or_path = g_strdup(json_text(qwen2, "folder"));
    const char *embed[] = {"model.embed_tokens.weight"}, *embed_module[] = {"embed_tokens"};
    make_random(&a, qwen2, qv, G_N_ELEMENTS(qv), embed, embed_module, 1, 8);
    add_written(entries, &a, dir, "random-qwen2-embed", json_text(qwen2, "folder"));
    hn_peft_adapter_free(&a);
}

static void test_against_peft(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("peft_adapter_ref.py", "write", dir);
    char *cases_path = g_build_filename(dir, "cases.json", NULL);
    char *bases_path = g_build_filename(dir, "bases.json", NULL);
    cJSON *cases = test_load_json(cases_path), *bases = test_load_json(bases_path);
    cJSON *list = cJSON_CreateObject();
    cJSON *entries = cJSON_AddArrayToObject(list, "adapters");
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cases, "cases"))
    {
        hn_peft_adapter adapter;
        check_read(c, &adapter);
        const cJSON *base = cJSON_GetObjectItem(bases, json_text(c, "base"));
        add_written(entries, &adapter, dir, json_text(c, "name"), json_text(base, "folder"));
        hn_peft_adapter_free(&adapter);
        n++;
    }
    g_assert_cmpint(n, >=, 13);
    g_test_message("Hone read %d adapters saved by peft; every number equal", n);
    add_random_adapters(entries, bases, dir);

    char *list_path = g_build_filename(dir, "written.json", NULL);
    char *text = cJSON_PrintUnformatted(list);
    test_write_text(list_path, text);
    test_run_reference("peft_adapter_ref.py", "check", list_path);

    cJSON_free(text);
    g_free(list_path);
    cJSON_Delete(list);
    cJSON_Delete(cases);
    cJSON_Delete(bases);
    g_free(cases_path);
    g_free(bases_path);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reference/peft_adapter/peft", test_against_peft);
    return g_test_run();
}
