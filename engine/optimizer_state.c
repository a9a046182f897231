/* AdamW's state in a checkpoint: the moments of each trained parameter and the step count,
 * in a safetensors file (see optimizer.h). Moments are copied through host memory, so the
 * file is the same whichever backend trained. */
#include <inttypes.h>
#include <stdlib.h>

#include "optimizer_internal.h"
#include "safetensors.h"

static char *moment_name(const trained_param *t, int which)
{
    return g_strdup_printf("%s.%s", t->param->name, which == 0 ? "exp_avg" : "exp_avg_sq");
}

hn_status hn_optimizer_save(const hn_optimizer *opt, const char *path, hn_error *err)
{
    const hn_backend *be = opt->model->be;
    size_t n = 2 * opt->n_params;
    hn_st_tensor *tensors = g_new0(hn_st_tensor, n);
    hn_status s = HN_OK;
    for (size_t i = 0; i < opt->n_params && s == HN_OK; i++) {
        const trained_param *t = &opt->params[i];
        for (int which = 0; which < 2; which++) {
            float *host = g_try_new(float, t->param->numel);
            if (host == NULL) {
                s = hn_fail(err, HN_ERR_NOMEM, "%s: out of memory saving the optimizer state",
                            path);
                break;
            }
            be->copy_to_host(host, which == 0 ? t->m : t->v, t->param->numel * sizeof(float));
            tensors[2 * i + which] = (hn_st_tensor){
                .name = moment_name(t, which), .dtype = HN_DTYPE_F32, .ndim = t->param->ndim,
                .shape = {t->param->shape[0], t->param->shape[1]}, .data = host};
        }
    }
    char step[32];
    g_snprintf(step, sizeof step, "%" PRId64, opt->step);
    hn_st_meta meta[] = {{"format", "hone-adamw"}, {"step", step}};
    if (s == HN_OK)
        s = hn_st_write(path, tensors, n, meta, G_N_ELEMENTS(meta), err);
    for (size_t i = 0; i < n; i++) {
        g_free((char *)tensors[i].name);
        g_free((void *)tensors[i].data);
    }
    g_free(tensors);
    return s;
}

static hn_status load_moment(hn_optimizer *opt, const hn_st_file *file, const trained_param *t,
                             int which, hn_error *err)
{
    char *name = moment_name(t, which);
    const hn_st_tensor *tensor = hn_st_find(file, name);
    hn_status s = HN_OK;
    if (tensor == NULL) {
        s = hn_fail(err, HN_ERR_FORMAT, "%s: no tensor %s (the checkpoint was made by a run "
                    "that trained other parameters)", hn_st_path(file), name);
    } else if (tensor->dtype != HN_DTYPE_F32 || tensor->numel != (int64_t)t->param->numel ||
               tensor->ndim != t->param->ndim ||
               tensor->shape[0] != t->param->shape[0] ||
               (t->param->ndim > 1 && tensor->shape[1] != t->param->shape[1])) {
        s = hn_fail(err, HN_ERR_FORMAT, "%s: %s: expected F32 of the parameter's shape "
                    "(%" PRId64 " values)", hn_st_path(file), name, (int64_t)t->param->numel);
    } else {
        /* the mapping need not be aligned for floats: the backend copies bytes */
        opt->model->be->copy_to_device(which == 0 ? t->m : t->v, tensor->data,
                                       t->param->numel * sizeof(float));
    }
    g_free(name);
    return s;
}

hn_status hn_optimizer_load(hn_optimizer *opt, const char *path, hn_error *err)
{
    hn_st_file *file = NULL;
    HN_TRY(hn_st_open(path, &file, err));
    const char *step = hn_st_metadata(file, "step");
    char *end = NULL;
    long long value = step != NULL ? strtoll(step, &end, 10) : -1;
    hn_status s = HN_OK;
    if (step == NULL || *end != '\0' || value < 0)
        s = hn_fail(err, HN_ERR_FORMAT, "%s: expected a \"step\" count in the metadata", path);
    else if (hn_st_count(file) != 2 * opt->n_params)
        s = hn_fail(err, HN_ERR_FORMAT, "%s: %zu tensors, expected the 2 x %zu moments of the "
                    "trained parameters", path, hn_st_count(file), opt->n_params);
    for (size_t i = 0; i < opt->n_params && s == HN_OK; i++)
        for (int which = 0; which < 2 && s == HN_OK; which++)
            s = load_moment(opt, file, &opt->params[i], which, err);
    if (s == HN_OK)
        opt->step = value;
    hn_st_close(file);
    return s;
}
