"""Tokenizers from Python: every kind learned, saved, loaded, and encoded alone or in a batch."""

import pytest

import lmlab

TEXT = "the cat sat on the mat\nthe dog ran under the rug\nnaïve café ünïcode\n" * 20
KINDS = ["bytes", "chars", "words", "bpe", "scaffold-bpe"]


@pytest.mark.parametrize("kind", KINDS)
def test_train_save_load_round_trip(kind, tmp_path):
    vocab_size = 300 if "bpe" in kind else None
    tokenizer = lmlab.Tokenizer.train(kind, [TEXT], vocab_size=vocab_size)
    assert tokenizer.kind == kind
    path = tmp_path / "tok.json"
    tokenizer.save(path)
    back = lmlab.Tokenizer.load(path)
    assert back.to_json() == tokenizer.to_json()
    line = "the cat ran under the mat"
    ids = tokenizer.encode(line)
    assert back.encode(line) == ids
    assert tokenizer.decode(ids) == line
    assert len(tokenizer) == tokenizer.vocab_size == len(tokenizer.vocab)
    assert tokenizer.id_to_token(ids[0]) == tokenizer.vocab[ids[0]]
    assert tokenizer.token_to_id(tokenizer.vocab[ids[0]]) == ids[0]


@pytest.mark.parametrize("kind", KINDS)
def test_encode_batch_equals_encode(kind):
    tokenizer = lmlab.Tokenizer.train(kind, TEXT, vocab_size=300 if "bpe" in kind else None)
    texts = TEXT.splitlines() * 50
    assert tokenizer.encode_batch(texts) == [tokenizer.encode(t) for t in texts]
    # Over a megabyte in all: encoded on a worker thread that Ctrl-C can leave.
    many = TEXT.splitlines() * (2_000_000 // len(TEXT) + 1)
    assert sum(map(len, many)) > 1 << 20
    assert tokenizer.encode_batch(many) == [tokenizer.encode(t) for t in many]


def test_bpe_learns_the_vocabulary_size_asked():
    tokenizer = lmlab.Tokenizer.train("bpe", TEXT, vocab_size=280)
    # 256 bytes + merges, then the specials.
    assert tokenizer.vocab_size > 256
    assert tokenizer.vocab_size <= 280 + 8


def test_stats_equal_lmlab_tokenizer_stats(tmp_path, cli_json):
    tokenizer = lmlab.Tokenizer.train("bpe", TEXT, vocab_size=300)
    tok_path = tmp_path / "tok.json"
    tokenizer.save(tok_path)
    text_path = tmp_path / "text.txt"
    text_path.write_text(TEXT, encoding="utf-8")
    ours = tokenizer.stats(TEXT)
    theirs = cli_json("tokenizer", "stats", tok_path, "--input", text_path, "--json")
    assert ours == theirs


def test_model_tokenizer_is_the_trained_one(runs):
    model = lmlab.load(runs["ngram-bpe"][1])
    assert model.tokenizer.kind == "bpe"
    assert model.tokenizer.encode("the cat") == model.tokenizer.encode("the cat")


def test_unknown_kind_is_a_value_error():
    with pytest.raises(ValueError, match="unknown tokenizer kind 'sentencepiece'") as caught:
        lmlab.Tokenizer.train("sentencepiece", TEXT)
    assert isinstance(caught.value, lmlab.Error)


def test_decode_rejects_ids_outside_the_vocabulary():
    tokenizer = lmlab.Tokenizer.train("bytes", TEXT)
    with pytest.raises(lmlab.InvalidInput, match="outside the vocabulary"):
        tokenizer.decode([tokenizer.vocab_size + 5])
