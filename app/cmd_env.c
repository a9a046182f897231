/* `hone env`: the version, the build, the backends and what each can use on this machine;
 * with --model PATH, a description of a model folder or a GGUF file. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "backend_choice.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "device_info.h"
#include "gguf_model.h"
#include "model_dir.h"
#if HONE_HAVE_GUI
#include "gui_info.h"
#endif

static void print_build(void)
{
    printf("hone %s\n", HONE_VERSION);
    printf("  build:        %s, %s\n", HONE_BUILD_TYPE, HONE_C_COMPILER);
    printf("  desktop app:  %s\n", HONE_HAVE_GUI ? "built in (GTK4 + libadwaita)" : "not built (-Dgui=disabled)");
    printf("  backends:     cpu%s\n", HONE_HAVE_CUDA ? ", cuda (" HONE_CUDA_ARCHS ")" : "");
}

static void print_cpu(void)
{
    hn_cpu_info cpu;
    hn_cpu_probe(&cpu);
    printf("\nCPU backend: usable\n");
    if (cpu.model[0] != '\0')
        printf("  processor:    %s\n", cpu.model);
    printf("  features:     %s\n", cpu.features[0] != '\0' ? cpu.features : "(none detected)");
    printf("  threads:      %d logical cores, OpenMP uses %d\n", cpu.logical_cores, cpu.openmp_threads);
    printf("  BLAS:         %s, kernels for %s, %d threads\n", cpu.blas, cpu.blas_core, cpu.blas_threads);
}

static void print_version_pair(const char *label, int version)
{
    if (version == 0)
        printf("  %-13s none\n", label);
    else
        printf("  %-13s %d.%d\n", label, version / 1000, version % 1000 / 10);
}

static void print_cuda(void)
{
    hn_cuda_info cuda;
    hn_cuda_probe(&cuda);
    if (!cuda.compiled) {
        printf("\nCUDA backend: not available: %s\n", cuda.reason);
        return;
    }
    int usable = 0;
    for (int d = 0; d < cuda.device_count; d++)
        usable += cuda.gpus[d].kernel_ok;
    if (usable > 0)
        printf("\nCUDA backend: usable (%d GPU%s)\n", usable, usable == 1 ? "" : "s");
    else
        printf("\nCUDA backend: no usable GPU: %s\n",
               cuda.device_count == 0 ? cuda.reason : "no GPU ran the self-test kernel");
    print_version_pair("runtime:", cuda.runtime_version);
    print_version_pair("driver:", cuda.driver_version);
    printf("  GPU code:     %s\n", cuda.archs);
    for (int d = 0; d < cuda.device_count; d++) {
        const hn_gpu_info *gpu = &cuda.gpus[d];
        char mem[32];
        printf("  GPU %d:        %s, %s, compute capability %d.%d, %d SMs, %s\n", d, gpu->name,
               hone_format_bytes(gpu->total_memory, mem, sizeof mem), gpu->major, gpu->minor,
               gpu->multiprocessors,
               gpu->kernel_ok ? "self-test kernel ran" : gpu->kernel_error);
    }
    for (int i = 0; i < cuda.n_libraries; i++) {
        const hn_cuda_library *lib = &cuda.libraries[i];
        char label[32];
        snprintf(label, sizeof label, "%s:", lib->name);
        if (lib->loaded)
            printf("  %-13s %s (%s)\n", label, lib->version, lib->path);
        else
            printf("  %-13s not found (%s)\n", label, lib->error);
    }
}

/* What `backend: auto` (the default of train, eval, chat and score) runs on here. */
static void print_auto_choice(void)
{
    hn_backend_request request = {.backend = "auto"};
    hn_backend_choice choice;
    hn_error err = {0};
    if (hn_backend_choose(&request, &choice, &err) == HN_OK)
        printf("\nauto chooses: %s\n", choice.line);
    else
        printf("\nauto chooses: nothing: %s\n", err.message);
}

static void print_libraries(void)
{
    printf("\nLibraries\n");
    printf("  GLib %u.%u.%u, cJSON %s, libyaml %s", glib_major_version, glib_minor_version,
           glib_micro_version, cJSON_Version(), yaml_get_version_string());
#if HONE_HAVE_GUI
    GString *gui = g_string_new(", ");
    hone_gui_append_versions(gui);
    printf("%s", gui->str);
    g_string_free(gui, TRUE);
#endif
    printf("\n");
}

/* "BF16 x 272 tensors (134,515,008 values), F32 x 2 ..." */
static void print_dtype_histogram(const hn_tensor_store *weights)
{
    size_t tensors[HN_DTYPE_COUNT] = {0};
    int64_t values[HN_DTYPE_COUNT] = {0};
    for (size_t i = 0; i < hn_tensor_store_count(weights); i++) {
        const hn_st_tensor *t = hn_tensor_store_get(weights, i, NULL);
        tensors[t->dtype]++;
        values[t->dtype] += t->numel;
    }
    printf("  tensor dtypes:");
    const char *separator = " ";
    for (int d = 0; d < HN_DTYPE_COUNT; d++) {
        if (tensors[d] == 0)
            continue;
        char count[32];
        printf("%s%s x %zu tensors (%s values)", separator, hn_dtype_name((hn_dtype)d), tensors[d],
               hone_format_count(values[d], count, sizeof count));
        separator = ", ";
    }
    printf("\n");
}

static void print_token_ids(const char *label, const int64_t *ids, int n)
{
    printf("%s", label);
    if (n == 0)
        printf("none");
    for (int i = 0; i < n; i++)
        printf("%s%" PRId64, i > 0 ? ", " : "", ids[i]);
}

static void print_rope(const hn_rope *rope)
{
    printf("  RoPE:         theta %g, %s", rope->theta, hn_rope_type_name(rope->type));
    if (rope->type != HN_ROPE_DEFAULT)
        printf(" scaling, factor %g", rope->factor);
    if (rope->original_max_position_embeddings > 0)
        printf(", original max positions %" PRId64, rope->original_max_position_embeddings);
    if (rope->type == HN_ROPE_LLAMA3)
        printf(", low/high freq factor %g/%g", rope->low_freq_factor, rope->high_freq_factor);
    if (rope->type == HN_ROPE_YARN)
        printf(", beta fast/slow %g/%g", rope->beta_fast, rope->beta_slow);
    printf("\n");
}

static int describe_model(const char *path)
{
    hn_error err = {0};
    hn_model_dir *model = NULL;
    if (hn_model_dir_open(path, &model, &err) != HN_OK)
        return hone_fail("env", "%s", err.message);
    const hn_model_config *c = &model->config;
    char have[32], expect[32];
    int64_t params = hn_model_dir_param_count(model);
    int64_t expected = hn_model_config_param_count(c);
    printf("Model %s\n", model->path);
    printf("  architecture: %s (model_type %s)\n", c->architecture, c->model_type);
    printf("  parameters:   %s in the weights; the config implies %s%s\n",
           hone_format_count(params, have, sizeof have),
           hone_format_count(expected, expect, sizeof expect),
           params == expected ? "" : " (they differ)");
    printf("  shape:        %" PRId64 " layers, hidden %" PRId64 ", intermediate %" PRId64
           ", %" PRId64 " heads (%" PRId64 " KV heads, head_dim %" PRId64 "), vocab %" PRId64 "\n",
           c->num_hidden_layers, c->hidden_size, c->intermediate_size, c->num_attention_heads,
           c->num_key_value_heads, c->head_dim, c->vocab_size);
    printf("  context:      %" PRId64 " positions, rms_norm_eps %g, tied embeddings %s, "
           "q/k/v bias %s, q/k norm %s\n",
           c->max_position_embeddings, c->rms_norm_eps, c->tie_word_embeddings ? "yes" : "no",
           c->attention_bias ? "yes" : "no", c->qk_norm ? "yes" : "no");
    print_rope(&c->rope);
    printf("  saved as:     %s (torch_dtype)\n", hn_dtype_name(c->torch_dtype));
    print_dtype_histogram(model->weights);

    int n_shards = hn_tensor_store_shard_count(model->weights);
    printf("  shards:       %d%s%s\n", n_shards,
           hn_tensor_store_index_path(model->weights) != NULL ? ", listed in " : "",
           hn_tensor_store_index_path(model->weights) != NULL ? "model.safetensors.index.json" : "");
    for (int s = 0; s < n_shards; s++) {
        const hn_st_file *shard = hn_tensor_store_shard(model->weights, s);
        char *base = g_path_get_basename(hn_st_path(shard));
        char size[32];
        printf("    %s: %s, %zu tensors\n", base,
               hone_format_bytes(hn_st_file_size(shard), size, sizeof size), hn_st_count(shard));
        g_free(base);
    }
    printf("  tokenizer:    ");
    if (model->tokenizer_files->len == 0)
        printf("no tokenizer files found");
    for (guint i = 0; i < model->tokenizer_files->len; i++)
        printf("%s%s", i > 0 ? ", " : "", (char *)g_ptr_array_index(model->tokenizer_files, i));
    printf("\n");
    printf("  special ids:  bos %" PRId64 ", ", c->bos_token_id);
    print_token_ids("eos ", c->eos_token_ids, c->n_eos);
    printf(", pad %" PRId64 "\n", c->pad_token_id);
    if (model->has_generation_config) {
        const hn_generation_config *g = &model->generation;
        printf("  generation:   do_sample %s, temperature %g, top_p %g, top_k %" PRId64
               ", repetition_penalty %g, ",
               g->do_sample ? "yes" : "no", g->temperature, g->top_p, g->top_k,
               g->repetition_penalty);
        print_token_ids("eos ", g->eos_token_ids, g->n_eos);
        printf("\n");
    } else {
        printf("  generation:   no generation_config.json\n");
    }
    hn_model_dir_close(model);
    return HONE_EXIT_OK;
}

/* llama.cpp's llama_ftype names (gguf-py LlamaFileType), by general.file_type. */
static const char *const file_type_names[] = {
    [0] = "ALL_F32",        [1] = "MOSTLY_F16",     [2] = "MOSTLY_Q4_0",    [3] = "MOSTLY_Q4_1",
    [7] = "MOSTLY_Q8_0",    [8] = "MOSTLY_Q5_0",    [9] = "MOSTLY_Q5_1",    [10] = "MOSTLY_Q2_K",
    [11] = "MOSTLY_Q3_K_S", [12] = "MOSTLY_Q3_K_M", [13] = "MOSTLY_Q3_K_L", [14] = "MOSTLY_Q4_K_S",
    [15] = "MOSTLY_Q4_K_M", [16] = "MOSTLY_Q5_K_S", [17] = "MOSTLY_Q5_K_M", [18] = "MOSTLY_Q6_K",
    [19] = "MOSTLY_IQ2_XXS", [20] = "MOSTLY_IQ2_XS", [21] = "MOSTLY_Q2_K_S", [22] = "MOSTLY_IQ3_XS",
    [23] = "MOSTLY_IQ3_XXS", [24] = "MOSTLY_IQ1_S", [25] = "MOSTLY_IQ4_NL", [26] = "MOSTLY_IQ3_S",
    [27] = "MOSTLY_IQ3_M",  [28] = "MOSTLY_IQ2_S",  [29] = "MOSTLY_IQ2_M",  [30] = "MOSTLY_IQ4_XS",
    [31] = "MOSTLY_IQ1_M",  [32] = "MOSTLY_BF16",   [36] = "MOSTLY_TQ1_0",  [37] = "MOSTLY_TQ2_0",
    [38] = "MOSTLY_MXFP4_MOE", [39] = "MOSTLY_NVFP4", [40] = "MOSTLY_Q1_0",
};

/* "Q4_1 x 210 tensors (111,476,736 values, 62.0 MiB), F32 x 61 ..." by GGUF type name. */
static void print_gguf_types(const hn_gguf_file *file)
{
    size_t tensors[HN_GGML_TYPE_COUNT] = {0};
    int64_t values[HN_GGML_TYPE_COUNT] = {0};
    uint64_t bytes[HN_GGML_TYPE_COUNT] = {0};
    for (size_t i = 0; i < hn_gguf_tensor_count(file); i++) {
        const hn_gguf_tensor *t = hn_gguf_tensor_get(file, i);
        tensors[t->type]++;
        values[t->type] += t->numel;
        bytes[t->type] += t->nbytes;
    }
    printf("  tensor types:");
    const char *separator = " ";
    for (int type = 0; type < HN_GGML_TYPE_COUNT; type++) {
        if (tensors[type] == 0)
            continue;
        char count[32], size[32];
        printf("%s%s x %zu tensors (%s values, %s)", separator, hn_ggml_type_name((uint32_t)type),
               tensors[type], hone_format_count(values[type], count, sizeof count),
               hone_format_bytes(bytes[type], size, sizeof size));
        separator = ", ";
    }
    printf("\n");
}

/* A scalar metadata value as text ("8192", "1e-05", "llama"); NULL for arrays. */
static const char *gguf_scalar_text(const hn_gguf_value *v, char *buf, size_t size)
{
    switch (v->type) {
    case HN_GGUF_STRING: return v->string.text;
    case HN_GGUF_ARRAY: return NULL;
    case HN_GGUF_FLOAT32: case HN_GGUF_FLOAT64: snprintf(buf, size, "%g", v->f); break;
    case HN_GGUF_BOOL: snprintf(buf, size, "%s", v->u ? "true" : "false"); break;
    case HN_GGUF_INT8: case HN_GGUF_INT16: case HN_GGUF_INT32: case HN_GGUF_INT64:
        snprintf(buf, size, "%" PRId64, v->i);
        break;
    default: snprintf(buf, size, "%" PRIu64, v->u); break;
    }
    return buf;
}

/* The architecture's hyperparameters that are present, as "context_length 8192, ...". */
static void print_gguf_highlights(const hn_gguf_file *file, const char *arch)
{
    static const char *const suffixes[] = {
        "context_length", "embedding_length", "block_count", "feed_forward_length",
        "attention.head_count", "attention.head_count_kv", "attention.key_length",
        "attention.value_length", "rope.dimension_count", "rope.freq_base",
        "rope.scaling.type", "attention.layer_norm_rms_epsilon", "attention.sliding_window",
        "vocab_size",
    };
    printf("  metadata:    ");
    int shown = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        char *key = g_strdup_printf("%s.%s", arch, suffixes[i]);
        const hn_gguf_kv *kv = hn_gguf_kv_find(file, key);
        char text[64];
        const char *value = kv != NULL ? gguf_scalar_text(&kv->value, text, sizeof text) : NULL;
        if (value != NULL)
            printf("%s %s %s", shown++ > 0 ? "," : "", suffixes[i], value);
        g_free(key);
    }
    printf("%s\n", shown == 0 ? " none under the architecture's prefix" : "");
}

static void print_gguf_tokenizer(const hn_gguf_file *file)
{
    const char *model = "(none)", *pre = NULL;
    const hn_gguf_value *tokens = NULL, *merges = NULL;
    hn_gguf_get_string(file, "tokenizer.ggml.model", HN_OPTIONAL, &model, NULL);
    hn_gguf_get_string(file, "tokenizer.ggml.pre", HN_OPTIONAL, &pre, NULL);
    hn_gguf_get_array(file, "tokenizer.ggml.tokens", HN_OPTIONAL, HN_GGUF_STRING, &tokens, NULL);
    hn_gguf_get_array(file, "tokenizer.ggml.merges", HN_OPTIONAL, HN_GGUF_STRING, &merges, NULL);
    char count[32];
    printf("  tokenizer:    %s", model);
    if (pre != NULL)
        printf(" (pre-tokenizer %s)", pre);
    printf(", %s tokens", hone_format_count(tokens != NULL ? (long long)tokens->array.count : 0,
                                            count, sizeof count));
    if (merges != NULL)
        printf(", %s merges", hone_format_count((long long)merges->array.count, count, sizeof count));
    static const struct {
        const char *key, *label;
    } ids[] = {{"tokenizer.ggml.bos_token_id", "bos"},
               {"tokenizer.ggml.eos_token_id", "eos"},
               {"tokenizer.ggml.padding_token_id", "pad"}};
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        int64_t id = -1;
        hn_gguf_get_int(file, ids[i].key, HN_OPTIONAL, 0, INT64_MAX, &id, NULL);
        if (id >= 0)
            printf(", %s %" PRId64, ids[i].label, id);
    }
    printf(", chat template %s\n",
           hn_gguf_kv_find(file, "tokenizer.chat_template") != NULL ? "yes" : "no");
}

/* `hone env --model FILE.gguf`: the file as it is, then whether Hone can load it as a model. */
static int describe_gguf(const char *path)
{
    hn_error err = {0};
    hn_gguf_file *file = NULL;
    if (hn_gguf_open(path, &file, &err) != HN_OK)
        return hone_fail("env", "%s", err.message);
    char size[32], count[32];
    printf("GGUF model %s\n", path);
    printf("  file:         GGUF version %u, %s, %zu tensors, %zu metadata keys, alignment %u\n",
           hn_gguf_version(file), hone_format_bytes(hn_gguf_file_size(file), size, sizeof size),
           hn_gguf_tensor_count(file), hn_gguf_kv_count(file), hn_gguf_alignment(file));
    const char *arch = "(none)", *name = NULL;
    hn_gguf_get_string(file, "general.architecture", HN_OPTIONAL, &arch, NULL);
    hn_gguf_get_string(file, "general.name", HN_OPTIONAL, &name, NULL);
    printf("  architecture: %s%s%s%s\n", arch, name != NULL ? " (general.name \"" : "",
           name != NULL ? name : "", name != NULL ? "\")" : "");
    int64_t params = 0;
    for (size_t i = 0; i < hn_gguf_tensor_count(file); i++)
        params += hn_gguf_tensor_get(file, i)->numel;
    printf("  parameters:   %s in the tensors\n", hone_format_count(params, count, sizeof count));
    print_gguf_types(file);
    int64_t file_type = -1, quantization = -1;
    hn_gguf_get_int(file, "general.file_type", HN_OPTIONAL, 0, INT32_MAX, &file_type, NULL);
    hn_gguf_get_int(file, "general.quantization_version", HN_OPTIONAL, 0, INT32_MAX, &quantization, NULL);
    if (file_type >= 0) {
        const char *type_name = (size_t)file_type < G_N_ELEMENTS(file_type_names)
                                    ? file_type_names[file_type] : NULL;
        printf("  file type:    %s (general.file_type %" PRId64 ")", type_name != NULL ? type_name : "unknown",
               file_type);
        if (quantization >= 0)
            printf(", quantization version %" PRId64, quantization);
        printf("\n");
    }
    print_gguf_highlights(file, arch);
    print_gguf_tokenizer(file);
    hn_gguf_close(file);

    hn_model_dir *model = NULL;
    if (hn_model_dir_open(path, &model, &err) != HN_OK) {
        printf("  as a model:   Hone cannot load it: %s\n", err.message);
        return HONE_EXIT_OK;
    }
    const hn_model_config *c = &model->config;
    char expect[32];
    int64_t expected = hn_model_config_param_count(c);
    printf("  as a model:   %s, %" PRId64 " layers, hidden %" PRId64 ", intermediate %" PRId64
           ", %" PRId64 " heads (%" PRId64 " KV heads, head_dim %" PRId64 "), vocab %" PRId64
           ", tied embeddings %s; the config implies %s parameters%s\n",
           c->architecture, c->num_hidden_layers, c->hidden_size, c->intermediate_size,
           c->num_attention_heads, c->num_key_value_heads, c->head_dim, c->vocab_size,
           c->tie_word_embeddings ? "yes" : "no",
           hone_format_count(expected, expect, sizeof expect),
           expected == hn_model_dir_param_count(model) ? "" : " (the tensors differ)");
    print_rope(&c->rope);
    printf("  special ids:  bos %" PRId64 ", ", c->bos_token_id);
    print_token_ids("eos ", c->eos_token_ids, c->n_eos);
    printf(", pad %" PRId64 "\n", c->pad_token_id);
    hn_model_dir_close(model);
    return HONE_EXIT_OK;
}

int hone_cmd_env(int argc, char **argv)
{
    char *model = NULL;
    const GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
         "Describe a Hugging Face model folder or a GGUF file", "PATH"},
        G_OPTION_ENTRY_NULL,
    };
    int code = hone_parse_options("env", "",
                                  "Prints the version, the build options, the compiled-in "
                                  "backends and what each can use on this machine.",
                                  entries, &argc, &argv, FALSE);
    if (code != HONE_EXIT_OK)
        return code;
    if (model != NULL) {
        code = hn_model_dir_is_gguf(model) ? describe_gguf(model) : describe_model(model);
        g_free(model);
        return code;
    }
    print_build();
    print_cpu();
    print_cuda();
    print_auto_choice();
    print_libraries();
    return HONE_EXIT_OK;
}
