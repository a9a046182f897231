/* Choosing the compute backend of a run (backend_choice.h). */
#include "backend_choice.h"

#include <stdio.h>
#include <string.h>

void hn_backend_request_from_train_args(hn_backend_request *request, const hn_train_args *args)
{
    *request = (hn_backend_request){
        .backend = args->backend, .bf16 = args->bf16, .fp16 = args->fp16,
        .pure_bf16 = args->pure_bf16, .tf32 = args->tf32,
    };
}

hn_gpu_math hn_backend_gpu_math(const hn_backend_request *request)
{
    if (request->bf16)
        return HN_GPU_MATH_BF16;
    return request->tf32 ? HN_GPU_MATH_TF32 : HN_GPU_MATH_FP32;
}

static const char *math_name(hn_gpu_math math)
{
    switch (math) {
    case HN_GPU_MATH_BF16:
        return "bf16 GEMMs with fp32 accumulation";
    case HN_GPU_MATH_TF32:
        return "TF32 GEMMs";
    case HN_GPU_MATH_FP32:
        break;
    }
    return "fp32 GEMMs";
}

hn_status hn_backend_choose(const hn_backend_request *request, hn_backend_choice *choice,
                            hn_error *err)
{
    *choice = (hn_backend_choice){0};
    HN_TRY(hn_compute_type_check(request->bf16, request->fp16, request->pure_bf16, err));
    const char *name = request->backend != NULL ? request->backend : "auto";
    if (strcmp(name, "cpu") == 0) {
        choice->backend = hn_cpu_backend();
        snprintf(choice->line, sizeof choice->line, "backend: cpu (asked for; fp32 compute%s)",
                 request->bf16 ? ", bf16 has no effect on the CPU" : "");
        return HN_OK;
    }
    if (strcmp(name, "cuda") != 0 && strcmp(name, "auto") != 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "backend %s: expected auto, cpu or cuda", name);
    hn_gpu_math math = hn_backend_gpu_math(request);
    char reason[512] = "";
    const hn_backend *cuda = hn_cuda_backend(0, math, reason, sizeof reason);
    if (cuda != NULL) {
        choice->backend = cuda;
        snprintf(choice->line, sizeof choice->line, "backend: cuda (%s; GPU 0, %s)",
                 strcmp(name, "auto") == 0 ? "auto: a CUDA GPU is usable" : "asked for",
                 math_name(math));
        return HN_OK;
    }
    if (reason[0] == '\0')
        snprintf(reason, sizeof reason, "the CUDA backend gave no reason");
    if (strcmp(name, "cuda") == 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "backend: cuda was asked for, but %s", reason);
    choice->backend = hn_cpu_backend();
    snprintf(choice->line, sizeof choice->line, "backend: cpu (auto: no CUDA GPU: %s)", reason);
    return HN_OK;
}
