/* `hone env`: the version, the build, the backends and what each can use on this machine;
 * with --model PATH, a description of a model folder. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "device_info.h"
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

int hone_cmd_env(int argc, char **argv)
{
    char *model = NULL;
    const GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
         "Describe a Hugging Face model folder", "PATH"},
        G_OPTION_ENTRY_NULL,
    };
    int code = hone_parse_options("env", "",
                                  "Prints the version, the build options, the compiled-in "
                                  "backends and what each can use on this machine.",
                                  entries, &argc, &argv, FALSE);
    if (code != HONE_EXIT_OK)
        return code;
    if (model != NULL) {
        code = describe_model(model);
        g_free(model);
        return code;
    }
    print_build();
    print_cpu();
    print_cuda();
    print_libraries();
    return HONE_EXIT_OK;
}
