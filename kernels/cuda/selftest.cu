// A tiny kernel that proves this build's GPU code runs on a device: it fills a buffer with
// a known pattern and the host checks every element.
#include <cuda_runtime.h>
#include <stdio.h>

#include "cuda_internal.h"

__global__ static void fill_pattern(int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        out[i] = 3 * i + 1;
}

extern "C" int hn_cuda_selftest(int device, char *error, size_t error_size)
{
    const int n = 4096;
    int *buffer = nullptr;
    int host[n];
    int previous = -1; /* the calling thread's device, given back at the end: the probe runs
                          on every GPU, and an open backend's device must stay current */
    cudaGetDevice(&previous);
    cudaError_t status = cudaSetDevice(device);
    if (status == cudaSuccess)
        status = cudaMalloc(&buffer, n * sizeof(int));
    if (status == cudaSuccess) {
        fill_pattern<<<(n + 255) / 256, 256>>>(buffer, n);
        status = cudaGetLastError();
    }
    if (status == cudaSuccess)
        status = cudaMemcpy(host, buffer, n * sizeof(int), cudaMemcpyDeviceToHost);
    if (buffer != nullptr)
        cudaFree(buffer);
    (void)cudaGetLastError(); /* a failure here is reported below, not by a later launch */
    if (previous >= 0)
        cudaSetDevice(previous);
    if (status != cudaSuccess) {
        snprintf(error, error_size, "%s: %s", cudaGetErrorName(status), cudaGetErrorString(status));
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (host[i] != 3 * i + 1) {
            snprintf(error, error_size, "element %d is %d, expected %d", i, host[i], 3 * i + 1);
            return 1;
        }
    }
    return 0;
}
