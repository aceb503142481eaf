"""The DocEncoder model: geometry arithmetic, gradients, attention locality, loss masking,
generation, long sequences, bad input, save/load and pretrained key maps."""

from __future__ import annotations

import pytest
import torch
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

from docencoder.model import DocEncoder, config_names, get_config, load_pretrained, save_pretrained
from docencoder.model.config import COMPRESSOR_STRIDE
from docencoder.model.decoder import WindowedNoRepeatNGram, greedy_decode
from docencoder.model.docencoder import packed_attention
from docencoder.model.sam import Block, window_partition, window_unpartition
from docencoder.model.weights import load_part_weights

CPU_CONFIGS = [n for n in config_names() if n != "deepseek-scale"]
EXPECTED_TOKENS = {"line": 16, "line-v1": 16, "line-tiny": 16, "tiny": 64, "small": 100, "base": 256, "large": 400,
                   "gundam": 256, "deepseek-scale": 256}


def sequence(cfg, n_text: int, B: int = 1, prompt: int = 5, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    P = cfg.prefix_length()
    text = torch.randint(20, cfg.vocab_size, (B, n_text), generator=g)
    return torch.cat([torch.full((B, P), cfg.tokens.image_id), torch.full((B, 1), prompt), text,
                      torch.full((B, 1), cfg.tokens.eos_id)], dim=1)  # (B, P + 1 + n + 1)


def pixels(cfg, B: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, 3, cfg.geometry.height, cfg.geometry.width, generator=g) * 2 - 1


@pytest.mark.parametrize("name", config_names())
def test_token_count_per_geometry(name):
    cfg = get_config(name)
    assert cfg.view_tokens == EXPECTED_TOKENS[name]
    assert cfg.view_tokens == (cfg.geometry.height // (cfg.sam.patch_size * COMPRESSOR_STRIDE)) * (
        cfg.geometry.width // (cfg.sam.patch_size * COMPRESSOR_STRIDE))
    if name == "gundam":
        assert cfg.vision_tokens(n_tiles=4) == 4 * 100 + 256


#: the reading path of every registered config: line models read one text line at a time
EXPECTED_KINDS = {"line": "line", "line-v1": "line", "line-tiny": "line", "tiny": "page",
                  "small": "page", "base": "page", "large": "page", "gundam": "page",
                  "deepseek-scale": "page"}


def test_every_config_has_its_geometry_kind():
    assert set(EXPECTED_KINDS) == set(config_names())  # a new config says which path it takes
    for name in config_names():
        g = get_config(name).geometry
        assert g.kind == EXPECTED_KINDS[name], name
        assert not (g.kind == "line" and g.tile_size), name


@pytest.mark.parametrize("name", config_names())
def test_geometry_kind_round_trips_through_config_json(name, tmp_path):
    import json

    from docencoder.model.weights import load_config, save_config

    cfg = get_config(name)
    save_config(cfg, tmp_path)  # what save_pretrained writes beside the weights
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["geometry"]["kind"] == EXPECTED_KINDS[name]
    assert load_config(tmp_path) == cfg


@pytest.mark.parametrize("name", config_names())
def test_config_json_without_kind_gets_it_from_the_name(name, tmp_path):
    """config.json written before ``geometry.kind`` (the shipped model, older exports): the kind
    follows the old rule, a name starting with ``line``; the rest of the config is unchanged."""
    import json

    from docencoder.model.weights import load_config

    d = get_config(name).to_dict()
    del d["geometry"]["kind"]
    (tmp_path / "config.json").write_text(json.dumps(d))
    assert load_config(tmp_path) == get_config(name)


def test_shipped_config_is_a_line_geometry():
    import json

    from docencoder.model.weights import load_config
    from docencoder.ocr.model_dir import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.skip("no shipped model in this checkout")
    # exported since the kind exists (step 34,433 on): it is written; older exports get it from
    # the name (test_config_json_without_kind_gets_it_from_the_name)
    assert json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())["geometry"]["kind"] == "line"
    assert load_config(DEFAULT_MODEL_DIR).geometry.kind == "line"


def test_geometry_kind_is_checked_and_kept_by_overrides():
    with pytest.raises(ValueError, match="geometry.kind='column'"):
        get_config("tiny", geometry={"kind": "column", "height": 512, "width": 512})
    with pytest.raises(ValueError, match="no tiles"):
        get_config("line", geometry={"kind": "line", "height": 32, "width": 512, "tile_size": 64})
    # a geometry override that names no kind keeps the config's
    assert get_config("line-tiny", geometry={"height": 32, "width": 512}).geometry.kind == "line"
    assert get_config("tiny", geometry={"height": 640, "width": 640},
                      expected_tokens=100).geometry.kind == "page"
    assert get_config("tiny", geometry={"kind": "line", "height": 64, "width": 512},
                      expected_tokens=None).geometry.kind == "line"


def test_geometry_mismatch_is_refused():
    with pytest.raises(ValueError, match="expected 64"):
        get_config("tiny", expected_tokens=64, geometry={"height": 640, "width": 640})


@pytest.mark.parametrize("name", CPU_CONFIGS)
def test_forward_backward_every_config(name):
    torch.manual_seed(0)
    cfg = get_config(name)
    model = DocEncoder(cfg)
    tiles, grid = None, None
    if cfg.geometry.tile_size:
        t = cfg.geometry.tile_size
        tiles, grid = torch.rand(1, 2, 3, t, t) * 2 - 1, (1, 2)
    vision = model.encode_image(pixels(cfg), tiles, grid)
    assert vision.shape[1] == cfg.prefix_length(grid or (0, 0))
    P = cfg.prefix_length(grid or (0, 0))
    ids = torch.cat([torch.full((1, P), cfg.tokens.image_id), torch.tensor([[5, 30, 31, 32, 2]])], 1)
    out = model(pixels(cfg), ids, tiles=tiles, tile_grid=grid)
    assert torch.isfinite(out.loss) and out.n_targets.item() == 4
    out.loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and
               (p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0)]
    assert not missing, f"parameters without gradient: {missing[:10]}"


def test_deepseek_scale_construction_and_size():
    with torch.device("meta"):
        model = DocEncoder(get_config("deepseek-scale"))
    def count(m):
        return sum(p.numel() for p in m.parameters())
    assert 85e6 < count(model.sam) < 95e6  # SAM-B image encoder: ~90M
    assert 280e6 < count(model.clip) < 320e6  # CLIP-L transformer without patch embed: ~300M


def test_window_partition_roundtrip_rectangular():
    x = torch.randn(2, 5, 13, 8)
    w, padded = window_partition(x, (2, 4))
    assert w.shape == (2 * 3 * 4, 2, 4, 8)
    assert torch.equal(window_unpartition(w, (2, 4), padded, (5, 13)), x)


def test_window_covering_grid_equals_global_attention():
    torch.manual_seed(0)
    local = Block(32, 2, 4.0, window=(4, 8), use_rel_pos=False, rel_pos_size=(4, 8))
    glob = Block(32, 2, 4.0, window=None, use_rel_pos=False, rel_pos_size=(4, 8))
    glob.load_state_dict(local.state_dict())
    x = torch.randn(2, 4, 8, 32)
    torch.testing.assert_close(local(x), glob(x))


def test_windows_do_not_leak():
    torch.manual_seed(0)
    blk = Block(32, 2, 4.0, window=(2, 4), use_rel_pos=True, rel_pos_size=(4, 8)).eval()
    x = torch.randn(1, 4, 8, 32)
    y = x.clone()
    y[:, :2, :4] += torch.randn(1, 2, 4, 32)  # change only the top-left window
    a, b = blk(x), blk(y)
    assert not torch.allclose(a[:, :2, :4], b[:, :2, :4])
    torch.testing.assert_close(a[:, 2:], b[:, 2:])
    torch.testing.assert_close(a[:, :2, 4:], b[:, :2, 4:])


def test_loss_ignores_vision_prompt_and_padding_labels(tiny_line_model):
    model = tiny_line_model
    cfg = model.cfg
    ids = sequence(cfg, 6, B=2)
    ids[1, -3:] = cfg.tokens.pad_id  # sample 1 is shorter: padded
    ids[1, -4] = cfg.tokens.eos_id
    mask = (ids != cfg.tokens.pad_id).long()
    labels = ids.clone()
    base = model(pixels(cfg, 2), ids, mask, labels=labels).loss
    changed = labels.clone()
    non_target = torch.isin(ids, torch.tensor(cfg.tokens.non_target_ids))
    changed[non_target] = torch.randint(20, 100, (int(non_target.sum()),))
    torch.testing.assert_close(model(pixels(cfg, 2), ids, mask, labels=changed).loss, base)
    text_pos = (~non_target).nonzero()[0]
    changed[text_pos[0], text_pos[1]] = (changed[text_pos[0], text_pos[1]] + 1) % cfg.vocab_size
    assert model(pixels(cfg, 2), ids, mask, labels=changed).loss != base


def test_packed_equals_alone(tiny_line_model):
    model = tiny_line_model.eval()
    cfg = model.cfg
    a, b = sequence(cfg, 5, seed=1), sequence(cfg, 9, seed=2)
    pa, pb = pixels(cfg, seed=1), pixels(cfg, seed=2)
    alone = model(pa, a)
    packed_ids = torch.cat([a, b, torch.zeros(1, 3, dtype=torch.long)], 1)
    seg = torch.cat([torch.full_like(a, 1), torch.full_like(b, 2), torch.zeros(1, 3, dtype=torch.long)], 1)
    packed = model(torch.cat([pa, pb]), packed_ids, segment_ids=seg)
    both = model(pb, b)
    torch.testing.assert_close(packed.loss_sum, alone.loss_sum + both.loss_sum, rtol=1e-4, atol=1e-4)
    mask, pos = packed_attention(seg)
    assert pos[0, a.shape[1]] == 0 and mask.shape == (1, 1, seg.shape[1], seg.shape[1])


def _peaky(model):
    """Scale the LM head so a random model's greedy choices are not near-ties."""
    with torch.no_grad():
        model.decoder.model.embed_tokens.weight.mul_(20)
    return model.eval()


def test_generation_cache_and_batch_consistency(tiny_line_model):
    model = _peaky(tiny_line_model)
    x = pixels(model.cfg, 3, seed=4)
    cached = model.generate(x, [5], max_new_tokens=12)
    uncached = model.generate(x, [5], max_new_tokens=12, use_cache=False)
    assert torch.equal(cached, uncached)
    for i in range(3):
        single = model.generate(x[i:i + 1], [5], max_new_tokens=12)
        n = single.shape[1]
        assert torch.equal(single[0], cached[i, :n])


def test_repetition_guard_blocks_loops(tiny_line_model):
    model = _peaky(tiny_line_model)
    x = pixels(model.cfg, 2, seed=5)
    out = model.generate(x, [5], max_new_tokens=40, no_repeat_ngram=3, repeat_window=40)
    for row in out.tolist():
        grams = [tuple(row[i:i + 3]) for i in range(len(row) - 2) if model.cfg.tokens.pad_id not in row[i:i + 3]]
        assert len(grams) == len(set(grams))


def test_training_step_on_4096_tokens(tokenizer):
    torch.manual_seed(0)
    cfg = get_config("line-tiny", vocab_size=tokenizer.vocab_size, tokens=tokenizer.token_config())
    model = DocEncoder(cfg)
    ids = sequence(cfg, 4096 - cfg.prefix_length() - 2)
    assert ids.shape[1] == 4096
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    out = model(pixels(cfg), ids)
    out.loss.backward()
    opt.step()
    assert torch.isfinite(out.loss)


@pytest.mark.parametrize("bad, match", [
    (lambda c: torch.rand(1, 1, 32, 512), r"\(B>=1, 3, 32, W<=512"),
    (lambda c: torch.rand(1, 3, 32, 100), r"W<=512, a multiple of 32"),
    (lambda c: torch.rand(1, 3, 32, 544), r"W<=512, a multiple of 32"),
    (lambda c: torch.rand(1, 3, 16, 256), r"\(B>=1, 3, 32, W<=512"),
    (lambda c: torch.rand(0, 3, 32, 512), "empty batch"),
    (lambda c: torch.rand(3, 32, 512), "4-D tensor"),
])
def test_bad_input_names_expected_shape(tiny_line_model, bad, match):
    with pytest.raises(ValueError, match=match):
        tiny_line_model.encode_image(bad(tiny_line_model.cfg))


def test_fixed_width_model_refuses_narrow_input():
    model = DocEncoder(get_config("line-v1"))
    with pytest.raises(ValueError, match=r"\(B>=1, 3, 32, 512\)"):
        model.encode_image(torch.rand(1, 3, 32, 256))


@pytest.mark.parametrize("width", [32, 64, 160, 480, 512])
def test_dynamic_width_prefix_training_and_generation(tiny_line_model, width):
    model = tiny_line_model
    cfg = model.cfg
    x = torch.rand(2, 3, 32, width) * 2 - 1
    vision = model.encode_image(x)
    assert vision.shape[1] == cfg.prefix_length(width=width) == width // 32 + 2  # tokens + newline + sep
    P = cfg.prefix_length(width=width)
    ids = torch.cat([torch.full((2, P), cfg.tokens.image_id), torch.tensor([[5, 30, 31, 2]] * 2)], 1)
    out = model(x, ids)
    assert torch.isfinite(out.loss) and out.n_targets.item() == 6
    assert model.generate(x, [5], max_new_tokens=3).shape[0] == 2


def test_narrow_input_sees_the_left_part_of_the_position_tables():
    from docencoder.model.clip import resize_clip_pos
    from docencoder.model.sam import resize_pos_embed_2d

    pos = torch.randn(1, 4, 64, 8)
    assert torch.equal(resize_pos_embed_2d(pos, (4, 20), crop=True), pos[:, :, :20])
    assert not torch.equal(resize_pos_embed_2d(pos, (4, 20)), pos[:, :, :20])  # resized otherwise
    assert resize_pos_embed_2d(pos, (4, 80), crop=True).shape == (1, 4, 80, 8)  # larger: resized
    table = torch.randn(1 + 16, 8)
    assert torch.equal(resize_clip_pos(table, (1, 16), (1, 5), crop=True), table[:6])


def test_save_load_reproduces_outputs(tiny_line_model, tmp_path):
    model = tiny_line_model.eval()
    save_pretrained(model, tmp_path)
    again = load_pretrained(tmp_path)
    assert again.cfg == model.cfg and again.cfg.geometry.kind == "line"
    x, ids = pixels(model.cfg, 2), sequence(model.cfg, 7, B=2)
    assert torch.equal(model(x, ids).logits, again(x, ids).logits)
    assert torch.equal(model.generate(x, [5], max_new_tokens=8), again.generate(x, [5], max_new_tokens=8))


# ---------------------------------------------------------------- pretrained key maps
def test_timm_sam_mapping_is_exact(tmp_path):
    pytest.importorskip("timm")
    from safetensors.torch import save_file
    from timm.models.vision_transformer_sam import VisionTransformerSAM
    cfg = get_config("tiny")
    s = cfg.sam
    src = VisionTransformerSAM(img_size=512, patch_size=16, embed_dim=s.dim, depth=s.depth,
                               num_heads=s.heads, window_size=s.window[0],
                               global_attn_indexes=s.global_layers, neck_chans=s.neck_dim,
                               use_rel_pos=True, num_classes=0, global_pool="").eval()
    with torch.no_grad():
        for p in src.parameters():
            p.normal_(0, 0.02)
    save_file({k: v.contiguous() for k, v in src.state_dict().items()}, str(tmp_path / "sam.safetensors"))
    model = DocEncoder(cfg).eval()
    load_part_weights(model, "sam", tmp_path / "sam.safetensors")
    x = torch.rand(1, 3, 512, 512)
    torch.testing.assert_close(model.sam(x), src.forward_features(x), rtol=1e-4, atol=1e-4)


def test_open_clip_mapping_is_exact(tmp_path):
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
    from safetensors.torch import save_file
    cfg = get_config("tiny")
    c = cfg.clip
    src = CLIP(embed_dim=32, vision_cfg=CLIPVisionCfg(layers=c.layers, width=c.width, head_width=c.width // c.heads,
                                                      patch_size=14, image_size=14 * c.pos_grid[0]),
               text_cfg=CLIPTextCfg(context_length=8, vocab_size=50, width=32, heads=2, layers=1)).eval()
    save_file({k: v.contiguous() for k, v in src.state_dict().items()}, str(tmp_path / "clip.safetensors"))
    model = DocEncoder(cfg).eval()
    load_part_weights(model, "clip", tmp_path / "clip.safetensors")
    feats = torch.randn(2, c.width, *c.pos_grid)
    v = src.visual
    tokens = feats.flatten(2).transpose(1, 2)
    tokens = torch.cat([v.class_embedding.expand(2, 1, -1), tokens], 1) + v.positional_embedding
    expected = v.transformer(v.ln_pre(tokens))[:, 1:]
    torch.testing.assert_close(model.clip(feats), expected, rtol=1e-4, atol=1e-4)


def test_hf_decoder_mapping_is_exact(tmp_path, tokenizer):
    from docencoder.model.decoder import build_decoder
    cfg = get_config("line-tiny", vocab_size=tokenizer.vocab_size, tokens=tokenizer.token_config())
    torch.manual_seed(3)
    src = build_decoder(cfg.decoder, cfg.vocab_size, 0.02).eval()
    src.save_pretrained(tmp_path)
    model = DocEncoder(cfg).eval()
    load_part_weights(model, "decoder", tmp_path)
    ids = torch.randint(0, cfg.vocab_size, (1, 9))
    torch.testing.assert_close(model.decoder(ids).logits, src(ids).logits)


def test_mapping_reports_missing_keys(tmp_path, tiny_line_model):
    from safetensors.torch import save_file
    save_file({"blocks.0.norm1.weight": torch.ones(3)}, str(tmp_path / "bad.safetensors"))
    with pytest.raises(ValueError, match="missing keys"):
        load_part_weights(tiny_line_model, "sam", tmp_path / "bad.safetensors")


def test_half_precision_file_loads_as_float32(tiny_line_model, tmp_path):
    model = tiny_line_model.eval()
    save_pretrained(model, tmp_path, dtype=torch.float16)
    again = load_pretrained(tmp_path)
    w = again.decoder.model.embed_tokens.weight
    assert w.dtype == torch.float32
    assert torch.equal(w, model.decoder.model.embed_tokens.weight.half().float())
    assert again.decoder.lm_head.weight.data_ptr() == w.data_ptr()  # still tied


def test_generate_from_a_precomputed_prefix_equals_from_pixels(tiny_line_model):
    model = _peaky(tiny_line_model)
    x = torch.rand(4, 3, 32, 128) * 2 - 1
    vision = torch.cat([model.encode_image(x[:2]), model.encode_image(x[2:])])  # chunked encode
    assert torch.equal(model.generate(None, [5], max_new_tokens=8, vision=vision),
                       model.generate(x, [5], max_new_tokens=8))


class _EosAfterFirstToken(LogitsProcessor):
    """Ends each row after a row-specific number of tokens (1 + its first token mod 5)."""

    def __init__(self, eos_id: int) -> None:
        self.eos_id = eos_id

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] == 0:
            return scores
        stop = input_ids.shape[1] >= 1 + input_ids[:, 0] % 5  # (B,)
        scores[stop] = float("-inf")
        scores[stop, self.eos_id] = 0.0
        return scores


def test_lean_greedy_decoding_equals_transformers_generate(tiny_line_model):
    """Rows that end at different steps are dropped from the batch; the ids must not change."""
    model = _peaky(tiny_line_model)
    torch.manual_seed(7)  # random prefixes: a random model reads random images alike
    embeds = 3 * torch.randn(6, model.cfg.prefix_length() + 1, model.cfg.decoder.hidden_size)
    tok = model.cfg.tokens
    procs = LogitsProcessorList([_EosAfterFirstToken(tok.eos_id), WindowedNoRepeatNGram(2, 8)])
    lean = greedy_decode(model.decoder, embeds, 10, tok.eos_id, tok.pad_id, procs)
    ref = model.decoder.generate(
        inputs_embeds=embeds, attention_mask=torch.ones(embeds.shape[:2], dtype=torch.long),
        generation_config=GenerationConfig(max_new_tokens=10, do_sample=False, eos_token_id=tok.eos_id,
                                           pad_token_id=tok.pad_id, bos_token_id=None),
        logits_processor=procs)
    assert torch.equal(lean, ref)
    ends = [(row == tok.eos_id).nonzero()[0].item() for row in lean]
    assert len(set(ends)) > 1  # the rows really did finish at different steps


def test_left_padded_prefixes_decode_as_if_alone(tiny_line_model):
    """Prefixes of different lengths (images encoded at different widths) share one batch: each
    row, right-aligned after zero padding, reads what it reads alone."""
    model = _peaky(tiny_line_model)
    x = pixels(model.cfg, 3, seed=11)
    alone_prefixes = [model.encode_image(x[:1]), model.encode_image(x[1:2, ..., :128]),
                      model.encode_image(x[2:, ..., :32])]  # (1, P_i, E), three lengths
    P = max(v.shape[1] for v in alone_prefixes)
    assert len({v.shape[1] for v in alone_prefixes}) == 3
    vision = torch.cat([torch.nn.functional.pad(v, (0, 0, P - v.shape[1], 0))
                        for v in alone_prefixes])  # (3, P, E)
    pad = torch.tensor([P - v.shape[1] for v in alone_prefixes])
    together = model.generate(None, [5], max_new_tokens=10, vision=vision, vision_pad=pad)
    for i, v in enumerate(alone_prefixes):
        alone = model.generate(None, [5], max_new_tokens=10, vision=v)[0]
        assert torch.equal(together[i, :alone.shape[0]], alone), i
    # transformers' generate (the uncached path) honours the same padding through its mask
    uncached = model.generate(None, [5], max_new_tokens=10, vision=vision, vision_pad=pad,
                              use_cache=False)
    assert torch.equal(uncached[:, :together.shape[1]], together)


def test_fused_projections_give_the_same_ids_in_float_and_int8(tiny_line_model):
    import copy

    from docencoder.model.decoder import fuse_projections
    from docencoder.ocr.quantize import quantize_int8

    model = _peaky(tiny_line_model)
    x = pixels(model.cfg, 4, seed=12)
    plain = copy.deepcopy(model)
    assert fuse_projections(model.decoder)
    assert hasattr(model.decoder.model.layers[0], "qkv_proj")
    assert torch.equal(model.generate(x, [5], max_new_tokens=10),
                       plain.generate(x, [5], max_new_tokens=10))
    q_fused, q_plain = quantize_int8(copy.deepcopy(model)), quantize_int8(plain)
    # per-output-channel weights and one activation scale: the same integers, the same ids
    assert torch.equal(q_fused.generate(x, [5], max_new_tokens=10),
                       q_plain.generate(x, [5], max_new_tokens=10))


def test_lean_greedy_decoding_of_left_padded_rows_equals_each_row_alone(tiny_line_model):
    """Rows with padded prefixes that end at different steps (finished rows leave the batch).

    Not made peaky: masking errors (padding given attention weight) must be able to flip a choice.
    """
    model = tiny_line_model.eval()
    torch.manual_seed(8)
    P, E = model.cfg.prefix_length() + 1, model.cfg.decoder.hidden_size
    pads = [0, 3, 5, 1, 4, 0]
    embeds = 3 * torch.randn(len(pads), P, E)
    for i, n in enumerate(pads):
        embeds[i, :n] = 0
    tok = model.cfg.tokens
    procs = LogitsProcessorList([_EosAfterFirstToken(tok.eos_id)])
    together = greedy_decode(model.decoder, embeds, 10, tok.eos_id, tok.pad_id, procs,
                             left_pad=torch.tensor(pads))
    ends = [(row == tok.eos_id).nonzero()[0].item() for row in together]
    assert len(set(ends)) > 1  # rows finished at different steps
    for i, n in enumerate(pads):
        alone = greedy_decode(model.decoder, embeds[i:i + 1, n:], 10, tok.eos_id, tok.pad_id, procs)[0]
        assert torch.equal(together[i, :alone.shape[0]], alone), i
    # and the scores themselves (ids alone barely depend on attention in a random model)
    seen = _Scores()
    greedy_decode(model.decoder, embeds, 4, -1, tok.pad_id, LogitsProcessorList([seen]),
                  left_pad=torch.tensor(pads))
    for i, n in enumerate(pads):
        alone = _Scores()
        greedy_decode(model.decoder, embeds[i:i + 1, n:], 4, -1, tok.pad_id, LogitsProcessorList([alone]))
        for step, (a, b) in enumerate(zip(seen.steps, alone.steps)):
            assert torch.allclose(a[i], b[0], atol=1e-4), (i, step)


class _Scores(LogitsProcessor):
    """Records the scores of every step (no row ends: eos -1 is never chosen)."""

    def __init__(self) -> None:
        self.steps: list[torch.Tensor] = []

    def __call__(self, input_ids, scores):
        self.steps.append(scores.clone())
        return scores


def test_clip_self_attention_equals_multihead_attention():
    from docencoder.model.clip import SelfAttention

    torch.manual_seed(3)
    mha = torch.nn.MultiheadAttention(64, 4, batch_first=True).eval()
    with torch.no_grad():  # non-zero biases, so both projections' biases are checked
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    x = torch.randn(3, 11, 64)
    with torch.no_grad():
        ref = mha(x, x, x, need_weights=False)[0]
        out, weights = SelfAttention.from_mha(mha)(x, x, x, need_weights=False)
    assert weights is None and torch.allclose(out, ref, atol=1e-5)
    with pytest.raises(ValueError, match="itself"):
        SelfAttention.from_mha(mha)(x, x.clone(), x)
