"""The unpredictable-text sampler: split discipline and line lengths."""

import random

import pytest

from docencoder.data.vocab import RandomText, held_out, load_words


@pytest.fixture()
def wordlist(tmp_path):
    words = [f"w{i}ord" for i in range(2000)] + ["Zürich", "O'Neill", "bad word", "x\ty", "Smith"]
    p = tmp_path / "words"
    p.write_text("\n".join(words) + "\n", encoding="utf-8")
    return str(p)


def test_splits_are_disjoint_and_complete(wordlist):
    train, probe = load_words("train", wordlist), load_words("probe", wordlist)
    assert set(train).isdisjoint(probe)
    assert all(held_out(w) for w in probe) and not any(held_out(w) for w in train)
    # entries with spaces or tabs are dropped, accents and apostrophes kept
    assert "bad word" not in train + probe and "Zürich" in train + probe and "O'Neill" in train + probe
    assert len(train) + len(probe) == 2003
    assert 0.02 < len(probe) / 2003 < 0.12  # about one in 16


def test_random_lines_fit_and_use_training_words_only(wordlist):
    words = load_words("train", wordlist)
    gen = RandomText(words)
    rng = random.Random(3)
    probe = set(load_words("probe", wordlist))
    for _ in range(300):
        n = rng.randint(1, 60)
        line = gen.line(rng, n)
        assert 0 < len(line) <= n
        assert line == " ".join(line.split())
        assert not any(tok in probe for tok in line.split())


def test_random_lines_are_reproducible(wordlist):
    gen = RandomText(load_words("train", wordlist))
    a = [gen.line(random.Random(7), 50) for _ in range(3)]
    b = [gen.line(random.Random(7), 50) for _ in range(3)]
    assert a == b


def test_missing_wordlist_says_what_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="wamerican-insane"):
        load_words("train", str(tmp_path / "nope"))


def test_missing_shards_name_the_command(tmp_path):
    from docencoder.data.real_lines import ShardLineSource

    with pytest.raises(FileNotFoundError, match="make data.*shard_dirs null"):
        ShardLineSource([str(tmp_path / "real_v2")])
