/* RoPE frequency tables per rope_scaling type, following transformers'
 * modeling_rope_utils.py (_compute_*_parameters) and LlamaRotaryEmbedding's default. Computed
 * in double and rounded once to fp32 (transformers computes in fp32; the tables agree within
 * a few fp32 ulps, checked in tests/test_backend_ops.c). */
#include "rope_freq.h"

#include <math.h>

/* base^(-2i / dim): the original RoPE frequencies (Su et al., arXiv:2104.09864). */
static double plain_inv_freq(double base, int i, int dim)
{
    return 1.0 / pow(base, (double)(2 * i) / dim);
}

/* Dynamic NTK (u/bloc97, u/emozilla): the base grows with the sequence past the trained
 * length: base * (factor * L / L_max - (factor - 1))^(dim / (dim - 2)). */
static double dynamic_base(const hn_model_config *config, int64_t seq_len, int dim)
{
    const hn_rope *rope = &config->rope;
    double max_len = (double)config->max_position_embeddings;
    double len = seq_len > config->max_position_embeddings ? (double)seq_len : max_len;
    return rope->theta * pow(rope->factor * len / max_len - (rope->factor - 1.0),
                             (double)dim / (dim - 2));
}

/* YaRN (Peng et al., arXiv:2309.00071) attention factor: 0.1 * mscale * ln(factor) + 1. */
static double yarn_mscale(double scale, double mscale)
{
    return scale <= 1.0 ? 1.0 : 0.1 * mscale * log(scale) + 1.0;
}

/* YaRN's dimension at which a wavelength makes num_rotations turns over max_len positions. */
static double yarn_correction_dim(double num_rotations, int dim, double base, double max_len)
{
    return dim * log(max_len / (num_rotations * 2.0 * M_PI)) / (2.0 * log(base));
}

static void yarn_frequencies(const hn_model_config *config, int dim, float *inv_freq,
                             float *attention_factor)
{
    const hn_rope *rope = &config->rope;
    double factor = rope->factor;
    /* transformers fills original_max_position_embeddings from max_position_embeddings */
    double original = rope->original_max_position_embeddings > 0
                          ? (double)rope->original_max_position_embeddings
                          : (double)config->max_position_embeddings;
    if (rope->attention_factor > 0)
        *attention_factor = (float)rope->attention_factor;
    else if (rope->mscale > 0 && rope->mscale_all_dim > 0)
        *attention_factor = (float)(yarn_mscale(factor, rope->mscale) /
                                    yarn_mscale(factor, rope->mscale_all_dim));
    else
        *attention_factor = (float)yarn_mscale(factor, 1.0);

    double low = yarn_correction_dim(rope->beta_fast, dim, rope->theta, original);
    double high = yarn_correction_dim(rope->beta_slow, dim, rope->theta, original);
    if (rope->truncate) {
        low = floor(low);
        high = ceil(high);
    }
    low = low > 0 ? low : 0;
    high = high < dim - 1 ? high : dim - 1;
    if (low == high)
        high += 0.001; /* transformers' guard against a zero-width ramp */
    for (int i = 0; i < dim / 2; i++) {
        double ramp = (i - low) / (high - low);
        ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
        double extrapolation_weight = 1.0 - ramp;
        double extrapolated = plain_inv_freq(rope->theta, i, dim);
        double interpolated = extrapolated / factor;
        inv_freq[i] = (float)(interpolated * (1.0 - extrapolation_weight) +
                              extrapolated * extrapolation_weight);
    }
}

/* Llama 3.1: long wavelengths divided by factor, short ones kept, a smooth blend between. */
static double llama3_inv_freq(const hn_rope *rope, double inv_freq)
{
    double old_context = (double)rope->original_max_position_embeddings;
    double low_freq_wavelen = old_context / rope->low_freq_factor;
    double high_freq_wavelen = old_context / rope->high_freq_factor;
    double wavelen = 2.0 * M_PI / inv_freq;
    if (wavelen < high_freq_wavelen)
        return inv_freq;
    if (wavelen > low_freq_wavelen)
        return inv_freq / rope->factor;
    double smooth = (old_context / wavelen - rope->low_freq_factor) /
                    (rope->high_freq_factor - rope->low_freq_factor);
    return (1.0 - smooth) * inv_freq / rope->factor + smooth * inv_freq;
}

void hn_rope_frequencies(const hn_model_config *config, int64_t seq_len, float *inv_freq,
                         float *attention_factor)
{
    const hn_rope *rope = &config->rope;
    int dim = (int)config->head_dim;
    *attention_factor = 1.0f;
    if (rope->type == HN_ROPE_YARN) {
        yarn_frequencies(config, dim, inv_freq, attention_factor);
        return;
    }
    double base = rope->type == HN_ROPE_DYNAMIC ? dynamic_base(config, seq_len, dim) : rope->theta;
    for (int i = 0; i < dim / 2; i++) {
        double value = plain_inv_freq(base, i, dim);
        if (rope->type == HN_ROPE_LINEAR)
            value /= rope->factor;
        else if (rope->type == HN_ROPE_LLAMA3)
            value = llama3_inv_freq(rope, value);
        inv_freq[i] = (float)value;
    }
}
