"""Packing: a sample's loss packed with others equals its loss alone."""

from __future__ import annotations

import pytest
import torch

from docencoder.data.collate import Sample, pad_collate
from docencoder.data.packing import pack_collate, pack_rows
from docencoder.model import DocEncoder, get_config


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = get_config("line-tiny")
    m = DocEncoder(cfg).eval()
    return m


def _samples(cfg, lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    tok = cfg.tokens
    special = set(tok.non_target_ids) | {tok.eos_id}
    vocab = [i for i in range(cfg.vocab_size) if i not in special]
    out = []
    for k, n in enumerate(lengths):
        image = torch.rand((3, cfg.geometry.height, cfg.geometry.width), generator=g) * 2 - 1
        ids = [vocab[int(j)] for j in torch.randint(len(vocab), (n,), generator=g)]
        out.append(Sample(image=image, text=f"sample {k}", ids=ids))
    return out


def _args(cfg):
    return dict(prefix_len=cfg.prefix_length(), prompt_ids=[cfg.tokens.prompt_ids[0]],
                tokens=cfg.tokens, max_text_tokens=64)


def test_pack_rows_first_fit_in_order():
    assert pack_rows([5, 4, 3, 2, 6], 9) == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError):
        pack_rows([10], 9)


def test_packed_loss_equals_alone(model):
    cfg = model.cfg
    args = _args(cfg)
    samples = _samples(cfg, [7, 12, 3, 20, 9])
    seq = cfg.prefix_length() + 1 + 20 + 1
    batch = pack_collate(samples, max_seq_len=2 * seq + 10, **args)
    assert batch.input_ids.shape[0] < len(samples)  # something was packed
    assert batch.segment_ids.max() >= 2
    with torch.no_grad():
        packed_total = model(**batch.model_inputs())
        alone = {}
        for s in samples:
            b = pad_collate([s], **args)
            out = model(**b.model_inputs())
            alone[s.text] = (out.loss_sum.item(), out.n_targets.item())
        # whole batch: sums of the parts
        assert packed_total.n_targets.item() == sum(n for _, n in alone.values())
        assert packed_total.loss_sum.item() == pytest.approx(sum(v for v, _ in alone.values()),
                                                             abs=1e-4)
        # each sample on its own: mask every other segment out through labels
        k = 0
        for r in range(batch.input_ids.shape[0]):
            for seg in range(1, int(batch.segment_ids[r].max()) + 1):
                text = batch.texts[k]
                labels = batch.input_ids.clone()
                labels[batch.segment_ids != seg] = -100
                labels[:r] = -100
                labels[r + 1:] = -100
                out = model(**batch.model_inputs(), labels=labels)
                want_sum, want_n = alone[text]
                assert out.n_targets.item() == want_n
                assert out.loss.item() == pytest.approx(want_sum / want_n, abs=1e-5)
                k += 1
    assert k == len(samples)


def test_images_follow_slot_order_and_truncation(model):
    cfg = model.cfg
    args = _args(cfg)
    samples = _samples(cfg, [30, 2, 2], seed=1)
    seq_small = cfg.prefix_length() + 1 + 2 + 1
    batch = pack_collate(samples, max_seq_len=cfg.prefix_length() + 1 + 30 + 1, **args)
    # first-fit: the long sample fills row 0, both short ones share row 1
    assert batch.texts == ["sample 0", "sample 1", "sample 2"]
    assert torch.equal(batch.pixel_values[1], samples[1].image)
    assert batch.segment_ids[1, :2 * seq_small].tolist() == [1] * seq_small + [2] * seq_small
    # a text longer than a row is cut so the sample still fits (eos kept)
    short = pack_collate(samples[:1], max_seq_len=cfg.prefix_length() + 1 + 10 + 1, **args)
    assert short.input_ids.shape == (1, cfg.prefix_length() + 12)
    assert short.input_ids[0, -1].item() == cfg.tokens.eos_id
