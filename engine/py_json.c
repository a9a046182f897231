/* JSON text as Python's json.dumps(obj, indent=2) writes it, for files that Python tools write
 * and that Hone writes byte for byte the same (adapter_config.json). */
#include "py_json.h"

#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double hn_py_round(double x, int digits)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%.*f", digits, x);
    return strtod(buf, NULL);
}

/* A double as Python's repr() writes it: the shortest digits that read back the same, fixed
 * notation for exponents -4 .. 15, else d.ddde+XX; always a '.' or an exponent. */
char *hn_py_float_repr(double x)
{
    if (isnan(x))
        return g_strdup("NaN");
    if (isinf(x))
        return g_strdup(x > 0 ? "Infinity" : "-Infinity");
    if (x == 0)
        return g_strdup(signbit(x) ? "-0.0" : "0.0");
    char buf[64];
    for (int precision = 0; precision <= 16; precision++) {
        snprintf(buf, sizeof buf, "%.*e", precision, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    /* buf: [-]d[.ddd]e[+-]XX */
    char *e = strchr(buf, 'e');
    int exponent = atoi(e + 1);
    *e = '\0';
    GString *digits = g_string_new(NULL);
    for (const char *p = buf; *p; p++)
        if (*p >= '0' && *p <= '9')
            g_string_append_c(digits, *p);
    while (digits->len > 1 && digits->str[digits->len - 1] == '0')
        g_string_truncate(digits, digits->len - 1);
    GString *out = g_string_new(x < 0 ? "-" : "");
    int n = (int)digits->len;
    if (exponent >= -4 && exponent < 16) {
        if (exponent < 0) {
            g_string_append(out, "0.");
            for (int i = -1; i > exponent; i--)
                g_string_append_c(out, '0');
            g_string_append(out, digits->str);
        } else if (n <= exponent + 1) {
            g_string_append(out, digits->str);
            for (int i = n; i <= exponent; i++)
                g_string_append_c(out, '0');
            g_string_append(out, ".0");
        } else {
            g_string_append_len(out, digits->str, exponent + 1);
            g_string_append_c(out, '.');
            g_string_append(out, digits->str + exponent + 1);
        }
    } else {
        g_string_append_c(out, digits->str[0]);
        if (n > 1) {
            g_string_append_c(out, '.');
            g_string_append(out, digits->str + 1);
        }
        g_string_append_printf(out, "e%c%02d", exponent < 0 ? '-' : '+', abs(exponent));
    }
    g_string_free(digits, TRUE);
    return g_string_free(out, FALSE);
}

/* How json.dumps was called: indent=N (spaces per level) with ensure_ascii, or no indent
 * (indent 0: ", " and ": " on one line) with ensure_ascii=False. */
typedef struct {
    int indent;
    bool ensure_ascii;
} print_style;

/* Appends s as json.dumps writes it; with ensure_ascii, non-ASCII as \uXXXX (UTF-16). */
static void append_python_string(GString *out, const char *s, const print_style *style)
{
    g_string_append_c(out, '"');
    for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar ch = g_utf8_get_char_validated(p, -1);
        switch (ch) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\f': g_string_append(out, "\\f"); break;
        default:
            if (ch == (gunichar)-1 || ch == (gunichar)-2) { /* strings come from UTF-8 JSON */
                g_string_append(out, "\\ufffd");
                break;
            }
            if (!style->ensure_ascii && ch > 0x7e) /* as it is; DEL is ASCII, kept too */
                g_string_append_unichar(out, ch);
            else if (ch < 0x20 || (ch > 0x7e && ch < 0x10000)) /* all but ' ' .. '~' */
                g_string_append_printf(out, "\\u%04x", ch);
            else if (ch >= 0x10000)
                g_string_append_printf(out, "\\u%04x\\u%04x", 0xd800 + ((ch - 0x10000) >> 10),
                                       0xdc00 + ((ch - 0x10000) & 0x3ff));
            else
                g_string_append_c(out, (char)ch);
        }
    }
    g_string_append_c(out, '"');
}

static void append_indent(GString *out, int depth, int width)
{
    g_string_append_c(out, '\n');
    for (int i = 0; i < depth * width; i++)
        g_string_append_c(out, ' ');
}

/* A parsed JSON number: an integer where it is one (json.loads gives an int for "3"; "3.0"
 * is indistinguishable once parsed and comes out as 3 too), else repr() of the float. */
static void append_number(GString *out, double x)
{
    if (x == floor(x) && fabs(x) < 9007199254740992.0) {
        g_string_append_printf(out, "%.0f", x);
        return;
    }
    char *repr = hn_py_float_repr(x);
    g_string_append(out, repr);
    g_free(repr);
}

/* json.dumps(value, indent=2): one element per line, empty containers as {} and []; without
 * indent all on one line with ", " and ": ". */
static void print_value(GString *out, const cJSON *item, int depth, const print_style *style)
{
    if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        bool object = cJSON_IsObject(item);
        if (item->child == NULL) {
            g_string_append(out, object ? "{}" : "[]");
            return;
        }
        g_string_append_c(out, object ? '{' : '[');
        for (const cJSON *child = item->child; child != NULL; child = child->next) {
            if (style->indent > 0)
                append_indent(out, depth + 1, style->indent);
            if (object) {
                append_python_string(out, child->string, style);
                g_string_append(out, ": ");
            }
            print_value(out, child, depth + 1, style);
            if (child->next != NULL)
                g_string_append(out, style->indent > 0 ? "," : ", ");
        }
        if (style->indent > 0)
            append_indent(out, depth, style->indent);
        g_string_append_c(out, object ? '}' : ']');
    } else if (cJSON_IsString(item)) {
        append_python_string(out, item->valuestring, style);
    } else if (cJSON_IsNumber(item)) {
        append_number(out, item->valuedouble);
    } else if (cJSON_IsRaw(item)) {
        g_string_append(out, item->valuestring);
    } else if (cJSON_IsBool(item)) {
        g_string_append(out, cJSON_IsTrue(item) ? "true" : "false");
    } else {
        g_string_append(out, "null");
    }
}

char *hn_py_json_dumps(const cJSON *item)
{
    return hn_py_json_dumps_indent(item, 2);
}

char *hn_py_json_dumps_indent(const cJSON *item, int indent)
{
    GString *out = g_string_new(NULL);
    print_value(out, item, 0, &(print_style){.indent = indent, .ensure_ascii = true});
    return g_string_free(out, FALSE);
}

char *hn_py_json_dumps_line(const cJSON *item)
{
    GString *out = g_string_new(NULL);
    print_value(out, item, 0, &(print_style){.indent = 0, .ensure_ascii = false});
    return g_string_free(out, FALSE);
}
