/* The CUDA backend's device memory: a caching arena over cudaMalloc (no managed memory).
 * Requests are rounded up to a size class (multiples of 256 bytes up to 4 KiB, then four
 * classes per power of two, so at most 25% is wasted); a freed block goes to its class's free
 * list and the next request of that class reuses it. Blocks under 8 MiB are carved from 64 MiB
 * chunks (a chunk's unused tail, under 8 MiB, is left when the next chunk starts); larger ones
 * get a cudaMalloc of their own. When
 * cudaMalloc fails, the cached blocks that have their own cudaMalloc are released and it is
 * tried once more; blocks carved from chunks are only ever reused, never returned.
 * Every op runs on the backend's one stream, so a block freed while queued work still reads it
 * can be handed out again at once: the new owner's work is queued after that work. */
#include <cuda_runtime_api.h>

#include <glib.h>

#include "cuda_internal.h"
#include "cuda_ops.h"

enum {
    ARENA_ALIGNMENT = 256, /* cudaMalloc's own alignment; enough for any element type */
};
static const size_t CHUNK_BYTES = (size_t)64 << 20;
static const size_t DEDICATED_BYTES = (size_t)8 << 20; /* and more: a cudaMalloc of its own */
static const size_t LARGEST_REQUEST = (size_t)1 << 52; /* beyond any GPU; keeps classes exact */

typedef struct {
    char *base;
    size_t size;    /* its size class */
    bool dedicated; /* has a cudaMalloc of its own (not carved from a chunk) */
} arena_block;

static struct {
    GMutex lock;
    GHashTable *live;       /* device pointer -> arena_block*, blocks handed out */
    GHashTable *free_lists; /* size class -> GPtrArray of arena_block*, blocks to reuse */
    char *chunk;            /* the chunk new blocks are carved from, or NULL */
    size_t chunk_used, chunk_size;
} arena;

/* The size class of a request: 256-byte steps up to 4 KiB, then steps of a quarter of the
 * largest power of two not above it (p, 1.25p, 1.5p, 1.75p, 2p). */
static size_t size_class(size_t bytes)
{
    if (bytes <= 4096)
        return bytes <= ARENA_ALIGNMENT ? ARENA_ALIGNMENT
                                        : (bytes + ARENA_ALIGNMENT - 1) / ARENA_ALIGNMENT * ARENA_ALIGNMENT;
    size_t power = (size_t)1 << g_bit_nth_msf(bytes, -1);
    size_t step = power / 4;
    return (bytes + step - 1) / step * step;
}

/* cudaMalloc that leaves no sticky "last error" behind when it fails (the ops' launch checks
 * read cudaGetLastError and would otherwise blame a later kernel). */
static void *device_malloc(size_t bytes)
{
    void *ptr = NULL;
    if (cudaMalloc(&ptr, bytes) != cudaSuccess) {
        (void)cudaGetLastError();
        return NULL;
    }
    return ptr;
}

/* Releases every cached block that owns its cudaMalloc; true when one was released. */
static bool release_dedicated_blocks(void)
{
    bool released = false;
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init(&iter, arena.free_lists);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        GPtrArray *list = value;
        for (guint i = list->len; i-- > 0;) {
            arena_block *block = g_ptr_array_index(list, i);
            if (!block->dedicated)
                continue;
            if (cudaFree(block->base) != cudaSuccess)
                (void)cudaGetLastError(); /* not blamed on a later launch */
            g_free(block);
            g_ptr_array_remove_index_fast(list, i);
            released = true;
        }
    }
    return released;
}

static void *malloc_or_release(size_t bytes)
{
    void *ptr = device_malloc(bytes);
    if (ptr == NULL && release_dedicated_blocks())
        ptr = device_malloc(bytes);
    return ptr;
}

/* A new block of class `size`: its own cudaMalloc when large, else carved from the chunk (a
 * new chunk when the current one has no room; the old one's tail stays unused). When memory is
 * too short for a whole new chunk, a small block gets its own cudaMalloc too. */
static arena_block *new_block(size_t size)
{
    bool dedicated = size >= DEDICATED_BYTES;
    if (!dedicated && (arena.chunk == NULL || arena.chunk_size - arena.chunk_used < size)) {
        char *chunk = malloc_or_release(CHUNK_BYTES);
        if (chunk != NULL) {
            arena.chunk = chunk;
            arena.chunk_size = CHUNK_BYTES;
            arena.chunk_used = 0;
        } else {
            dedicated = true;
        }
    }
    char *base;
    if (dedicated) {
        base = malloc_or_release(size);
    } else {
        base = arena.chunk + arena.chunk_used;
        arena.chunk_used += size;
    }
    if (base == NULL)
        return NULL;
    arena_block *block = g_new(arena_block, 1);
    *block = (arena_block){.base = base, .size = size, .dedicated = dedicated};
    return block;
}

void *hn_cuda_arena_alloc(size_t bytes)
{
    if (bytes > LARGEST_REQUEST)
        return NULL;
    size_t size = size_class(bytes);
    g_mutex_lock(&arena.lock);
    if (arena.live == NULL) {
        arena.live = g_hash_table_new(g_direct_hash, g_direct_equal);
        arena.free_lists = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                 (GDestroyNotify)g_ptr_array_unref);
    }
    arena_block *block = NULL;
    GPtrArray *list = g_hash_table_lookup(arena.free_lists, GSIZE_TO_POINTER(size));
    if (list != NULL && list->len > 0)
        block = g_ptr_array_steal_index_fast(list, list->len - 1);
    else
        block = new_block(size);
    if (block != NULL)
        g_hash_table_insert(arena.live, block->base, block);
    g_mutex_unlock(&arena.lock);
    return block != NULL ? block->base : NULL;
}

void hn_cuda_arena_free(void *ptr)
{
    if (ptr == NULL)
        return;
    g_mutex_lock(&arena.lock);
    arena_block *block = arena.live != NULL ? g_hash_table_lookup(arena.live, ptr) : NULL;
    if (block != NULL) {
        g_hash_table_remove(arena.live, ptr);
        GPtrArray *list = g_hash_table_lookup(arena.free_lists, GSIZE_TO_POINTER(block->size));
        if (list == NULL) {
            list = g_ptr_array_new();
            g_hash_table_insert(arena.free_lists, GSIZE_TO_POINTER(block->size), list);
        }
        g_ptr_array_add(list, block);
    }
    g_mutex_unlock(&arena.lock);
    if (block == NULL)
        hn_cuda_record_error("free", "the pointer is not one the CUDA backend's alloc returned");
}
