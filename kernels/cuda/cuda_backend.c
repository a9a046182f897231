/* The CUDA backend's table (hn_cuda_backend): one device per process, one non-blocking stream
 * that every op and copy is queued on, the first error of a launch kept until synchronize
 * reports it, and the scratch buffers ops borrow. Memory comes from the arena (cuda_arena.c);
 * the ops from the elementwise and product files (cuda_ops.h). */
#include <cuda_runtime_api.h>
#include <stdio.h>

#include <glib.h>

#include "cuda_internal.h"
#include "cuda_ops.h"

static struct {
    GMutex open_lock;     /* guards opening the backend (hn_cuda_backend) */
    GMutex error_lock;    /* guards error */
    bool ready;           /* the table is built */
    int device;
    hn_gpu_math math;
    cudaStream_t stream;
    hn_backend table;
    char error[512];      /* the first error since the last synchronize, or "" */
    void *scratch[HN_CUDA_SCRATCH_SLOTS];
    size_t scratch_bytes[HN_CUDA_SCRATCH_SLOTS];
} cuda;

hn_cuda_stream_t hn_cuda_stream(void)
{
    return cuda.stream;
}

hn_gpu_math hn_cuda_math(void)
{
    return cuda.math;
}

void hn_cuda_record_error(const char *where, const char *what)
{
    g_mutex_lock(&cuda.error_lock);
    if (cuda.error[0] == '\0')
        snprintf(cuda.error, sizeof cuda.error, "%s: %s", where, what);
    g_mutex_unlock(&cuda.error_lock);
}

/* Records a failed runtime call as "where: cudaErrorX: text", and clears the runtime's last
 * error so that the next launch check does not report it again. */
static void record_status(const char *where, cudaError_t status)
{
    if (status == cudaSuccess)
        return;
    (void)cudaGetLastError();
    char what[384];
    snprintf(what, sizeof what, "%s: %s", cudaGetErrorName(status), cudaGetErrorString(status));
    hn_cuda_record_error(where, what);
}

/* Called from the thread that queues the ops (as the ops themselves). */
void *hn_cuda_scratch(int slot, size_t bytes)
{
    if (slot < 0 || slot >= HN_CUDA_SCRATCH_SLOTS) {
        hn_cuda_record_error("scratch", "slot out of range");
        return NULL;
    }
    if (bytes > cuda.scratch_bytes[slot]) {
        /* Work queued on the stream may still read the old buffer; whoever gets it from the
         * arena next queues after that work, on the same stream. */
        hn_cuda_arena_free(cuda.scratch[slot]);
        cuda.scratch[slot] = hn_cuda_arena_alloc(bytes);
        cuda.scratch_bytes[slot] = cuda.scratch[slot] != NULL ? bytes : 0;
        if (cuda.scratch[slot] == NULL) {
            char what[128];
            snprintf(what, sizeof what, "out of device memory for %zu bytes", bytes);
            hn_cuda_record_error("scratch", what);
        }
    }
    return cuda.scratch[slot];
}

/* ---- memory ------------------------------------------------------------------------------ */

static void *cuda_alloc(size_t bytes)
{
    return hn_cuda_arena_alloc(bytes);
}

static void cuda_free(void *ptr)
{
    hn_cuda_arena_free(ptr);
}

static void cuda_zero(void *ptr, size_t bytes)
{
    record_status("zero", cudaMemsetAsync(ptr, 0, bytes, cuda.stream));
}

/* From pageable host memory: the runtime stages the bytes before it returns, so the caller may
 * reuse its buffer at once. */
static void cuda_copy_to_device(void *device_dst, const void *host_src, size_t bytes)
{
    record_status("copy_to_device",
                  cudaMemcpyAsync(device_dst, host_src, bytes, cudaMemcpyHostToDevice, cuda.stream));
}

/* Queued after the work before it, and waited for: the host reads the bytes on return. */
static void cuda_copy_to_host(void *host_dst, const void *device_src, size_t bytes)
{
    record_status("copy_to_host",
                  cudaMemcpyAsync(host_dst, device_src, bytes, cudaMemcpyDeviceToHost, cuda.stream));
    record_status("copy_to_host", cudaStreamSynchronize(cuda.stream));
}

static void cuda_copy(void *device_dst, const void *device_src, size_t bytes)
{
    record_status("copy", cudaMemcpyAsync(device_dst, device_src, bytes,
                                          cudaMemcpyDeviceToDevice, cuda.stream));
}

static bool cuda_synchronize(char *message, size_t size)
{
    record_status("synchronize", cudaStreamSynchronize(cuda.stream));
    g_mutex_lock(&cuda.error_lock);
    bool ok = cuda.error[0] == '\0';
    if (size > 0)
        g_strlcpy(message, cuda.error, size);
    cuda.error[0] = '\0';
    g_mutex_unlock(&cuda.error_lock);
    return ok;
}

/* ---- the table --------------------------------------------------------------------------- */

/* The device if it can be used: it exists, and the runtime can make it current. */
static bool open_device(int device, char *error, size_t error_size)
{
    int count = 0, driver_version = 0;
    cudaDriverGetVersion(&driver_version);
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
        (void)cudaGetLastError();
        char reason[384];
        hn_cuda_explain_no_device(status == cudaSuccess ? cudaErrorNoDevice : status,
                                  driver_version, reason, sizeof reason);
        snprintf(error, error_size, "the CUDA backend cannot run here: %s", reason);
        return false;
    }
    if (device < 0 || device >= count) {
        snprintf(error, error_size, "there is no GPU %d: the driver sees %d (0 to %d)", device,
                 count, count - 1);
        return false;
    }
    status = cudaSetDevice(device);
    if (status == cudaSuccess)
        status = cudaStreamCreateWithFlags(&cuda.stream, cudaStreamNonBlocking);
    if (status != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(error, error_size, "GPU %d cannot be used: %s: %s", device,
                 cudaGetErrorName(status), cudaGetErrorString(status));
        return false;
    }
    return true;
}

/* A later call for the same device returns the same table and sets the math that the
 * products use from then on. */
const hn_backend *hn_cuda_backend(int device, hn_gpu_math math, char *error, size_t error_size)
{
    g_mutex_lock(&cuda.open_lock);
    const hn_backend *result = NULL;
    if (cuda.ready) {
        if (device == cuda.device) {
            cuda.math = math;
            result = &cuda.table;
        } else {
            snprintf(error, error_size,
                     "the CUDA backend already runs on GPU %d; one process uses one GPU, so GPU "
                     "%d cannot be opened too", cuda.device, device);
        }
        g_mutex_unlock(&cuda.open_lock);
        return result;
    }
    if (open_device(device, error, error_size)) {
        cuda.device = device;
        cuda.math = math;
        cuda.table = (hn_backend){
            .name = "cuda",
            .alloc = cuda_alloc,
            .free = cuda_free,
            .zero = cuda_zero,
            .copy_to_device = cuda_copy_to_device,
            .copy_to_host = cuda_copy_to_host,
            .copy = cuda_copy,
            .synchronize = cuda_synchronize,
        };
        hn_cuda_fill_elementwise_ops(&cuda.table);
        if (hn_cuda_fill_product_ops(&cuda.table, error, error_size)) {
            cuda.ready = true;
            result = &cuda.table;
        } else {
            cudaStreamDestroy(cuda.stream);
            cuda.stream = NULL;
        }
    }
    g_mutex_unlock(&cuda.open_lock);
    return result;
}
