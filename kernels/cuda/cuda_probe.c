/* What CUDA can do here: the runtime linked into hone (static cudart), the driver, each GPU
 * (checked by running a kernel) and the libraries opened at run time. */
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "config.h"
#include "cuda_internal.h"

void hn_cuda_explain_no_device(int status, int driver_version, char *reason, size_t size)
{
    const char *why;
    if (status == cudaErrorInsufficientDriver && driver_version == 0)
        why = "no NVIDIA driver is installed (libcuda.so.1 not found)";
    else if (status == cudaErrorInsufficientDriver)
        why = "the NVIDIA driver is older than the CUDA runtime this build needs";
    else if (status == cudaErrorNoDevice)
        why = "the driver sees no CUDA-capable GPU";
    else
        why = "the CUDA runtime could not start";
    snprintf(reason, size, "%s [%s: %s]", why, cudaGetErrorName((cudaError_t)status),
             cudaGetErrorString((cudaError_t)status));
}

void hn_cuda_probe(hn_cuda_info *info)
{
    memset(info, 0, sizeof *info);
    info->compiled = true;
    g_strlcpy(info->archs, HONE_CUDA_ARCHS, sizeof info->archs);
    cudaRuntimeGetVersion(&info->runtime_version);
    cudaDriverGetVersion(&info->driver_version);

    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
        hn_cuda_explain_no_device(status == cudaSuccess ? cudaErrorNoDevice : status,
                                  info->driver_version, info->reason, sizeof info->reason);
        count = 0;
    }
    info->device_count = count < HN_MAX_GPUS ? count : HN_MAX_GPUS;
    for (int d = 0; d < info->device_count; d++) {
        hn_gpu_info *gpu = &info->gpus[d];
        struct cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, d) == cudaSuccess) {
            g_strlcpy(gpu->name, prop.name, sizeof gpu->name);
            gpu->total_memory = prop.totalGlobalMem;
            gpu->major = prop.major;
            gpu->minor = prop.minor;
            gpu->multiprocessors = prop.multiProcessorCount;
        }
        gpu->kernel_ok = hn_cuda_selftest(d, gpu->kernel_error, sizeof gpu->kernel_error) == 0;
    }
    hn_cuda_probe_libraries(info);
}
