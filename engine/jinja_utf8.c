/* UTF-8 helpers for the Jinja interpreter, and Python's character classes (isspace,
 * isprintable) that strip(), split(), lstrip_blocks and repr() follow. */
#include "jinja_internal.h"

gunichar jn_utf8_get(const char *s, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) {
        *len = 1;
        return u[0];
    }
    if ((u[0] & 0xE0) == 0xC0) {
        *len = 2;
        return ((gunichar)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
    }
    if ((u[0] & 0xF0) == 0xE0) {
        *len = 3;
        return ((gunichar)(u[0] & 0x0F) << 12) | ((gunichar)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    }
    *len = 4;
    return ((gunichar)(u[0] & 0x07) << 18) | ((gunichar)(u[1] & 0x3F) << 12) |
           ((gunichar)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
}

size_t jn_utf8_put(char *out, gunichar c)
{
    return (size_t)g_unichar_to_utf8(c, out);
}

size_t jn_utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

size_t jn_utf8_offset(const char *s, size_t n, size_t index)
{
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (seen == index)
                return i;
            seen++;
        }
    }
    return n;
}

bool jn_py_isspace(gunichar c)
{
    if (c < 0x80)
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool jn_py_isprintable(gunichar c)
{
    if (c < 0x80)
        return c >= 0x20 && c < 0x7F;
    switch (g_unichar_type(c)) {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    case G_UNICODE_SPACE_SEPARATOR:
        return false;
    default:
        return true;
    }
}
