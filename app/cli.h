/* Shared pieces of the command-line front ends: the subcommand table, option parsing with
 * uniform errors, and exit codes (0 success, 1 failure, 2 usage error). */
#pragma once

#include <glib.h>

#include "config_file.h"

/* 130: stopped by Ctrl-C after saving (128 + SIGINT, the shell's convention). */
enum { HONE_EXIT_OK = 0, HONE_EXIT_FAILURE = 1, HONE_EXIT_USAGE = 2, HONE_EXIT_INTERRUPTED = 130 };

typedef int (*hone_command_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    const char *summary;   /* one line for `hone --help` */
    hone_command_fn run;   /* argv[0] is the subcommand name */
} hone_command;

/* Every subcommand, in the order `hone --help` lists them; NULL-terminated. */
extern const hone_command hone_commands[];

/* Parses argv against entries for `hone COMMAND`. Returns HONE_EXIT_OK, or prints a clear
 * message naming the bad flag and returns HONE_EXIT_USAGE. Left-over arguments are an
 * error unless allow_rest. --help prints usage and exits 0. */
int hone_parse_options(const char *command, const char *parameters, const char *description,
                       const GOptionEntry *entries, int *argc, char ***argv,
                       gboolean allow_rest);

/* `hone COMMAND [CONFIG] [--key value | --key=value ...]`: reads CONFIG (YAML or JSON; optional
 * when argv[1] starts with --) through set, saying on stdout which keys it ignores, then
 * applies each --key value over it. Returns HONE_EXIT_OK, HONE_EXIT_FAILURE for a config that
 * does not load, or HONE_EXIT_USAGE for a bad argument, unknown key or bad value (printed). */
int hone_read_config(const char *command, int argc, char **argv, hn_config_setter set,
                     void *user);

/* "hone COMMAND: error: ..." on stderr; returns HONE_EXIT_FAILURE. */
int hone_fail(const char *command, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* "hone COMMAND: ..." plus a hint to --help on stderr; returns HONE_EXIT_USAGE. */
int hone_usage_error(const char *command, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* 134515008 -> "134,515,008" into buf. */
const char *hone_format_count(long long n, char *buf, size_t size);
/* 269000000 -> "256.5 MiB" into buf. */
const char *hone_format_bytes(unsigned long long n, char *buf, size_t size);

/* All of standard input (g_free it); *length gets its size in bytes. */
char *hone_read_stdin(size_t *length);

