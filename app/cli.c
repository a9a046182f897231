/* Option parsing, error printing and number formatting shared by the subcommands. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int hone_fail(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "hone %s: error: %s\n", command, message);
    g_free(message);
    return HONE_EXIT_FAILURE;
}

int hone_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "hone %s: %s\nTry 'hone %s --help'.\n", command, message, command);
    g_free(message);
    return HONE_EXIT_USAGE;
}

int hone_parse_options(const char *command, const char *parameters, const char *description,
                       const GOptionEntry *entries, int *argc, char ***argv,
                       gboolean allow_rest)
{
    char *prgname = g_strdup_printf("hone %s", command);
    g_set_prgname(prgname);
    g_free(prgname);
    GOptionContext *context = g_option_context_new(parameters);
    g_option_context_set_description(context, description);
    if (entries != NULL)
        g_option_context_add_main_entries(context, entries, NULL);
    GError *error = NULL;
    gboolean ok = g_option_context_parse(context, argc, argv, &error);
    g_option_context_free(context);
    if (!ok) {
        int code = hone_usage_error(command, "%s", error->message);
        g_error_free(error);
        return code;
    }
    if (!allow_rest && *argc > 1)
        return hone_usage_error(command, "unexpected argument '%s'", (*argv)[1]);
    return HONE_EXIT_OK;
}

const char *hone_format_count(long long n, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", n < 0 ? -n : n);
    size_t len = strlen(digits), out = 0;
    if (n < 0 && out + 1 < size)
        buf[out++] = '-';
    for (size_t i = 0; i < len && out + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && out + 2 < size)
            buf[out++] = ',';
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

const char *hone_format_bytes(unsigned long long n, char *buf, size_t size)
{
    static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double value = (double)n;
    size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < G_N_ELEMENTS(units)) {
        value /= 1024.0;
        unit++;
    }
    if (unit == 0)
        snprintf(buf, size, "%llu bytes", n);
    else
        snprintf(buf, size, "%.1f %s", value, units[unit]);
    return buf;
}

char *hone_read_stdin(size_t *length)
{
    GString *in = g_string_new(NULL);
    char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, stdin)) > 0)
        g_string_append_len(in, buffer, (gssize)n);
    *length = in->len;
    return g_string_free(in, FALSE);
}

int hone_read_config_args(const char *command, int argc, char **argv, hn_config_setter set,
                          void *user)
{
    hn_error err = {0};
    int first = 1;
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        char **ignored = NULL;
        if (hn_config_load(argv[1], set, user, &ignored, &err) != HN_OK)
            return hone_fail(command, "%s", err.message);
        if (ignored != NULL && ignored[0] != NULL) {
            char *list = g_strjoinv(", ", ignored);
            fprintf(stderr, "hone %s: ignoring keys %s does not use: %s\n", command, command,
                    list);
            g_free(list);
        }
        g_strfreev(ignored);
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            return hone_usage_error(command, "unexpected argument \"%s\" (expected --key value)",
                                    argv[i]);
        char *key = g_strdup(argv[i] + 2), *value = strchr(key, '=');
        if (value != NULL) {
            *value++ = '\0';
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            g_free(key);
            return hone_usage_error(command, "%s needs a value", argv[i]);
        }
        char *where = g_strdup_printf("--%s", key);
        hn_status s = set(user, key, value, where, &err);
        int code = HONE_EXIT_OK;
        if (s == HN_ERR_UNSUPPORTED)
            code = hone_usage_error(command, "--%s: not a key %s reads", key, command);
        else if (s != HN_OK)
            code = hone_usage_error(command, "%s", err.message);
        g_free(where);
        g_free(key);
        if (code != HONE_EXIT_OK)
            return code;
    }
    return HONE_EXIT_OK;
}
