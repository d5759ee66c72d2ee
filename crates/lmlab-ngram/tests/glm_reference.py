"""An independent brute-force GLM, written straight from the definition (Pickhardt et al. 2014 as
lmlab_ngram::glm documents it) with dictionaries and recursion, for tests/glm.rs to compare with.

Usage: glm_reference.py CORPUS ORDER DISCOUNTS QUERIES
  CORPUS: one sequence per line (words split on whitespace; each read as <s> words </s>).
  DISCOUNTS: one line per skip pattern, masks ascending: "name D1 D2 D3+".
  QUERIES: one per line: the history words (the last ORDER-1 words before the predicted one, <s>
  included when the sequence starts within them), then the predicted word.
Prints P(word | history) for each query, one per line (repr, full precision).
The vocabulary size is the corpus's distinct words plus <unk>, <s>, </s> (as lmlab's words tokenizer).
"""
import sys
from collections import defaultdict


def main(corpus, order, discounts_path, queries_path):
    seqs = [["<s>"] + line.split() + ["</s>"] for line in open(corpus).read().splitlines()]
    vocab = {w for s in seqs for w in s} | {"<unk>"}
    top = (1 << (order - 1)) - 1
    discounts = [[float(x) for x in line.split()[1:]] for line in open(discounts_path)]
    # counts[mask][(kept history words, word)]: raw counts at the top pattern and for occurrences
    # starting with <s>, otherwise the number of distinct words right before the pattern.
    counts = []
    for mask in range(top + 1):
        span = mask.bit_length()
        raw, left, starts = defaultdict(int), defaultdict(set), set()
        for s in seqs:
            for t in range(1, len(s)):
                if t < span:
                    continue
                key = (tuple(s[t - 1 - b] for b in reversed(range(span)) if mask >> b & 1), s[t])
                raw[key] += 1
                first = t - span
                if mask == top or first == 0:
                    starts.add(key)
                else:
                    left[key].add(s[first - 1])
        counts.append({k: raw[k] if k in starts else len(left[k]) for k in raw})

    def prob(mask, history, word):
        bits = [b for b in range(mask.bit_length()) if mask >> b & 1]
        kept = tuple(history[len(history) - 1 - b] for b in reversed(bits))
        if mask == 0:
            lower = 0.0 if word == "<s>" else 1.0 / (len(vocab) - 1)
        else:
            lower = sum(prob(mask & ~(1 << b), history, word) for b in bits) / len(bits)
        row = {w: c for (h, w), c in counts[mask].items() if h == kept}
        if not row:
            return lower
        d = discounts[mask]
        discount = lambda c: 0.0 if c == 0 else d[min(c, 3) - 1]
        total = sum(row.values())
        gamma = sum(discount(c) for c in row.values()) / total
        c = row.get(word, 0)
        return max(c - discount(c), 0.0) / total + gamma * lower

    for line in open(queries_path):
        words = line.split()
        history, word = words[:-1], words[-1]
        print(repr(prob((1 << len(history)) - 1, history, word)))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
