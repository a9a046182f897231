"""Reference side of tests/test_metric.c: nltk's sentence_bleu (method3 smoothing),
rouge_chinese's Rouge.get_scores, jieba.cut and LLaMA-Factory's ComputeSimilarity.

  metric_ref.py write OUT_DIR

OUT_DIR/expected.json:
  "isspace": every code point c with chr(c).isspace();
  "bleu": [{"hyp", "ref": token id lists, "score": sentence_bleu([ref], hyp,
      smoothing_function=SmoothingFunction().method3) with the ids as str tokens}]: fixed
      cases, then random lists over small vocabularies (so n-grams repeat and match);
  "bleu_chars": [{"hyp", "ref": texts, "score": sentence_bleu([list(ref)], list(hyp), ...)}];
  "rouge": [{"hyp", "ref": texts, "scores": get_scores(hyp, ref)[0] or null where it raises}]:
      random texts of words, spaces, tabs, ideographic spaces, newlines and rouge_chinese's
      sentence marks (。！？? ” ’ ...... …… ，);
  "segment": [{"text", "words": list(jieba.cut(text))}]: random text without Chinese
      ideographs (ASCII letters, digits, + # & . _ % -, punctuation, whitespace with \\r\\n,
      accented letters, Greek, emoji, jieba's ASCII dictionary words);
  "similarity": {"pairs": [[predict, label]], "metrics": ComputeSimilarity's result} with a
      stand-in tokenizer whose batch_decode returns the texts."""
import json
import os
import random
import sys

import llamafactory_env  # noqa: F401  (before any LLaMA-Factory import)
import jieba  # noqa: E402
import numpy as np  # noqa: E402
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu  # noqa: E402
from rouge_chinese import Rouge  # noqa: E402

jieba.setLogLevel(60)


def bleu(hyp, ref):
    return float(sentence_bleu([ref], hyp, smoothing_function=SmoothingFunction().method3))


def bleu_cases(rng):
    fixed = [([], [1, 2, 3]), ([1], [1]), ([1, 2, 3, 4], [1, 2, 3, 4]), ([1, 2], [3, 4]),
             ([1, 2, 3, 4, 5], [1, 2, 3]), ([1, 1, 1, 1, 1, 1], [1, 1]), ([5, 6, 7], []),
             ([1, 2, 3, 4, 1, 2, 3], [1, 2, 3, 4])]
    cases = list(fixed)
    for _ in range(300):
        vocab = rng.randint(2, 12)
        cases.append(([rng.randrange(vocab) for _ in range(rng.randint(0, 40))],
                      [rng.randrange(vocab) for _ in range(rng.randint(0, 40))]))
    out = []
    for hyp, ref in cases:
        score = bleu([str(t) for t in hyp], [str(t) for t in ref])
        out.append({"hyp": hyp, "ref": ref, "score": score})
    return out


ROUGE_PIECES = ["a", "b", "c", "d", "ab", "word", "x", " ", " ", " ", "  ", "\t", "\u3000",
                "\n", "\n\n", "\u3002", "\uff01", "\uff1f", "?", "\u201d", "\u2019",
                "......", ".......", "\u2026\u2026", "\uff0c", "\u00a0", ".", "\u4e2d",
                "\u6587"]


def random_text(rng, pieces, length):
    return "".join(rng.choice(pieces) for _ in range(length))


def rouge_cases(rng):
    out = []
    texts = [("a b c", "a b c"), ("a b", "c d"), ("", "a"), ("  ", "a"), ("a\n\nb", "a b"),
             ("\u3002 a", "a \u3002")]
    for _ in range(400):
        texts.append((random_text(rng, ROUGE_PIECES, rng.randint(0, 30)),
                      random_text(rng, ROUGE_PIECES, rng.randint(0, 30))))
    for hyp, ref in texts:
        try:
            scores = Rouge().get_scores(hyp, ref)[0]
        except (ValueError, RecursionError):
            scores = None
        out.append({"hyp": hyp, "ref": ref, "scores": scores})
    return out


SEGMENT_PIECES = list("abcXYZ019+#&._%-") + ["hello", "World", "3.14", "1.5%", "v2.0",
                                             "C++", "c++", "C#", "c#", "AT&T", "AT", " ", " ",
                                             "\t", "\n", "\r\n", "\r", "\u3000", "\u00a0",
                                             ",", "!", "?", "'", '"', "(", ")", ":", ";",
                                             "/", "\u00e9t\u00e9", "\u03b1\u03b2",
                                             "\U0001f600", "\u2014", "\uff0c", "\u3002"]


def segment_cases(rng):
    texts = ["Hello, world!", "It's 3.14 or 1.5% - e.g. C++11 and AT&T's c#.",
             "well-known  \r\n\ttabs", "a...b", "x--y", ""]
    for _ in range(400):
        texts.append(random_text(rng, SEGMENT_PIECES, rng.randint(0, 25)))
    return [{"text": t, "words": list(jieba.cut(t))} for t in texts]


SIMILARITY_PAIRS = [
    ("The capital of France is Paris.", "Paris is the capital of France.\n"),
    ("I am an AI assistant, here to help you.", "I am Hone, an assistant made by you.\n"),
    ("", "Something to say.\n"),
    ("Red, green and blue!", "Red, green and blue."),
    ("C++ and C# are languages (1.5% of 3.14).", "C++ is a language.\n\nC# too?"),
]


class TextsTokenizer:
    """Stands in for the tokenizer: id i decodes to text i."""
    pad_token_id = 0

    def __init__(self, texts):
        self.texts = texts

    def batch_decode(self, ids, skip_special_tokens=True):
        return [self.texts[int(row[0])] for row in ids]


def similarity():
    from llamafactory.train.sft.metric import ComputeSimilarity
    from transformers import EvalPrediction

    preds = [p for p, _ in SIMILARITY_PAIRS]
    labels = [label for _, label in SIMILARITY_PAIRS]
    texts = preds + labels
    n = len(preds)
    compute = ComputeSimilarity(tokenizer=TextsTokenizer(texts))
    metrics = compute(EvalPrediction(predictions=np.arange(n).reshape(n, 1),
                                     label_ids=np.arange(n, 2 * n).reshape(n, 1)))
    for pred, label in SIMILARITY_PAIRS:  # the claim the test relies on: no ideographs here
        assert list(jieba.cut(pred)) is not None and not any("\u4e00" <= c <= "\u9fd5"
                                                             for c in pred + label)
    return {"pairs": [list(p) for p in SIMILARITY_PAIRS], "metrics": metrics}


def write(out):
    rng = random.Random(20261129)
    expected = {
        "isspace": [c for c in range(0x110000) if chr(c).isspace()],
        "bleu": bleu_cases(rng),
        "bleu_chars": [{"hyp": h, "ref": r, "score": bleu(list(h), list(r))}
                       for h, r in [("abcd", "abcd"), ("hello world", "hello there world"),
                                    ("\u4e2d\u6587\u5f88\u597d", "\u4e2d\u6587\u597d"),
                                    ("na\u00efve caf\u00e9", "naive cafe"), ("", "x")]],
        "rouge": rouge_cases(rng),
        "segment": segment_cases(rng),
        "similarity": similarity(),
    }
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False)
    print(f"{len(expected['bleu'])} bleu, {len(expected['rouge'])} rouge, "
          f"{len(expected['segment'])} segment cases")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
