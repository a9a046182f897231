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

/* Why no GPU can be used, from the cudaError_t of cudaGetDeviceCount (cudaErrorNoDevice when
 * it counted none) and cudaDriverGetVersion's result (0: no driver): "no NVIDIA driver is
 * installed ... [cudaErrorInsufficientDriver: ...]" (cuda_probe.c). */
void hn_cuda_explain_no_device(int status, int driver_version, char *reason, size_t size);

/* The device memory arena (cuda_arena.c): blocks carved from large cudaMalloc chunks, sizes
 * rounded up to size classes, freed blocks kept per class and reused. Thread-safe. alloc
 * returns NULL when the device is out of memory. */
void *hn_cuda_arena_alloc(size_t bytes);
void hn_cuda_arena_free(void *ptr);

#ifdef __cplusplus
}
#endif
