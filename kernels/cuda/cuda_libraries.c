/* cuBLAS, cuBLASLt and cuDNN are opened at run time with dlopen, so that `hone` starts on a
 * machine without them; this file finds them and reads their versions. */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "config.h"
#include "cuda_internal.h"

void *hn_cuda_dlopen(const char *soname, char *error, size_t error_size)
{
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        g_strlcpy(error, dlerror(), error_size);
        char *fallback = g_strdup_printf("%s/lib64/%s", HONE_CUDA_ROOT, soname);
        handle = dlopen(fallback, RTLD_NOW | RTLD_LOCAL);
        g_free(fallback);
    }
    return handle;
}

static void *open_library(hn_cuda_library *lib)
{
    void *handle = hn_cuda_dlopen(lib->soname, lib->error, sizeof lib->error);
    if (handle != NULL) {
        struct link_map *map = NULL;
        if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != NULL)
            g_strlcpy(lib->path, map->l_name, sizeof lib->path);
        lib->error[0] = '\0';
    }
    return handle;
}

/* Versions packed as major * 10000 + minor * 100 + patch (cuBLASLt, cuDNN 9). */
static void format_packed_version(char *out, size_t size, size_t packed)
{
    snprintf(out, size, "%zu.%zu.%zu", packed / 10000, packed / 100 % 100, packed % 100);
}

static void probe_cublas(hn_cuda_library *lib, void *handle)
{
    typedef int (*get_property_fn)(int type, int *value); /* libraryPropertyType: 0,1,2 */
    get_property_fn get_property = (get_property_fn)(uintptr_t)dlsym(handle, "cublasGetProperty");
    int v[3] = {0, 0, 0};
    if (get_property == NULL || get_property(0, &v[0]) != 0 || get_property(1, &v[1]) != 0 ||
        get_property(2, &v[2]) != 0) {
        g_strlcpy(lib->error, "cublasGetProperty is missing or failed", sizeof lib->error);
        return;
    }
    snprintf(lib->version, sizeof lib->version, "%d.%d.%d", v[0], v[1], v[2]);
    lib->loaded = true;
}

static void probe_packed(hn_cuda_library *lib, void *handle, const char *symbol)
{
    typedef size_t (*get_version_fn)(void);
    get_version_fn get_version = (get_version_fn)(uintptr_t)dlsym(handle, symbol);
    if (get_version == NULL) {
        snprintf(lib->error, sizeof lib->error, "%s is missing", symbol);
        return;
    }
    format_packed_version(lib->version, sizeof lib->version, get_version());
    lib->loaded = true;
}

void hn_cuda_probe_libraries(hn_cuda_info *info)
{
    static const struct {
        const char *name, *soname, *version_symbol;
    } wanted[] = {
        {"cuBLAS", "libcublas.so.13", NULL},
        {"cuBLASLt", "libcublasLt.so.13", "cublasLtGetVersion"},
        {"cuDNN", "libcudnn.so.9", "cudnnGetVersion"},
    };
    info->n_libraries = (int)G_N_ELEMENTS(wanted);
    for (size_t i = 0; i < G_N_ELEMENTS(wanted); i++) {
        hn_cuda_library *lib = &info->libraries[i];
        lib->name = wanted[i].name;
        lib->soname = wanted[i].soname;
        void *handle = open_library(lib);
        if (handle == NULL)
            continue;
        if (wanted[i].version_symbol == NULL)
            probe_cublas(lib, handle);
        else
            probe_packed(lib, handle, wanted[i].version_symbol);
        /* Kept open: the backend will use it, and unloading CUDA libraries is not safe. */
    }
}
