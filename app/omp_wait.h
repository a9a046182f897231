/* A short OpenMP spin for decoding commands (omp_wait.c). */
#pragma once

/* Unless the user chose OMP_WAIT_POLICY or GOMP_SPINCOUNT, runs this command again (execv of
 * /proc/self/exe with "hone" and argv[0..argc)) with GOMP_SPINCOUNT=10000; returns only when
 * nothing was changed or the exec failed. */
void hone_prefer_short_spinning(int argc, char **argv);
