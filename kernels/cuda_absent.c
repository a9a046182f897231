/* The CUDA probe of a build made without the CUDA backend (-Dcuda=disabled or no nvcc). */
#include <stdio.h>
#include <string.h>

#include "device_info.h"

void hn_cuda_probe(hn_cuda_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->reason, sizeof info->reason,
             "this build has no CUDA backend (configured with -Dcuda=disabled or without nvcc)");
}
