"""Reference side of the tokenizer tests: Hugging Face `tokenizers` encodes and decodes a
generated corpus with real tokenizers (see tokenizer_build.py) and with variants that
exercise the other components (Metaspace, NFKC, Lowercase, Digits, Prepend, Strip, ...).

  tokenizer_ref.py write MODELS_DIR OUT_DIR

writes OUT_DIR/<name>/tokenizer.json for every tokenizer, OUT_DIR/corpus.json (the strings),
OUT_DIR/invalid.json (byte strings that are not UTF-8, base64) and OUT_DIR/<name>/expected.json:
{"ids": [[...]], "plain": [[...]], "decoded": [...], "decoded_skip": [...]} where ids uses the
post-processor (add_special_tokens=True) and plain does not."""
import base64
import json
import os
import random
import sys

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_build  # noqa: E402

WORDS_EN = ("the quick brown fox jumps over a lazy dog while tokenizers count every byte of "
            "text and models learn to answer questions about data training loss epochs "
            "don't can't we'll they're I've she'd it's HELLO World CamelCase snake_case "
            "URL https://example.com/path?q=1&x=2 email someone@example.org").split()
ZH_HANS = ["你好", "世界", "我是一个人工智能助手", "今天天气很好", "机器学习", "自然语言处理",
           "请问", "谢谢你的帮助", "中文分词", "数据集", "训练", "模型"]
ZH_HANT = ["您好", "這是繁體中文", "機器學習", "資料集", "請問你是誰", "謝謝", "臺灣", "語言模型"]
JA = ["こんにちは", "日本語のテキスト", "カタカナ", "ひらがな", "東京都", "ありがとうございます"]
KO = ["안녕하세요", "한국어", "감사합니다", "인공지능", "데이터"]
AR = ["مرحبا", "بالعالم", "اللغة العربية", "شكرا جزيلا"]
EMOJI = ["🙂", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👩🏿‍💻", "🧑‍🚀", "❤️", "🇨🇳", "🇺🇸", "✋🏻", "😀😃😄"]
COMBINING = ["e\u0301", "n\u0303", "a\u030a\u0323", "Z\u0351\u036b\u0343\u036a\u0302",
             "\u1100\u1161\u11a8", "Å", "ﬁ", "①②③", "ｆｕｌｌｗｉｄｔｈ", "Ⅻ", "㎏", "ℌ"]
CODE = ["def f(x):\n    return x * 2\n", "int main(void) { return 0; }",
        "for (i = 0; i < n; i++) {\n\tsum += a[i];\n}", "SELECT * FROM t WHERE id=42;",
        "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "<div class=\"x\">hi</div>",
        "x = y ** 2 // 3 % 4", "#!/bin/bash\necho $HOME", "λx.x", "a->b::c<d>"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r\n\r\n", " \n ", "\u3000",
          "\u00a0", "\u2009", "\u200b", "\n\n\n\n\n", "    \n    "]


def special_strings(specials):
    return specials + ["<s>", "</s>", "<unk>", "<pad>", "<|endoftext|>", "<|im_start|>",
                       "<|im_end|>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>",
                       "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<table>",
                       "[multimodal]", "<0x41>"]


def number(rng):
    return str(rng.randint(0, 10 ** rng.randint(0, 30)))


def random_codepoints(rng, n):
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x6ff),
              (0x900, 0x97f), (0xe00, 0xe7f), (0x1100, 0x11ff), (0x3040, 0x30ff),
              (0x4e00, 0x9fff), (0xac00, 0xd7a3), (0x1f300, 0x1faff), (0x10000, 0x1007f)]
    out = []
    for _ in range(n):
        lo, hi = rng.choice(blocks)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def piece(rng, specials):
    kind = rng.randrange(12)
    if kind == 0:
        return " ".join(rng.choice(WORDS_EN) for _ in range(rng.randint(1, 12)))
    if kind == 1:
        return "".join(rng.choice(ZH_HANS) for _ in range(rng.randint(1, 5)))
    if kind == 2:
        return "".join(rng.choice(ZH_HANT + JA + KO) for _ in range(rng.randint(1, 4)))
    if kind == 3:
        return " ".join(rng.choice(AR) for _ in range(rng.randint(1, 3)))
    if kind == 4:
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    if kind == 5:
        return "".join(rng.choice(COMBINING) for _ in range(rng.randint(1, 3)))
    if kind == 6:
        return rng.choice(CODE)
    if kind == 7:
        return number(rng)
    if kind == 8:
        return rng.choice(SPACES)
    if kind == 9:
        return rng.choice(special_strings(specials))
    if kind == 10:
        return random_codepoints(rng, rng.randint(1, 20))
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 40)))


def corpus(specials):
    rng = random.Random(20261129)
    strings = ["", " ", "a", "Hello world", "Who are you?", "你好，世界", "1234567890",
               "a" * 3000, "supercalifragilisticexpialidocious" * 20, "ab" * 700,
               "\n" * 40, " " * 60, "\t \t \r\n", "9" * 100, "".join(EMOJI) * 3,
               "".join(special_strings(specials)), "x" + "".join(special_strings(specials)) + "y"]
    strings += [str(10 ** k) for k in range(40)] + [str(rng.getrandbits(64)) for _ in range(30)]
    strings += WORDS_EN + ZH_HANS + ZH_HANT + JA + KO + AR + EMOJI + COMBINING + CODE + SPACES
    while len(strings) < 5200:
        parts = [piece(rng, specials) for _ in range(rng.randint(1, 6))]
        joiner = rng.choice(["", " ", "\n", "  ", " \n"])
        strings.append(joiner.join(parts))
    return strings


def invalid_utf8():
    samples = [b"\xff", b"abc\x80def", b"\xc3", b"\xe4\xbd", b"\xed\xa0\x80", b"\xf8\x88\x80\x80",
               "你好".encode()[:4], b"ok\xc0\xaf", b"\xf4\x90\x80\x80", b"\x00\xfe"]
    return [base64.b64encode(s).decode() for s in samples]


def variants(out):
    """Tokenizers made from the real ones with other components swapped in."""
    gemma = Tokenizer.from_file(os.path.join(out, "gemma3", "tokenizer.json"))
    # Llama 2 / Mistral style: Prepend + Replace normalizer, Strip in the decoder.
    llama2 = Tokenizer.from_str(gemma.to_str())
    llama2.normalizer = normalizers.Sequence(
        [normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    llama2.pre_tokenizer = None
    llama2.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(),
                                        decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    # Metaspace pre-tokenizer and decoder (prepend_scheme first), with NFKC.
    meta = Tokenizer.from_str(gemma.to_str())
    meta.normalizer = normalizers.NFKC()
    meta.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    meta.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first")
    smol = Tokenizer.from_file(os.path.join(out, "smollm2", "tokenizer.json"))
    # Byte-level with Digits, Lowercase + NFC + Strip, add_prefix_space and no regex.
    digits = Tokenizer.from_str(smol.to_str())
    digits.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Lowercase(), normalizers.Strip()])
    digits.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True),
         pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)])
    contiguous = Tokenizer.from_str(smol.to_str())
    contiguous.normalizer = normalizers.NFKD()
    contiguous.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=False),
         pre_tokenizers.Split(" ", behavior="contiguous"),
         pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    for name, tok in [("llama2_style", llama2), ("metaspace_nfkc", meta),
                      ("bytelevel_digits_lower", digits), ("bytelevel_contiguous_nfkd", contiguous)]:
        os.makedirs(os.path.join(out, name), exist_ok=True)
        tok.save(os.path.join(out, name, "tokenizer.json"))
        yield name


def write(models, out):
    tokenizer_build.main(models, out)
    names = ["smollm2", "gemma3", "llama3", "qwen"] + list(variants(out))
    specials = []
    for name in ["smollm2", "gemma3", "llama3", "qwen"]:
        tok = Tokenizer.from_file(os.path.join(out, name, "tokenizer.json"))
        specials += [t.content for t in tok.get_added_tokens_decoder().values()][:8]
    strings = corpus(specials)
    with open(os.path.join(out, "corpus.json"), "w") as f:
        json.dump(strings, f, ensure_ascii=False)
    with open(os.path.join(out, "invalid.json"), "w") as f:
        json.dump(invalid_utf8(), f)
    for name in names:
        tok = Tokenizer.from_file(os.path.join(out, name, "tokenizer.json"))
        with_special = [e.ids for e in tok.encode_batch(strings, add_special_tokens=True)]
        plain = [e.ids for e in tok.encode_batch(strings, add_special_tokens=False)]
        expected = {
            "ids": with_special,
            "plain": plain,
            "decoded": tok.decode_batch(plain, skip_special_tokens=False),
            "decoded_skip": tok.decode_batch(plain, skip_special_tokens=True),
        }
        with open(os.path.join(out, name, "expected.json"), "w") as f:
            json.dump(expected, f, ensure_ascii=False)
    with open(os.path.join(out, "names.json"), "w") as f:
        json.dump(names, f)


if __name__ == "__main__":
    write(sys.argv[2], sys.argv[3])
