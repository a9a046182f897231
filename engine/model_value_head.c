/* The value head of stage rm: a linear layer from the hidden size to one score, read on the
 * final normed hidden state of a chosen token (LLaMA-Factory's PairwiseTrainer reads it at
 * the last non-pad token). Its weights are the parameters "v_head.summary.weight" [1, C] and
 * "v_head.summary.bias" [1], trained beside whatever the method trains, and saved apart as
 * value_head.safetensors under those names (TRL's ValueHead, as LLaMA-Factory saves it).
 * Hone's head has no dropout (TRL's ValueHead drops 10% of its input by default). */
#include <math.h>
#include <string.h>

#include "model_internal.h"
#include "safetensors.h"

#define WEIGHT_NAME HN_VALUE_HEAD_PREFIX "summary.weight"
#define BIAS_NAME HN_VALUE_HEAD_PREFIX "summary.bias"

bool hn_param_is_value_head(const char *name)
{
    return strncmp(name, HN_VALUE_HEAD_PREFIX, strlen(HN_VALUE_HEAD_PREFIX)) == 0;
}

void hn_value_head_create(hn_model *m, hn_param *(*new_param)(hn_model *, const char *, int,
                                                              const int64_t[2]))
{
    m->v_weight = new_param(m, WEIGHT_NAME, 2, (int64_t[2]){1, m->C});
    m->v_bias = new_param(m, BIAS_NAME, 1, (int64_t[2]){1, 1});
}

/* torch.nn.Linear's default init, which TRL's ValueHead keeps: weight and bias uniform in
 * +-1/sqrt(in_features). */
void hn_value_head_init(hn_model *m, double (*uniform)(uint64_t *), uint64_t *state)
{
    size_t C = (size_t)m->C;
    float *values = g_new(float, C + 1);
    double bound = 1.0 / sqrt((double)C);
    for (size_t i = 0; i <= C; i++)
        values[i] = (float)((2.0 * uniform(state) - 1.0) * bound);
    m->be->copy_to_device(m->v_weight->data, values, C * sizeof(float));
    m->be->copy_to_device(m->v_bias->data, values + C, sizeof(float));
    g_free(values);
}

static hn_status need_head(const hn_model *m, hn_error *err)
{
    if (m->v_weight == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "the model has no value head (stage rm builds one)");
    if (!m->have_batch)
        return hn_fail(err, HN_ERR_ARGUMENT, "values need a forward pass first");
    return HN_OK;
}

hn_status hn_model_values(hn_model *m, const int32_t *rows, int n, float *values, hn_error *err)
{
    HN_TRY(need_head(m, err));
    size_t C = (size_t)m->C, N = (size_t)m->act.B * (size_t)m->act.T;
    float *w = g_new(float, C + 1), *h = g_new(float, C);
    m->be->copy_to_host(w, m->v_weight->data, C * sizeof(float));
    m->be->copy_to_host(w + C, m->v_bias->data, sizeof(float));
    hn_status s = HN_OK;
    for (int i = 0; i < n && s == HN_OK; i++) {
        if (rows[i] < 0 || (size_t)rows[i] >= N) {
            s = hn_fail(err, HN_ERR_ARGUMENT, "value row %d: expected 0 to %zu", rows[i], N - 1);
            break;
        }
        m->be->copy_to_host(h, m->act.normed + (size_t)rows[i] * C, C * sizeof(float));
        double sum = w[C];
        for (size_t c = 0; c < C; c++)
            sum += (double)w[c] * h[c];
        values[i] = (float)sum;
    }
    g_free(h);
    g_free(w);
    return s;
}

hn_status hn_model_backward_values(hn_model *m, const int32_t *rows, const float *dvalues, int n,
                                   hn_error *err)
{
    HN_TRY(need_head(m, err));
    size_t C = (size_t)m->C;
    float *w = g_new(float, C), *dw = g_new(float, C + 1), *h = g_new(float, C),
          *dhidden = g_new(float, (size_t)n * C);
    m->be->copy_to_host(w, m->v_weight->data, C * sizeof(float));
    m->be->copy_to_host(dw, m->v_weight->grad, C * sizeof(float));
    m->be->copy_to_host(dw + C, m->v_bias->grad, sizeof(float));
    for (int i = 0; i < n; i++) { /* value = w . h + b */
        m->be->copy_to_host(h, m->act.normed + (size_t)rows[i] * C, C * sizeof(float));
        for (size_t c = 0; c < C; c++) {
            dw[c] += dvalues[i] * h[c];
            dhidden[(size_t)i * C + c] = dvalues[i] * w[c];
        }
        dw[C] += dvalues[i];
    }
    m->be->copy_to_device(m->v_weight->grad, dw, C * sizeof(float));
    m->be->copy_to_device(m->v_bias->grad, dw + C, sizeof(float));
    hn_status s = hn_model_backward_hidden(m, rows, dhidden, n, err);
    g_free(dhidden);
    g_free(h);
    g_free(dw);
    g_free(w);
    return s;
}

hn_status hn_model_save_value_head(const hn_model *m, const char *folder, hn_error *err)
{
    size_t C = (size_t)m->C;
    float *values = g_new(float, C + 1);
    m->be->copy_to_host(values, m->v_weight->data, C * sizeof(float));
    m->be->copy_to_host(values + C, m->v_bias->data, sizeof(float));
    hn_st_tensor tensors[2] = {
        {.name = WEIGHT_NAME, .dtype = HN_DTYPE_F32, .ndim = 2, .shape = {1, (int64_t)C},
         .data = values},
        {.name = BIAS_NAME, .dtype = HN_DTYPE_F32, .ndim = 1, .shape = {1}, .data = values + C},
    };
    char *path = g_build_filename(folder, HN_VALUE_HEAD_FILE, NULL);
    hn_status s = hn_st_write(path, tensors, 2, NULL, 0, err);
    g_free(path);
    g_free(values);
    return s;
}

static hn_status read_tensor(const hn_st_file *file, const char *path, const char *name,
                             size_t numel, float *dst, hn_error *err)
{
    const hn_st_tensor *t = hn_st_find(file, name);
    if (t == NULL || t->numel != (int64_t)numel)
        return hn_fail(err, HN_ERR_FORMAT, "%s: expected a tensor %s of %zu values", path, name,
                       numel);
    if (t->dtype != HN_DTYPE_F32 && t->dtype != HN_DTYPE_BF16 && t->dtype != HN_DTYPE_F16)
        return hn_fail(err, HN_ERR_FORMAT, "%s: %s: expected F32, BF16 or F16", path, name);
    hn_convert_to_f32(dst, t->data, t->dtype, numel);
    return HN_OK;
}

hn_status hn_model_load_value_head(hn_model *m, const char *folder, bool *found, hn_error *err)
{
    *found = false;
    char *path = g_build_filename(folder, HN_VALUE_HEAD_FILE, NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_free(path);
        return HN_OK;
    }
    if (m->v_weight == NULL) {
        g_free(path);
        return hn_fail(err, HN_ERR_ARGUMENT, "the model has no value head (stage rm builds one)");
    }
    size_t C = (size_t)m->C;
    float *values = g_new(float, C + 1);
    hn_st_file *file = NULL;
    hn_status s = hn_st_open(path, &file, err);
    if (s == HN_OK)
        s = read_tensor(file, path, WEIGHT_NAME, C, values, err);
    if (s == HN_OK)
        s = read_tensor(file, path, BIAS_NAME, 1, values + C, err);
    if (s == HN_OK) {
        m->be->copy_to_device(m->v_weight->data, values, C * sizeof(float));
        m->be->copy_to_device(m->v_bias->data, values + C, sizeof(float));
        *found = true;
    }
    hn_st_close(file);
    g_free(values);
    g_free(path);
    return s;
}
