/* Pieces of the CUDA backend shared between its files (not for the engine). */
#pragma once

#include <stddef.h>

#include "device_info.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dlopen of a CUDA library: the plain soname (ld.so's search path), then the toolkit this
 * build was made with; NULL with dlerror's message for the soname in error. */
void *hn_cuda_dlopen(const char *soname, char *error, size_t error_size);

/* Fills info->libraries: dlopen of cuBLAS, cuBLASLt, cuDNN and their versions. */
void hn_cuda_probe_libraries(hn_cuda_info *info);

/* Runs a small kernel on `device` and checks its result; 0 on success, else a message in
 * error (compiled by nvcc in selftest.cu). */
int hn_cuda_selftest(int device, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif
