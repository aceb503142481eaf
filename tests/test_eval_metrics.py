"""Properties of the evaluation metrics against hand-computed values."""

from __future__ import annotations

import pytest

from docencoder.eval.metrics import normalize, score_page, score_pages, summarize


def test_identical_texts_score_perfectly():
    text = "The quick brown fox\njumps over the lazy dog."
    s = score_page(text, text)
    assert (s.ned, s.cer, s.wer) == (0.0, 0.0, 0.0)
    assert s.bow_f1 == 1.0 and s.bow_precision == 1.0 and s.bow_recall == 1.0


def test_both_empty_is_perfect_and_empty_prediction_is_worst():
    assert score_page("", "").ned == 0.0 and score_page("", "").bow_f1 == 1.0
    s = score_page("", "abc def")
    assert s.ned == 1.0 and s.cer == 1.0 and s.wer == 1.0 and s.bow_f1 == 0.0


def test_known_small_example():
    # "kitten" -> "sitting": 3 edits (k->s, e->i, +g); max length 7, reference length 7
    s = score_page("kitten", "sitting")
    assert s.edit_distance == 3
    assert s.ned == pytest.approx(3 / 7)
    assert s.cer == pytest.approx(3 / 7)
    # words: ref "a b c d", pred "a x c" -> 1 substitution + 1 deletion = 2 of 4 words
    s = score_page("a x c", "a b c d")
    assert s.word_errors == 2 and s.wer == pytest.approx(0.5)
    # bag of words: hits {a, c} = 2; precision 2/3, recall 2/4, F1 = 2PR/(P+R) = 4/7
    assert s.bow_precision == pytest.approx(2 / 3)
    assert s.bow_recall == pytest.approx(0.5)
    assert s.bow_f1 == pytest.approx(4 / 7)


def test_cer_can_exceed_one_but_ned_cannot():
    s = score_page("a much longer hallucinated output", "ab")
    assert s.cer > 1.0
    assert 0.0 <= s.ned <= 1.0


def test_normalisation_of_quotes_dashes_nfkc_and_whitespace():
    assert normalize("\u201cquoted\u201d \u2018single\u2019") == "\"quoted\" 'single'"
    assert normalize("a\u2013b \u2014 c\u2212d") == "a-b - c-d"
    assert normalize("\ufb01nd the \ufb02ow") == "find the flow"  # ligatures (NFKC)
    assert normalize("  many\t\tspaces\n\nand\r\nlines ") == "many spaces and lines"
    assert normalize("soft\u00adhyphen") == "softhyphen"
    s = score_page("\u201cEfficient\u201d \ufb01lters \u2014 fast", '"Efficient" filters - fast')
    assert s.edit_distance == 0


def test_bag_of_words_ignores_line_order_but_edit_distance_does_not():
    ref = "first column line one\nfirst column line two\nsecond column text here"
    shuffled = "second column text here\nfirst column line one\nfirst column line two"
    s = score_page(shuffled, ref)
    assert s.bow_f1 == 1.0
    assert s.ned > 0.2  # reading order differs, so the ordered scores see errors


def test_bag_of_words_counts_repeats():
    s = score_page("the the the", "the cat")
    assert s.bow_hits == 1
    assert s.bow_precision == pytest.approx(1 / 3) and s.bow_recall == pytest.approx(0.5)


def test_summary_pools_counts_and_averages_ned():
    a, b = score_page("abcd", "abcd"), score_page("", "xy")
    summary = summarize([a, b])
    assert summary["pages"] == 2
    assert summary["ned"] == pytest.approx(0.5)  # mean of 0 and 1
    assert summary["cer"] == pytest.approx(2 / 6)  # 2 errors over 6 reference characters


def test_score_pages_marks_missing_and_extra():
    scores, summary = score_pages({"a": "x y", "zzz": "extra"}, {"a": "x y", "b": "hello"})
    assert [s.key for s in scores] == ["a", "b"]
    assert scores[1].missing and scores[1].ned == 1.0
    assert summary["missing"] == 1 and summary["extra"] == 1
    with pytest.raises(KeyError):
        score_pages({}, {"a": "text"}, missing_ok=False)
