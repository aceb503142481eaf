"""CTC-guided decoding of the line model (issue 15): does the training-only CTC head read better
than the decoder, and does joint CTC/attention decoding fix the decoder's guessed rare words?

The decoder of the line model guesses rare words from its language prior (``docencoder bench
probe``: CER 0.010 / 0.058 / 0.228 on common prose / rare words / random letters, Tesseract
0.000 / 0.000 / 0.027). Training carries an auxiliary CTC head on the SAM map
(:mod:`docencoder.training.ctc`: a linear layer per 8-px patch column over the BPE vocabulary,
blank = pad), which has no language model at all. This script takes the model and the head from a
training checkpoint and reads, on the same normalised pieces the reader decodes
(``Reader.page_pieces`` -> ``split_line``; each piece encoded at the reader's crop width):

- ``greedy``: the reader's own path (``Reader.read_pieces``: greedy, repetition guard, caps);
- ``ctc greedy``: argmax per column, repeats collapsed, blanks dropped;
- ``beam K``: beam search over the decoder alone (the n-best list the rescoring starts from);
- ``joint lam``: one-pass joint CTC/attention beam search (Watanabe et al., 2017, "Hybrid
  CTC/Attention Architecture for End-to-End Speech Recognition"): a hypothesis scores
  ``(1 - lam) log p_dec(h) + lam log p_ctc(h...)``, the CTC *prefix* probability of h computed by
  the forward recursion over the columns -- the shipped search
  (:func:`docencoder.model.joint_decode.joint_beam_search`), run on each piece alone;
- ``rescore lam``: the decoder's K-best rescored with the full CTC likelihood (``F.ctc_loss``).

Sets: the probe's three (common / rare / random, 10 pt Termes at 150 DPI) and held-out real lines
(the datamodule's ``val`` documents of the real shards, never trained on). CER is the probe's
(normalised text, edit distance pooled over the set). Cost is seconds per line on this CPU
(one thread), encoding included.

A CTC reading needs at least as many columns as tokens (plus one per repeated token): a piece
encoded at width w has w / 8 columns (64 for a full 512-px piece, which holds ~80 characters,
~32 BPE tokens). A hypothesis the columns cannot emit has CTC probability 0; its CTC term is
floored at ``CTC_FLOOR`` so the decoder still ranks such hypotheses, and the table counts the
pieces whose reference does not fit.

Usage::

    python scripts/ctc_decoding.py --ckpt /tmp/last.ckpt --lines 40 --real 200
"""

from __future__ import annotations

import argparse
import copy
import math
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docencoder.data.lines import to_tensor  # noqa: E402
from docencoder.data.tokenizer import DEFAULT_TOKENIZER, SPECIAL_TOKENS, load_tokenizer  # noqa: E402
from docencoder.eval.probe import ProbeConfig, _cer, probe_lines, render_line  # noqa: E402
from docencoder.model import DocEncoder  # noqa: E402
from docencoder.model.config import get_config  # noqa: E402
from docencoder.model.ctc import CtcHead  # noqa: E402
from docencoder.model.decoder import PreallocatedKV, _fused_layer, fuse_projections  # noqa: E402
from docencoder.model.joint_decode import CTC_FLOOR, JointConfig, joint_beam_search  # noqa: E402
from docencoder.model.weights import load_config, save_pretrained  # noqa: E402
from docencoder.ocr.reader import MAX_CHARS_PER_LINE, Reader, crop_width, piece_ink_end  # noqa: E402

REAL_SHARDS = ("data/shards/real_v2", "data/shards/latex")


# ------------------------------------------------------------------------------------ checkpoint
def split_state(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """A LightningModule state dict -> (``DocEncoder`` state, ``CtcHead`` state), by module prefix."""
    parts: dict[str, dict[str, torch.Tensor]] = {"model": {}, "ctc_head": {}}
    for key, value in state.items():
        owner, _, name = key.partition(".")
        if owner in parts:
            parts[owner][name] = value
    return parts["model"], parts["ctc_head"]


def load_checkpoint(path: Path) -> tuple[DocEncoder, CtcHead, int, Path]:
    """Model, CTC head, global step and tokenizer path of a training checkpoint (a copy of it)."""
    state = torch.load(str(path), map_location="cpu", weights_only=False)
    hp = state["hyper_parameters"]
    tok_path = Path(hp.get("tokenizer_path") or DEFAULT_TOKENIZER)
    tokenizer = load_tokenizer(tok_path)
    init = hp.get("init_from")
    if init and not hp.get("init_parts") and (ROOT / init / "config.json").is_file():
        cfg = load_config(ROOT / init)  # a warm start takes its config from the parent's dir
    else:
        cfg = get_config(hp["config"], vocab_size=tokenizer.vocab_size, tokens=tokenizer.token_config())
    model_sd, head_sd = split_state(state["state_dict"])
    model = DocEncoder(cfg)
    if head_sd:  # before leg 7 the head was trained beside the model (LightningModule.ctc_head)
        head = CtcHead(cfg.geometry.height // cfg.sam.patch_size, cfg.sam.neck_dim, cfg.vocab_size)
        head.load_state_dict(head_sd, strict=True)
    elif any(k.startswith("ctc_head.") for k in model_sd):  # since leg 7: part of the model
        head = model.add_ctc_head()
    else:
        raise ValueError(f"{path} has no ctc_head.* weights (trained with ctc_weight 0?)")
    model.load_state_dict(model_sd, strict=True)
    return model.eval(), head.eval(), int(state["global_step"]), tok_path


# ------------------------------------------------------------------------------------ CTC
def ctc_greedy(logp: torch.Tensor, blank: int) -> list[int]:
    """Best path of `(T, V)` CTC log-probabilities: argmax per column, repeats merged, blanks dropped."""
    best = logp.argmax(-1).tolist()
    out, prev = [], blank
    for b in best:
        if b != prev and b != blank:
            out.append(b)
        prev = b
    return out


def ctc_log_likelihood(logp: torch.Tensor, hyps: Sequence[Sequence[int]], blank: int) -> torch.Tensor:
    """`(N,)` log P(hyp | x) of each hypothesis under `(T, V)` CTC log-probs (``F.ctc_loss``);
    ``CTC_FLOOR`` where the columns cannot emit it."""
    if not hyps:
        return torch.empty(0)
    T = logp.shape[0]
    N = len(hyps)
    lengths = torch.tensor([len(h) for h in hyps], dtype=torch.long)
    targets = torch.tensor([t for h in hyps for t in h] or [blank], dtype=torch.long)
    nll = F.ctc_loss(logp.unsqueeze(1).expand(T, N, -1), targets[:max(1, int(lengths.sum()))],
                     torch.full((N,), T, dtype=torch.long), lengths, blank=blank, reduction="none",
                     zero_infinity=False)  # (N,)
    ll = -nll
    return torch.where(torch.isfinite(ll), ll, torch.full_like(ll, CTC_FLOOR))


# ------------------------------------------------------------------------------------ beam search
@dataclass
class Hyp:
    tokens: list[int]
    dec: float  # sum of the decoder's log-probabilities (eos included)
    score: float  # the search's joint score


def _layers(model: DocEncoder, hidden: torch.Tensor, rope, cache: PreallocatedKV) -> torch.Tensor:
    for layer in model.decoder.model.layers:
        hidden = _fused_layer(layer, hidden, rope, cache, None)  # (k, q, E)
    return hidden


@torch.inference_mode()
def beam_search(model: DocEncoder, vision: torch.Tensor, prompt_ids: Sequence[int], beam: int,
                max_new: int) -> list[Hyp]:
    """Beam search over the decoder alone for one piece: the n-best list that rescoring starts
    from (the shipped joint search, :func:`~docencoder.model.joint_decode.joint_beam_search`,
    keeps only each piece's best).

    Args:
        vision: `(1, P, E)` the piece's vision prefix (``encode_image``).

    Returns:
        Finished hypotheses (the live ones when none finished within ``max_new``), best first.
    """
    lm = model.decoder
    inner = lm.model
    cfg = lm.config
    eos = model.cfg.tokens.eos_id
    prompt = torch.as_tensor(list(prompt_ids), dtype=torch.long)
    embeds = torch.cat([vision, inner.embed_tokens(prompt).unsqueeze(0)], dim=1)  # (1, P, E)
    P = embeds.shape[1]
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    cache = PreallocatedKV(len(inner.layers), 1, cfg.num_key_value_heads, head_dim, P + max_new, embeds)
    hidden = _layers(model, embeds, inner.rotary_emb(embeds, torch.arange(P).unsqueeze(0)), cache)
    live_tokens: list[list[int]] = [[]]
    live_dec = torch.zeros(1, dtype=torch.float64)
    finished: list[Hyp] = []
    for t in range(max_new):
        logp = F.log_softmax(lm.lm_head(inner.norm(hidden[:, -1])).double(), dim=-1)  # (k, V)
        dec = live_dec.unsqueeze(1) + logp  # (k, V)
        k, V = dec.shape
        top = dec.flatten().topk(min(2 * beam, k * V))
        keep_b, keep_c, keep_s = [], [], []
        for s, flat in zip(top.values.tolist(), top.indices.tolist()):
            b, c = divmod(flat, V)
            if c == eos:
                finished.append(Hyp(live_tokens[b], float(dec[b, c]), s))
            elif len(keep_b) < beam:
                keep_b.append(b), keep_c.append(c), keep_s.append(s)
        finished.sort(key=lambda h: -h.score)
        done = len(finished) >= beam or not keep_b or (finished and finished[0].score >= keep_s[0])
        if done or t == max_new - 1:
            if not finished:
                finished = [Hyp(live_tokens[b] + [c], float(dec[b, c]), s)
                            for b, c, s in zip(keep_b, keep_c, keep_s)]
            return finished[:beam]
        bi, ci = torch.tensor(keep_b), torch.tensor(keep_c)
        live_tokens = [live_tokens[b] + [c] for b, c in zip(keep_b, keep_c)]
        live_dec = dec[bi, ci]
        cache.keep(bi)
        pos = torch.full((1, 1), P + t, dtype=torch.long)
        h = inner.embed_tokens(ci).unsqueeze(1)  # (k', 1, E)
        hidden = _layers(model, h, inner.rotary_emb(h, pos), cache)
    return finished[:beam]


# ------------------------------------------------------------------------------------ reading
@dataclass
class Piece:
    """One encoded piece: its vision prefix, CTC log-probs and the reader's caps."""

    vision: torch.Tensor  # (1, P, E)
    logp: torch.Tensor  # (T, V)
    cap: int  # token cap
    chars: int  # character cap


@dataclass
class Systems:
    """Per system: the texts read so far and the seconds spent."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, text: str, seconds: float) -> None:
        self.texts.setdefault(name, []).append(text)
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


class CtcReader:
    """The reader's model (and preprocessing) plus the CTC head, decoding each piece alone."""

    def __init__(self, reader: Reader, head: CtcHead, beam: int, lams: Sequence[float],
                 search: bool = True) -> None:
        self.r, self.head, self.beam, self.lams = reader, head, beam, tuple(lams)
        self.search = search  # False: greedy and CTC greedy only
        self.tok = reader.tokenizer
        tc = reader.cfg.tokens
        self.blank, self.eos = tc.pad_id, tc.eos_id
        self.banned = sorted(set(range(len(SPECIAL_TOKENS))) | {tc.image_id, *tc.prompt_ids})
        self._map: Optional[torch.Tensor] = None
        reader.model.sam.register_forward_hook(self._keep_map)
        self.unfit = 0  # pieces whose reference text does not fit the columns
        self.pieces = 0  # pieces whose reference text is known (one-piece lines)

    def _keep_map(self, module, inputs, output) -> None:
        self._map = output  # (1, C, rows, W/patch)

    @torch.inference_mode()
    def encode(self, piece: Image.Image) -> Optional[Piece]:
        end = piece_ink_end(piece)
        if not end:
            return None
        cfg, gen = self.r.cfg, self.r.gen
        g = cfg.geometry
        # the reader's width and caps (Reader.read_pieces), for this piece alone
        width = crop_width(end, cfg.width_unit, g.width) if g.dynamic_width else g.width
        crop = piece if piece.width == width else piece.crop((0, 0, width, piece.height))
        vision = self.r.model.encode_image(to_tensor([crop]))  # (1, P, E)
        logp = self.head(self._map)[:, 0]  # (T, V)
        filled = end / piece.width
        cap = math.ceil(math.ceil(max(filled, 0.05) * MAX_CHARS_PER_LINE) * gen.tokens_per_char) \
            + gen.token_margin
        chars = math.ceil(filled * MAX_CHARS_PER_LINE) + gen.token_margin
        return Piece(vision, logp, cap, chars)

    @torch.inference_mode()
    def joint(self, p: Piece, lam: float) -> list[int]:
        """The shipped joint CTC/attention search (:func:`joint_beam_search`) on this piece alone."""
        lm = self.r.model.decoder
        prompt = torch.as_tensor(list(self.r.prompt_ids), dtype=torch.long)
        embeds = torch.cat([p.vision, lm.model.embed_tokens(prompt).unsqueeze(0)], dim=1)  # (1, P, E)
        return joint_beam_search(lm, embeds, p.logp.unsqueeze(0), [p.cap], self.eos, self.blank,
                                 self.banned, JointConfig(ctc_weight=lam, beam=self.beam))[0]

    def text(self, ids: Sequence[int], p: Piece) -> str:
        return " ".join(self.tok.decode(list(ids)[:p.cap]).split())[:p.chars]

    def read_line(self, pieces: list[Image.Image], ref_pieces: Optional[list[str]], out: Systems) -> None:
        """Read one line (its pieces) with every system; the line text is the pieces' joined."""
        t0 = time.perf_counter()
        greedy = self.r.read_pieces(pieces)
        out.add("greedy (reader)", " ".join(t for t in greedy if t), time.perf_counter() - t0)
        parts: dict[str, list[str]] = {}
        secs: dict[str, float] = {}

        def put(name: str, text: str, s: float) -> None:
            parts.setdefault(name, []).append(text)
            secs[name] = secs.get(name, 0.0) + s

        for k, piece in enumerate(pieces):
            t0 = time.perf_counter()
            p = self.encode(piece)
            t_enc = time.perf_counter() - t0
            if p is None:
                continue
            if ref_pieces is not None:  # a line of one piece, or a real piece: its text is known
                self.pieces += 1
                ref = self.tok.encode(ref_pieces[k])
                need = len(ref) + sum(a == b for a, b in zip(ref, ref[1:]))
                self.unfit += need > p.logp.shape[0]
            t0 = time.perf_counter()
            put("ctc greedy", self.text(ctc_greedy(p.logp, self.blank), p), t_enc + time.perf_counter() - t0)
            if not self.search:
                continue
            t0 = time.perf_counter()
            nbest = beam_search(self.r.model, p.vision, self.r.prompt_ids, self.beam, p.cap)
            t_beam = time.perf_counter() - t0
            put(f"beam {self.beam}", self.text(nbest[0].tokens, p), t_enc + t_beam)
            t0 = time.perf_counter()
            ll = ctc_log_likelihood(p.logp, [h.tokens for h in nbest], self.blank).tolist()
            t_ll = time.perf_counter() - t0
            for lam in self.lams:
                best = max(zip(nbest, ll), key=lambda hl: (1 - lam) * hl[0].dec + lam * hl[1])[0]
                put(f"rescore {lam:g}", self.text(best.tokens, p), t_enc + t_beam + t_ll)
            for lam in self.lams:
                t0 = time.perf_counter()
                ids = self.joint(p, lam)
                put(f"joint {lam:g}", self.text(ids, p), t_enc + time.perf_counter() - t0)
        for name in secs:
            out.add(name, " ".join(t for t in parts[name] if t), secs[name])


def fit_head(reader: Reader, head: CtcHead, data_hp: dict, steps: int, batch: int, lr: float,
             seed: int) -> CtcHead:
    """A copy of ``head`` trained further on the *frozen* SAM map of the training mix.

    Why: every training leg warm-starts from an exported model, which has no CTC head, so the
    checkpoint's head is only as old as its leg. A linear head on frozen features is a convex fit
    that converges in minutes; it shows how well the SAM map can be read by CTC at all.
    """
    from docencoder.data.datamodule import LineDataModule
    from docencoder.training.ctc import ctc_loss

    hp = {k: v for k, v in data_hp.items() if not k.startswith("_")}
    hp["shard_dirs"] = [str(ROOT / d) for d in hp.get("shard_dirs") or []]
    source, _ = LineDataModule(**hp)._make_sources()
    tok, cfg = reader.tokenizer, reader.cfg
    head = copy.deepcopy(head).train()
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    rng = random.Random(seed + 7)
    t0, ema = time.perf_counter(), None
    for step in range(steps):
        images, targets, lengths = [], [], []
        while len(images) < batch:
            image, text = source(rng, cfg.geometry.width)
            ids = tok.encode(text)
            if 0 < len(ids) <= cfg.geometry.width // cfg.sam.patch_size // 2:
                images.append(image), targets.extend(ids), lengths.append(len(ids))
        with torch.no_grad():
            feats = reader.model.sam(to_tensor(images))  # (B, C, rows, W/patch)
        loss = ctc_loss(head(feats), torch.tensor(targets), torch.tensor(lengths), blank=cfg.tokens.pad_id)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if (step + 1) % 50 == 0:
            print(f"  fit head: step {step + 1}, ctc loss {ema:.3f}, {time.perf_counter() - t0:.0f} s",
                  flush=True)
    return head.eval()


def probe_set(cfg: ProbeConfig) -> dict[str, list[tuple[Image.Image, str]]]:
    return {name: [(render_line(t, cfg), t) for t in texts] for name, texts in probe_lines(cfg).items()}


def real_set(n: int, seed: int, val_fraction: float, degrade: float) -> list[tuple[Image.Image, str]]:
    from docencoder.data.real_lines import ShardLineSource

    src = ShardLineSource([ROOT / d for d in REAL_SHARDS], split="val", val_fraction=val_fraction,
                          degrade_prob=degrade)
    rng = random.Random(seed)
    return [src.sample(rng) for _ in range(n)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", type=Path, required=True, help="a copy of a training last.ckpt")
    ap.add_argument("--lines", type=int, default=40, help="lines per probe set")
    ap.add_argument("--real", type=int, default=200, help="held-out real lines (0 = none)")
    ap.add_argument("--beam", type=int, default=8)
    ap.add_argument("--lams", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    ap.add_argument("--real-val-fraction", type=float, default=0.03,
                    help="the training recipe's real_val_fraction (configs/line_cpu.yaml)")
    ap.add_argument("--real-degrade", type=float, default=0.35,
                    help="share of real lines degraded, as the datamodule's val_real (0.35)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fit-head", type=int, default=0, metavar="STEPS",
                    help="first train the checkpoint's head further for STEPS batches on the frozen "
                    "SAM map of the training mix (see fit_head); 0 = use the head as it is")
    ap.add_argument("--fit-lr", type=float, default=3e-3)
    ap.add_argument("--fit-batch", type=int, default=32)
    ap.add_argument("--no-search", action="store_true",
                    help="greedy and CTC greedy only (no beam search, joint decoding or rescoring)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    model, head, step, tok_path = load_checkpoint(args.ckpt)
    with tempfile.TemporaryDirectory() as d:
        save_pretrained(model, d)
        shutil.copyfile(tok_path, Path(d) / "tokenizer.json")
        reader = Reader(d, device="cpu", quantize="none")
    if not fuse_projections(reader.model.decoder):
        raise SystemExit("the beam search needs a Llama-shaped decoder (fused projections)")
    if args.fit_head:
        dhp = torch.load(str(args.ckpt), map_location="cpu", weights_only=False)["datamodule_hyper_parameters"]
        head = fit_head(reader, head, dhp, args.fit_head, args.fit_batch, args.fit_lr, args.seed)
    cr = CtcReader(reader, head, args.beam, args.lams, search=not args.no_search)
    print(f"checkpoint {args.ckpt}: step {step}; head fitted {args.fit_head} steps; beam {args.beam}; lambdas {args.lams}", flush=True)

    sets = probe_set(ProbeConfig(lines=args.lines, seed=args.seed))
    if args.real:
        sets["real val"] = real_set(args.real, args.seed, args.real_val_fraction, args.real_degrade)
    results: dict[str, Systems] = {}
    unfit: dict[str, tuple[int, int]] = {}
    examples: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for name, items in sets.items():
        t0 = time.perf_counter()
        out = Systems()
        cr.unfit = cr.pieces = 0
        for image, text in items:
            if name == "real val":  # already a normalised piece with its own text
                pieces, ref_pieces = [image], [text]
            else:
                pieces, ref_pieces = reader.page_pieces(image).flat, None
                if len(pieces) == 1:
                    ref_pieces = [text]
            cr.read_line(pieces, ref_pieces, out)
        results[name] = out
        unfit[name] = (cr.unfit, cr.pieces)
        refs = [t for _, t in items]
        examples[name] = [(refs[i], {s: out.texts[s][i] for s in out.texts})
                          for i in range(len(refs)) if out.texts["greedy (reader)"][i] != refs[i]][:3]
        print(f"  {name}: {len(items)} lines, {time.perf_counter() - t0:.0f} s", flush=True)

    systems = list(next(iter(results.values())).texts)
    names = list(sets)
    print(f"\nCER (probe's normalisation, pooled per set); seconds per line, 1 thread; step {step}\n")
    print("| system | " + " | ".join(f"CER {n}" for n in names) + " | s/line |")
    print("|---|" + "--:|" * (len(names) + 1))
    for s in systems:
        cers = [_cer(results[n].texts[s], [t for _, t in sets[n]]) for n in names]
        n_lines = sum(len(sets[n]) for n in names)
        sec = sum(results[n].seconds[s] for n in names) / n_lines
        print(f"| {s} | " + " | ".join(f"{c:.3f}" for c in cers) + f" | {sec:.3f} |")
    print("\none-piece lines whose reference needs more CTC columns than the piece has: "
          + ", ".join(f"{n} {u}/{p}" for n, (u, p) in unfit.items()))
    for n in names:
        for ref, got in examples[n][:2]:
            print(f"\n[{n}] ref:    {ref!r}")
            for s in ("greedy (reader)", "ctc greedy", f"joint {args.lams[len(args.lams) // 2]:g}"):
                if s in got:
                    print(f"  {s:>16}: {got[s]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
