"""Joint CTC/attention decoding (docencoder.model.joint_decode): the CTC prefix probabilities
against brute force over all paths, and the batched, cached beam search against a plain
one-hypothesis-at-a-time search that recomputes the decoder from scratch."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from docencoder.model.decoder import fuse_projections
from docencoder.model.joint_decode import CTC_FLOOR, CtcPrefixScores, JointConfig, joint_beam_search, pad_ctc_frames


def _collapse(path, blank):
    out, prev = [], None
    for s in path:
        if s != prev and s != blank:
            out.append(s)
        prev = s
    return tuple(out)


def _brute(logp, blank):
    """label sequence -> probability, summed over all V^T paths of `(T, V)` log-probs."""
    T, V = logp.shape
    p = logp.double().exp()
    mass: dict[tuple, float] = {}
    for path in itertools.product(range(V), repeat=T):
        pr = math.prod(float(p[t, s]) for t, s in enumerate(path))
        key = _collapse(path, blank)
        mass[key] = mass.get(key, 0.0) + pr
    return mass


def test_prefix_scores_equal_brute_force_over_all_paths():
    torch.manual_seed(0)
    T, V, blank, eos = 5, 4, 0, 3
    logp = torch.log_softmax(torch.randn(T, V) * 1.5, dim=-1)
    mass = _brute(logp, blank)
    # two hypotheses side by side (one piece, beam 2), grown token by token, repeats included
    scorer = CtcPrefixScores(logp.unsqueeze(0), blank, eos, beam=2)
    r_n, r_b, last = scorer.initial()
    grown = [[1, 1, 2], [2, 1, 1]]
    for step in range(3):
        psi = scorer.scores(r_n, r_b, last)  # (2, V)
        for row, seq in enumerate(grown):
            g = tuple(seq[:step])
            for c in (1, 2):
                want = sum(m for lab, m in mass.items() if lab[:len(g) + 1] == g + (c,))
                assert math.isclose(math.exp(psi[row, c]), want, rel_tol=1e-6, abs_tol=1e-12), (g, c)
            full = mass.get(g, 0.0)  # eos: the probability of exactly g
            assert math.isclose(math.exp(psi[row, eos]), full, rel_tol=1e-6, abs_tol=1e-12), g
        tok = torch.tensor([seq[step] for seq in grown])
        r_n, r_b, last = scorer.extend(r_n, r_b, last, tok)


def test_padded_columns_change_no_probability():
    torch.manual_seed(1)
    short = torch.log_softmax(torch.randn(3, 4), dim=-1)
    long = torch.log_softmax(torch.randn(5, 4), dim=-1)
    x = pad_ctc_frames([short, long], blank=0)  # (2, 5, 4)
    assert x.shape == (2, 5, 4)
    mass = _brute(short, 0)
    s = CtcPrefixScores(x[:1], 0, 3, beam=1)
    r_n, r_b, last = s.initial()
    r_n, r_b, last = s.extend(r_n, r_b, last, torch.tensor([2]))
    psi = s.scores(r_n, r_b, last)
    assert math.isclose(math.exp(psi[0, 3]), mass.get((2,), 0.0), rel_tol=1e-6)
    assert math.isclose(math.exp(psi[0, 1]), sum(m for lab, m in mass.items() if lab[:2] == (2, 1)),
                        rel_tol=1e-6)


# ------------------------------------------------------------------------------ the search
def _reference(lm, embeds, logp, cap, cfg: JointConfig, eos, pad, banned):
    """One piece, one hypothesis at a time, the decoder recomputed from scratch every step."""
    lam, K = cfg.ctc_weight, cfg.beam
    scorer = CtcPrefixScores(logp.unsqueeze(0), pad, eos, beam=1)
    emb = lm.model.embed_tokens
    hyps = [([], 0.0, 0.0, scorer.initial())]
    best, best_tokens = -math.inf, []
    for t in range(cap + 1):
        cands = []
        for toks, dec, score, st in hyps:
            if t >= cap:  # at the cap a hypothesis ends on its own score
                if score > best:
                    best, best_tokens = score, toks
                continue
            x = torch.cat([embeds, emb(torch.tensor(toks, dtype=torch.long)).to(embeds.dtype)]).unsqueeze(0)
            logits = lm(inputs_embeds=x).logits[0, -1].float()
            lp = torch.log_softmax(logits, -1).double()
            psi = scorer.scores(*st)[0].clamp(min=CTC_FLOOR)
            joint = (1 - lam) * (dec + lp) + lam * psi
            joint[list(banned)] = -math.inf
            if float(joint[eos]) > best:
                best, best_tokens = float(joint[eos]), toks
            joint[eos] = -math.inf
            for c in joint.topk(K).indices.tolist():
                cands.append((float(joint[c]), toks, dec + float(lp[c]), st, c))
        if t >= cap:
            return best_tokens
        cands.sort(key=lambda c: -c[0])
        cands = cands[:K]
        if best >= cands[0][0]:
            return best_tokens
        hyps = [(toks + [c], dec, s, scorer.extend(*st, torch.tensor([c])))
                for s, toks, dec, st, c in cands]
    return best_tokens


@pytest.mark.parametrize("beam,lam", [(1, 0.0), (3, 0.3), (2, 0.8)])
def test_batched_search_equals_the_plain_search_piece_by_piece(tiny_line_model, beam, lam):
    """Pieces of different prefix lengths (left padding), column counts and caps in one batch."""
    model = tiny_line_model.double().eval()
    assert fuse_projections(model.decoder)
    lm = model.decoder
    torch.manual_seed(3 + beam)
    tok = model.cfg.tokens
    V, E = model.cfg.vocab_size, model.cfg.decoder.hidden_size
    banned = sorted({tok.pad_id, tok.image_id, *tok.prompt_ids} - {tok.eos_id})
    lengths, cols, caps = [9, 6, 9, 4], [12, 7, 16, 5], [6, 3, 8, 5]
    prefixes = [3 * torch.randn(n, E, dtype=torch.float64) for n in lengths]
    # CTC columns that favour a few tokens, eos among the decoder's likely choices
    ctc = [torch.log_softmax(4 * torch.randn(T, V, dtype=torch.float64), -1) for T in cols]
    with torch.no_grad():  # a decoder with opinions (logits well apart), eos among them
        lm.model.embed_tokens.weight.mul_(20)
    P = max(lengths)
    embeds = torch.stack([torch.nn.functional.pad(p, (0, 0, P - len(p), 0)) for p in prefixes])
    pad = torch.tensor([P - n for n in lengths])
    cfg = JointConfig(ctc_weight=lam, beam=beam)
    together = joint_beam_search(lm, embeds, pad_ctc_frames(ctc, tok.pad_id), caps, tok.eos_id,
                                 tok.pad_id, banned, cfg, left_pad=pad)
    with torch.no_grad():
        alone = [_reference(lm, prefixes[i], ctc[i], caps[i], cfg, tok.eos_id, tok.pad_id, banned)
                 for i in range(len(lengths))]
    assert together == alone
    assert len({len(t) for t in together}) > 1 and any(together)  # a real search, not all empty
    assert all(len(t) <= c for t, c in zip(together, caps))


def test_a_confident_ctc_reading_overrides_the_decoder(tiny_line_model):
    model = tiny_line_model.eval()
    assert fuse_projections(model.decoder)
    tok = model.cfg.tokens
    V, E = model.cfg.vocab_size, model.cfg.decoder.hidden_size
    spelled = [0, 40, 0, 41, 41, 0, 41, 0, 42, 0]  # columns: blank, 40, 41 twice, 41, 42
    logp = torch.full((len(spelled), V), -20.0)
    for t, s in enumerate(spelled):
        logp[t, s] = 0.0
    logp = torch.log_softmax(logp, -1)
    torch.manual_seed(5)
    embeds = torch.randn(1, 8, E)
    banned = sorted({tok.pad_id, tok.image_id, *tok.prompt_ids} - {tok.eos_id})
    out = joint_beam_search(model.decoder, embeds, logp.unsqueeze(0), [12], tok.eos_id, tok.pad_id,
                            banned, JointConfig(ctc_weight=0.9, beam=4))
    assert out == [[40, 41, 41, 42]]


def test_encode_lines_gives_encode_images_prefix_and_ctc_columns(tiny_line_model):
    from docencoder.model.docencoder import DocEncoder

    model = tiny_line_model.eval()
    with pytest.raises(ValueError, match="no CTC head"):
        model.encode_lines(torch.zeros(1, 3, 32, 64))
    model.add_ctc_head()
    assert model.cfg.ctc_head
    x = torch.randn(2, 3, 32, 96)
    vision, logp = model.encode_lines(x)
    assert torch.equal(vision, model.encode_image(x))
    assert logp.shape == (96 // model.cfg.sam.patch_size, 2, model.cfg.vocab_size)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(12, 2), atol=1e-5)
    assert DocEncoder(model.cfg).ctc_head is not None  # the config now builds one


def test_the_line_reader_decodes_jointly_with_a_ctc_head_in_float_and_int8(tmp_path, tokenizer):
    import shutil

    from PIL import Image, ImageDraw

    from docencoder.data.tokenizer import DEFAULT_TOKENIZER
    from docencoder.model import DocEncoder, get_config, save_pretrained
    from docencoder.ocr.reader import DecodingConfig, Reader

    torch.manual_seed(0)
    cfg = get_config("line-tiny", vocab_size=tokenizer.vocab_size, tokens=tokenizer.token_config(),
                     ctc_head=True)
    d = save_pretrained(DocEncoder(cfg), tmp_path / "m")
    shutil.copy(DEFAULT_TOKENIZER, d / "tokenizer.json")
    page = Image.new("L", (900, 200), 255)
    draw = ImageDraw.Draw(page)
    for y in (30, 80, 130):
        draw.text((40, y), "Joint decoding reads what it sees 12345", fill=0)
    calls = []
    for quantize in ("none", "int8"):
        r = Reader(d, quantize=quantize)
        assert r.model.ctc_head is not None and r.impl.joint_config() is not None
        orig = r.model.read_joint
        r.model.read_joint = lambda *a, **k: calls.append(1) or orig(*a, **k)
        text = r.read_image(page)
        assert isinstance(text, str)
        greedy = Reader(d, quantize=quantize, generation=DecodingConfig(ctc_weight=0.0))
        assert greedy.impl.joint_config() is None
        assert isinstance(greedy.read_image(page), str)
    assert len(calls) == 2


def test_decoding_modes_resolve_by_the_models_ctc_head(tmp_path, tokenizer):
    import shutil

    from docencoder.data.tokenizer import DEFAULT_TOKENIZER
    from docencoder.model import DocEncoder, get_config, save_pretrained
    from docencoder.ocr.base_reader import resolve_decoding
    from docencoder.ocr.reader import Reader

    assert resolve_decoding("auto", True) == "joint" and resolve_decoding("auto", False) == "greedy"
    with pytest.raises(ValueError, match="no"):
        resolve_decoding("joint", False)
    with pytest.raises(ValueError, match="decoding must be"):
        resolve_decoding("beam", True)
    dirs = {}
    for head in (True, False):
        cfg = get_config("line-tiny", vocab_size=tokenizer.vocab_size,
                         tokens=tokenizer.token_config(), ctc_head=head)
        dirs[head] = save_pretrained(DocEncoder(cfg), tmp_path / f"m{head}")
        shutil.copy(DEFAULT_TOKENIZER, dirs[head] / "tokenizer.json")
    assert Reader(dirs[True]).decoding == "joint"
    greedy = Reader(dirs[True], decoding="greedy")
    assert greedy.decoding == "greedy" and greedy.impl.joint_config() is None
    assert Reader(dirs[False]).decoding == "greedy"
    with pytest.raises(ValueError, match="CTC head"):
        Reader(dirs[False], decoding="joint")
