/* What the compute backends can use on this machine, for `hone env` and for choosing a
 * backend: CPU features, threads and BLAS; CUDA driver, runtime, GPUs and the libraries
 * opened at run time. Probing never fails: what is missing is reported with the reason. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char model[128];     /* "AMD EPYC ..." from /proc/cpuinfo, or "" */
    char features[256];  /* "sse4.2 avx avx2 fma f16c avx512f ..." */
    int logical_cores;
    int openmp_threads;
    char blas[256];      /* "OpenBLAS 0.3.21 ..." with its configuration */
    char blas_core[64];  /* the kernel set OpenBLAS picked, "Haswell" */
    int blas_threads;
} hn_cpu_info;

void hn_cpu_probe(hn_cpu_info *info);

#define HN_MAX_GPUS 16

typedef struct {
    char name[256];
    size_t total_memory;
    int major, minor; /* compute capability */
    int multiprocessors;
    bool kernel_ok;      /* a Hone kernel ran and gave the right answer */
    char kernel_error[256];
} hn_gpu_info;

typedef struct {
    const char *name;   /* "cuBLAS" */
    const char *soname; /* "libcublas.so.13" */
    bool loaded;
    char version[32];
    char path[512];     /* where it was found */
    char error[512];    /* why not, when not loaded */
} hn_cuda_library;

typedef struct {
    bool compiled;        /* this build has the CUDA backend */
    char archs[128];      /* GPU code it carries */
    int runtime_version;  /* cudart linked in, as 1000 * major + 10 * minor */
    int driver_version;   /* 0 when no driver */
    int device_count;
    char reason[512];     /* why no GPU is usable, when device_count == 0 */
    hn_gpu_info gpus[HN_MAX_GPUS];
    hn_cuda_library libraries[3]; /* cuBLAS, cuBLASLt, cuDNN */
    int n_libraries;
} hn_cuda_info;

void hn_cuda_probe(hn_cuda_info *info);
