/* Carving one backend allocation into aligned pieces: a layout function runs twice, first
 * with a NULL base to add up the size, then with the allocation to hand out pointers. */
#include "model_internal.h"

enum { ARENA_ALIGNMENT = 64 };

void *hn_arena_take(hn_arena *arena, size_t bytes)
{
    size_t start = (arena->used + ARENA_ALIGNMENT - 1) / ARENA_ALIGNMENT * ARENA_ALIGNMENT;
    arena->used = start + bytes;
    return arena->base != NULL ? arena->base + start : NULL;
}
