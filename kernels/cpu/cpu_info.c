/* The CPU backend's view of this machine: SIMD features, threads, OpenBLAS. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "device_info.h"

static void read_cpu_model(char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *colon = strchr(line, ':');
            if (colon != NULL) {
                g_strlcpy(out, colon + 2, size);
                g_strchomp(out);
            }
            break;
        }
    }
    fclose(f);
}

static void list_features(char *out, size_t size)
{
    out[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* __builtin_cpu_supports needs a literal name, hence two parallel lists. */
    static const char *const names[] = {
        "sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vnni", "avx512bf16",
    };
    const int present[] = {
        __builtin_cpu_supports("sse4.2"),   __builtin_cpu_supports("avx"),
        __builtin_cpu_supports("avx2"),     __builtin_cpu_supports("fma"),
        __builtin_cpu_supports("f16c"),     __builtin_cpu_supports("avx512f"),
        __builtin_cpu_supports("avx512bw"), __builtin_cpu_supports("avx512vnni"),
        __builtin_cpu_supports("avx512bf16"),
    };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (present[i]) {
            if (out[0] != '\0')
                g_strlcat(out, " ", size);
            g_strlcat(out, names[i], size);
        }
    }
#else
    g_strlcpy(out, "(feature detection is only built for x86)", size);
#endif
}

void hn_cpu_probe(hn_cpu_info *info)
{
    memset(info, 0, sizeof *info);
    read_cpu_model(info->model, sizeof info->model);
    list_features(info->features, sizeof info->features);
    info->logical_cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    info->openmp_threads = omp_get_max_threads();
    snprintf(info->blas, sizeof info->blas, "OpenBLAS (%s)", openblas_get_config());
    g_strlcpy(info->blas_core, openblas_get_corename(), sizeof info->blas_core);
    info->blas_threads = openblas_get_num_threads();
}
