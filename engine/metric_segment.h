/* How Hone splits text into words for ROUGE, where LLaMA-Factory's ComputeSimilarity calls
 * jieba.cut(text) (jieba 0.42, default mode, HMM on). Hone follows jieba's rules exactly except
 * for Chinese ideographs (U+4E00..U+9FD5), which jieba groups into words with its dictionary
 * and HMM and Hone keeps one word each:
 *   1. The text splits into runs of "han" characters (U+4E00..U+9FD5, ASCII letters and digits,
 *      + # & . _ % -) and runs of everything else.
 *   2. Outside han runs: "\r\n" and each other whitespace character (Python's str.isspace) are
 *      words of their own, and so is every other character (punctuation, symbols, other
 *      scripts), one each.
 *   3. In a han run, jieba's dictionary words made only of those characters (AT&T, c#, C#, c++,
 *      C++) are words; the characters between them form a piece that is a word when it is one
 *      character long, else is split as jieba's finalseg does outside Chinese: maximal matches
 *      of [a-zA-Z0-9]+(\.[0-9]+)?%? are words and each stretch between them is one word; each
 *      ideograph is a word (Hone's departure from jieba).
 * On text without ideographs this equals jieba.cut (tests/reference/metric_ref.py checks it on
 * random text); on Chinese text ROUGE is per character where upstream's is per jieba word. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Python's str.isspace() (and re's \s): Unicode White_Space with bidirectional class WS, B or
 * S, or category Zs. */
bool hn_py_isspace(gunichar c);

/* The words of UTF-8 text, in order (g_ptr_array_unref; the array frees its strings). Invalid
 * UTF-8 bytes are words of one byte each. */
GPtrArray *hn_segment_words(const char *text);

/* " ".join(words): what ComputeSimilarity hands rouge_chinese (g_free). */
char *hn_segment_joined(const char *text);
