/* The CUDA entry points of a build made without the CUDA backend (-Dcuda=disabled or no
 * nvcc): the probe reports why, and asking for the backend fails with the same reason. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "device_info.h"

static const char NO_CUDA[] =
    "this build has no CUDA backend (configured with -Dcuda=disabled or without nvcc)";

void hn_cuda_probe(hn_cuda_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->reason, sizeof info->reason, "%s", NO_CUDA);
}

const hn_backend *hn_cuda_backend(int device, hn_gpu_math math, char *error, size_t error_size)
{
    (void)device;
    (void)math;
    snprintf(error, error_size, "%s", NO_CUDA);
    return NULL;
}
