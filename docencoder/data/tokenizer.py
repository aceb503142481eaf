"""The docencoder tokenizer: a small byte-fallback BPE (Hugging Face ``tokenizers``).

Why small: a compact decoder learns each token's look from pixels, so every vocabulary entry needs
many examples; a ~1k vocabulary keeps tokens frequent while still cutting decoding steps about 2.5x
against characters. Byte fallback (``<0xNN>`` tokens) means any Unicode character — math symbols,
accents — can still be written, so nothing on a page is unrepresentable.

Special tokens sit at fixed ids 0..len(SPECIAL_TOKENS)-1 and the model learns their ids from
:meth:`DocTokenizer.token_config`, never from constants in model code.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from docencoder.model.config import TokenConfig

PAD, BOS, EOS, UNK, IMAGE = "<pad>", "<s>", "</s>", "<unk>", "<image>"
#: task prompts (condition only, never targets) and grounding markup (targets when used)
PROMPTS = {"ocr": "<|ocr|>", "grounding": "<|grounding|>", "markdown": "<|md|>"}
GROUNDING = ("<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>")
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK, IMAGE, PROMPTS["ocr"], PROMPTS["grounding"], *GROUNDING,
                  PROMPTS["markdown"])

#: where the shipped tokenizer lives (beside the shipped default model)
DEFAULT_TOKENIZER = Path(__file__).resolve().parents[1] / "assets" / "default" / "tokenizer.json"


def normalize_text(text: str) -> str:
    """The label normalisation every target goes through: NFKC (ligatures -> letters), no controls."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch.isprintable() or ch == "\n")


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> Tokenizer:
    """Train the byte-fallback BPE on ``texts`` (see ``data/tokenizer/train.py``)."""
    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token=None, fuse_unk=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never")
    tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="never"),
                                     decoders.ByteFallback(), decoders.Fuse()])
    byte_tokens = [f"<0x{i:02X}>" for i in range(256)]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS) + byte_tokens,
        limit_alphabet=160, min_frequency=20, show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


class DocTokenizer:
    """Thin wrapper: encode/decode text, the task prompts and the model's :class:`TokenConfig`."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tk = tokenizer
        for i, t in enumerate(SPECIAL_TOKENS):
            if tokenizer.token_to_id(t) != i:
                raise ValueError(f"tokenizer has {t!r} at id {tokenizer.token_to_id(t)}, expected {i}")
        self._specials = set(range(len(SPECIAL_TOKENS)))
        self.pad_id, self.bos_id, self.eos_id = 0, 1, 2
        self.image_id = SPECIAL_TOKENS.index(IMAGE)

    @classmethod
    def from_file(cls, path: str | Path) -> "DocTokenizer":
        return cls(Tokenizer.from_file(str(path)))

    def save(self, path: str | Path) -> None:
        self.tk.save(str(path))

    @property
    def vocab_size(self) -> int:
        return self.tk.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """Text ids (no specials, no eos)."""
        return self.tk.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Sequence[int]) -> str:
        """Text up to the first eos, special tokens dropped."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if i not in self._specials:
                out.append(i)
        return self.tk.decode(out, skip_special_tokens=False)

    def prompt_ids(self, task: str = "ocr") -> list[int]:
        """Ids of a task prompt placed after the vision prefix."""
        if task not in PROMPTS:
            raise KeyError(f"unknown task {task!r}; one of {list(PROMPTS)}")
        return [self.tk.token_to_id(PROMPTS[task])]

    def token_config(self) -> TokenConfig:
        return TokenConfig(pad_id=self.pad_id, eos_id=self.eos_id, image_id=self.image_id,
                           prompt_ids=(self.bos_id, *(self.tk.token_to_id(p) for p in PROMPTS.values())))


def load_tokenizer(path: str | Path | None = None) -> DocTokenizer:
    """The shipped tokenizer, or one at ``path`` (a tokenizer.json or a model directory)."""
    p = Path(path) if path is not None else DEFAULT_TOKENIZER
    if p.is_dir():
        p = p / "tokenizer.json"
    if not p.is_file():
        raise FileNotFoundError(f"tokenizer {p} missing: run `python data/tokenizer/train.py`")
    return DocTokenizer.from_file(p)
