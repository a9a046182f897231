/* llama.cpp's tensor names and transformers' for the decoder family, both ways
 * ("blk.3.ffn_down.weight" <-> "model.layers.3.mlp.down_proj.weight"), after llama.cpp's
 * gguf-py (tensor_mapping.py: MODEL_ARCH.LLAMA, QWEN2, QWEN3), and shapes in transformers'
 * order. */
#include "gguf_model.h"

#include <inttypes.h>
#include <string.h>

enum { GGUF_SIDE, HF_SIDE };

/* Per-block names: llama.cpp's (under blk.N.) and transformers' (under model.layers.N.). */
static const char *const block_names[][2] = {
    {"attn_norm", "input_layernorm"},     {"attn_q", "self_attn.q_proj"},
    {"attn_k", "self_attn.k_proj"},       {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"},  {"attn_q_norm", "self_attn.q_norm"},
    {"attn_k_norm", "self_attn.k_norm"},  {"ffn_norm", "post_attention_layernorm"},
    {"ffn_gate", "mlp.gate_proj"},        {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
};
static const char *const block_prefix[2] = {"blk.", "model.layers."};

static const char *const top_names[][2] = {
    {"token_embd", "model.embed_tokens"},
    {"output_norm", "model.norm"},
    {"output", "lm_head"},
};

/* `name` from one side's naming to the other's; NULL when it has no counterpart. */
static char *translate(const char *name, int from)
{
    const int to = 1 - from;
    const char *suffix = strrchr(name, '.');
    if (suffix == NULL || (strcmp(suffix, ".weight") != 0 && strcmp(suffix, ".bias") != 0))
        return NULL;
    size_t stem = (size_t)(suffix - name);
    for (size_t i = 0; i < G_N_ELEMENTS(top_names); i++)
        if (strlen(top_names[i][from]) == stem && strncmp(name, top_names[i][from], stem) == 0)
            return g_strconcat(top_names[i][to], suffix, NULL);
    /* PREFIX N.PART with N a plain decimal number */
    size_t prefix = strlen(block_prefix[from]);
    const char *digits = name + prefix;
    if (strncmp(name, block_prefix[from], prefix) != 0 || !g_ascii_isdigit(*digits))
        return NULL;
    const char *p = digits;
    int64_t layer = 0;
    while (g_ascii_isdigit(*p) && layer < 1000000)
        layer = layer * 10 + (*p++ - '0');
    if (*p != '.' || (digits[0] == '0' && p != digits + 1))
        return NULL;
    const char *part = p + 1;
    size_t length = (size_t)(suffix - part);
    for (size_t i = 0; i < G_N_ELEMENTS(block_names); i++)
        if (strlen(block_names[i][from]) == length &&
            strncmp(part, block_names[i][from], length) == 0)
            return g_strdup_printf("%s%" PRId64 ".%s%s", block_prefix[to], layer,
                                   block_names[i][to], suffix);
    return NULL;
}

char *hn_gguf_hf_name(const char *gguf_name) { return translate(gguf_name, GGUF_SIDE); }

char *hn_gguf_name_of_hf(const char *hf_name) { return translate(hf_name, HF_SIDE); }

void hn_gguf_hf_shape(const hn_gguf_tensor *tensor, int *ndim, int64_t shape[HN_GGUF_MAX_DIMS])
{
    *ndim = tensor->n_dims;
    for (int d = 0; d < tensor->n_dims; d++)
        shape[d] = tensor->dims[tensor->n_dims - 1 - d];
}
