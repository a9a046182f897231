/* How idle OpenMP threads wait in the commands that decode tokens (hone chat, the desktop
 * app's Chat page): see hone_prefer_short_spinning. */
#include "omp_wait.h"

#include <glib.h>
#include <unistd.h>

/* OpenMP threads that finish a parallel region spin, waiting for the next one. Decoding runs
 * a few hundred small regions per token: on a quiet machine spinning threads start the next
 * region at once, while on a busy one a spinning thread keeps the core its partner needs.
 * Measured on 2 cores with SmolLM2-135M (bench_decode, 2 threads, 2026-11-29): quiet,
 * libgomp's default 144 tokens/s, GOMP_SPINCOUNT=10000 139, passive waiting 66; with six
 * busy processes beside it, default 5.0, GOMP_SPINCOUNT=10000 14.8, passive 17.0. A short
 * spin is close to the best of both. libgomp reads these variables when it loads, before
 * main, so when the user has chosen neither the command runs itself again with the spin set. */
void hone_prefer_short_spinning(int argc, char **argv)
{
    if (g_getenv("OMP_WAIT_POLICY") != NULL || g_getenv("GOMP_SPINCOUNT") != NULL)
        return;
    g_setenv("GOMP_SPINCOUNT", "10000", TRUE);
    char **again = g_new0(char *, argc + 2);
    again[0] = (char *)"hone";
    for (int i = 0; i < argc; i++)
        again[i + 1] = argv[i];
    execv("/proc/self/exe", again);
    g_free(again); /* exec failed: go on with libgomp's default waiting */
}

