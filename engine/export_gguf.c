/* The GGUF file of an export, written as llama.cpp's convert_hf_to_gguf.py writes a Hugging Face
 * model (TextModel.set_gguf_parameters, LlamaModel / Qwen2Model / Qwen3Model,
 * prepare_tensors):
 * - metadata: general.architecture ("llama" for Llama/Mistral, "qwen2", "qwen3"), general.type,
 *   general.name, general.file_type (LlamaFileType: 1 MOSTLY_F16, 32 MOSTLY_BF16, 7
 *   MOSTLY_Q8_0), general.quantization_version 2, and ARCH.context_length, embedding_length,
 *   feed_forward_length, block_count, attention.head_count, attention.head_count_kv,
 *   rope.freq_base, attention.layer_norm_rms_epsilon, vocab_size, and the head size
 *   (llama: rope.dimension_count; qwen3: attention.key_length / value_length);
 * - the tokenizer: every tokenizer.* key of a GGUF source copied as it is (tokenizer.ggml.model,
 *   pre, tokens, scores, token_type, merges, the special ids and add_* flags, chat_template);
 * - tensors in transformers' state-dict order under llama.cpp's names (gguf_names.c); vectors
 *   (norms, biases) in F32, matrices in the chosen type; Q8_0 needs rows of whole 32-blocks,
 *   other rows fall back to F16 as gguf-py's quantize does; "llama" Q/K rows permuted
 *   (LlamaModel.permute: HF row h*D + j*D/2 + i -> h*D + 2i + j). */
#include "export_gguf.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "gguf_model.h"
#include "gguf_tokenizer_write.h"
#include "gguf_write.h"
#include "model_layout.h"

typedef struct {
    const hn_model_dir *dir;
    const hn_peft_adapter *adapters;
    size_t n_adapters;
    hn_weight_spec *specs;
    char **names; /* llama.cpp's, for progress */
    uint32_t *types;
    size_t n;
    bool permute_qk;
    hn_export_progress progress;
    void *user;
    const atomic_bool *cancel;
} gguf_job;

static const char *arch_name(hn_arch arch)
{
    switch (arch) {
    case HN_ARCH_QWEN2: return "qwen2";
    case HN_ARCH_QWEN3: return "qwen3";
    default: return "llama"; /* Llama and Mistral: llama.cpp's LlamaModel */
    }
}

/* Q8_0 as gguf-py's quants.Q8_0.quantize_blocks: per block of 32, d = max|x| / 127 (fp32, then
 * stored as fp16), q = round-half-away(x / d) with 1/d in fp32 (0 for an all-zero block). */
static void quantize_q8_0(const float *x, int64_t n, uint8_t *out)
{
    for (int64_t b = 0; b < n / 32; b++, x += 32, out += 34) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++)
            amax = fmaxf(amax, fabsf(x[i]));
        float d = amax / 127.0f;
        float id = d == 0.0f ? 0.0f : 1.0f / d;
        uint16_t dh = hn_f32_to_f16(d);
        memcpy(out, &dh, 2);
        for (int i = 0; i < 32; i++)
            out[2 + i] = (uint8_t)(int8_t)roundf(x[i] * id);
    }
}

/* The heads of a Q or K projection llama.cpp permutes, or 0. */
static int64_t permuted_heads(const gguf_job *job, const char *hf_name)
{
    if (!job->permute_qk)
        return 0;
    if (strstr(hf_name, ".self_attn.q_proj.") != NULL)
        return job->dir->config.num_attention_heads;
    if (strstr(hf_name, ".self_attn.k_proj.") != NULL)
        return job->dir->config.num_key_value_heads;
    return 0;
}

static void permute_rows(float *data, int64_t rows, int64_t cols, int64_t heads, int64_t d)
{
    float *copy = g_memdup2(data, (size_t)(rows * cols) * sizeof(float));
    int64_t half = d / 2;
    for (int64_t h = 0; h < heads; h++)
        for (int64_t j = 0; j < 2; j++)
            for (int64_t i = 0; i < half; i++)
                memcpy(data + (h * d + 2 * i + j) * cols, copy + (h * d + j * half + i) * cols,
                       (size_t)cols * sizeof(float));
    g_free(copy);
}

static hn_status fill_tensor(void *user, size_t index, void *dst, hn_error *err)
{
    gguf_job *job = user;
    HN_TRY(hn_export_check_cancel(job->cancel, err));
    const hn_weight_spec *spec = &job->specs[index];
    const hn_model_weight *w = hn_model_dir_find_weight(job->dir, spec->name);
    if (w == NULL)
        return hn_fail(err, HN_ERR_FORMAT, "%s: no weight %s", job->dir->path, spec->name);
    if (job->progress != NULL)
        job->progress(job->user, job->names[index], index, job->n);
    float *merged = g_try_new(float, (size_t)w->numel);
    if (merged == NULL)
        return hn_fail(err, HN_ERR_NOMEM, "out of memory merging %s", w->name);
    hn_status s = hn_export_merged_weight(job->dir, job->adapters, job->n_adapters, w, merged, err);
    int64_t heads = permuted_heads(job, w->name);
    int64_t cols = w->ndim == 2 ? w->shape[1] : 1, rows = w->numel / cols;
    if (s == HN_OK && heads > 0)
        permute_rows(merged, rows, cols, heads, job->dir->config.head_dim);
    if (s == HN_OK) {
        size_t n = (size_t)w->numel;
        switch (job->types[index]) {
        case HN_GGML_F32:
            memcpy(dst, merged, n * sizeof(float));
            break;
        case HN_GGML_F16:
            for (size_t i = 0; i < n; i++)
                ((uint16_t *)dst)[i] = hn_f32_to_f16(merged[i]);
            break;
        case HN_GGML_BF16:
            for (size_t i = 0; i < n; i++)
                ((uint16_t *)dst)[i] = hn_f32_to_bf16(merged[i]);
            break;
        default:
            quantize_q8_0(merged, w->numel, dst);
            break;
        }
    }
    g_free(merged);
    return s;
}

static uint32_t matrix_type(hn_export_gguf_type type, int64_t row_length)
{
    switch (type) {
    case HN_EXPORT_GGUF_BF16: return HN_GGML_BF16;
    case HN_EXPORT_GGUF_Q8_0: return row_length % 32 == 0 ? HN_GGML_Q8_0 : HN_GGML_F16;
    default: return HN_GGML_F16;
    }
}

static void add_arch_metadata(hn_gguf_writer *w, const hn_model_dir *dir, const char *arch,
                              hn_export_gguf_type type)
{
    const hn_model_config *c = &dir->config;
    char key[128];
#define ARCH_KEY(suffix) (g_snprintf(key, sizeof key, "%s.%s", arch, suffix), key)
    hn_gguf_add_string(w, "general.architecture", arch);
    hn_gguf_add_string(w, "general.type", "model");
    const char *name = NULL;
    if (dir->gguf != NULL)
        hn_gguf_get_string(dir->gguf, "general.name", HN_OPTIONAL, &name, NULL);
    char *base = g_path_get_basename(dir->path);
    hn_gguf_add_string(w, "general.name", name != NULL ? name : base);
    g_free(base);
    hn_gguf_add_u32(w, ARCH_KEY("block_count"), (uint32_t)c->num_hidden_layers);
    hn_gguf_add_u32(w, ARCH_KEY("context_length"), (uint32_t)c->max_position_embeddings);
    hn_gguf_add_u32(w, ARCH_KEY("embedding_length"), (uint32_t)c->hidden_size);
    hn_gguf_add_u32(w, ARCH_KEY("feed_forward_length"), (uint32_t)c->intermediate_size);
    hn_gguf_add_u32(w, ARCH_KEY("attention.head_count"), (uint32_t)c->num_attention_heads);
    hn_gguf_add_u32(w, ARCH_KEY("attention.head_count_kv"), (uint32_t)c->num_key_value_heads);
    hn_gguf_add_f32(w, ARCH_KEY("rope.freq_base"), (float)c->rope.theta);
    hn_gguf_add_f32(w, ARCH_KEY("attention.layer_norm_rms_epsilon"), (float)c->rms_norm_eps);
    uint32_t file_type = type == HN_EXPORT_GGUF_BF16 ? 32 : type == HN_EXPORT_GGUF_Q8_0 ? 7 : 1;
    hn_gguf_add_u32(w, "general.file_type", file_type);
    if (strcmp(arch, "llama") == 0) {
        hn_gguf_add_u32(w, ARCH_KEY("vocab_size"), (uint32_t)c->vocab_size);
        hn_gguf_add_u32(w, ARCH_KEY("rope.dimension_count"), (uint32_t)c->head_dim);
    }
    if (strcmp(arch, "qwen3") == 0) {
        hn_gguf_add_u32(w, ARCH_KEY("attention.key_length"), (uint32_t)c->head_dim);
        hn_gguf_add_u32(w, ARCH_KEY("attention.value_length"), (uint32_t)c->head_dim);
    }
    hn_gguf_add_u32(w, "general.quantization_version", 2); /* gguf-py GGML_QUANT_VERSION */
#undef ARCH_KEY
}

/* The tokenizer.* metadata: a GGUF source's copied, a folder's built as llama.cpp's converter
 * builds it. */
static hn_status add_tokenizer(hn_gguf_writer *w, const hn_model_dir *dir, const char *arch,
                               hn_error *err)
{
    if (dir->gguf == NULL)
        return hn_gguf_add_folder_tokenizer(w, dir->path, arch, dir->config.vocab_size, err);
    for (size_t i = 0; i < hn_gguf_kv_count(dir->gguf); i++) {
        const hn_gguf_kv *kv = hn_gguf_kv_get(dir->gguf, i);
        if (g_str_has_prefix(kv->key, "tokenizer."))
            hn_gguf_add_value(w, kv->key, &kv->value);
    }
    return HN_OK;
}

hn_status hn_export_gguf(const hn_model_dir *dir, const hn_peft_adapter *adapters,
                         size_t n_adapters,
                         hn_export_gguf_type type, const char *path,
                         hn_export_progress progress, void *user, const atomic_bool *cancel,
                         hn_error *err)
{
    if (dir->config.rope.type != HN_ROPE_DEFAULT)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "export_gguf: %s uses %s RoPE scaling, which Hone does not write to GGUF "
                       "yet",
                       dir->path, hn_rope_type_name(dir->config.rope.type));
    const char *arch = arch_name(dir->config.arch);
    hn_gguf_writer *w = hn_gguf_writer_new();
    add_arch_metadata(w, dir, arch, type);
    hn_status s = add_tokenizer(w, dir, arch, err);
    gguf_job job = {.dir = dir, .adapters = adapters, .n_adapters = n_adapters,
                    .permute_qk = strcmp(arch, "llama") == 0, .progress = progress,
                    .user = user, .cancel = cancel};
    job.specs = hn_model_weight_specs(&dir->config, &job.n);
    job.types = g_new0(uint32_t, job.n);
    job.names = g_new0(char *, job.n + 1);
    for (size_t i = 0; s == HN_OK && i < job.n; i++) {
        const hn_weight_spec *spec = &job.specs[i];
        char *name = hn_gguf_name_of_hf(spec->name);
        if (name == NULL) {
            s = hn_fail(err, HN_ERR_UNSUPPORTED, "export_gguf: %s has no llama.cpp name",
                        spec->name);
            break;
        }
        int64_t dims[2] = {spec->shape[spec->ndim - 1], spec->shape[0]}; /* ggml order */
        job.types[i] = spec->ndim == 1 ? HN_GGML_F32 : matrix_type(type, dims[0]);
        hn_gguf_add_tensor(w, name, job.types[i], spec->ndim, dims);
        job.names[i] = g_strdup_printf("%s (GGUF)", name);
        g_free(name);
    }
    if (s == HN_OK)
        s = hn_gguf_writer_write(w, path, fill_tensor, &job, err);
    g_strfreev(job.names);
    g_free(job.types);
    g_free(job.specs);
    hn_gguf_writer_free(w);
    return s;
}

hn_status hn_export_gguf_check(const hn_model_dir *dir, hn_error *err)
{
    hn_gguf_writer *w = hn_gguf_writer_new();
    hn_status s = add_tokenizer(w, dir, arch_name(dir->config.arch), err);
    hn_gguf_writer_free(w);
    return s;
}
