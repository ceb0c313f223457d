#!/usr/bin/env python3
"""make-corpus.py: write seqmatch's default corpus, short stories from a small
grammar (our own, so anyone may redistribute it), as documents separated by
blank lines: data/corpus.txt (training) and data/heldout.txt (held out).
Deterministic: the same files on every run. Standard library only.

    python3 data/make-corpus.py [N]
        (run from the top source directory) N training documents (default
        6000) and N/10 held-out ones from the recorded seed.
    python3 data/make-corpus.py --fresh N --seed S --out FILE [N_TRAIN]
        N fresh documents from seed S to FILE ("-": stdout), the same on every
        run; a story equal to a training document (regenerated in memory from
        the recorded seed, N_TRAIN of them) is skipped and another drawn.
        data/test.txt is --fresh 3000 --seed 2."""
import argparse
import random
import sys

SEED = 20261126

NAMES = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade",
         "Kai", "Lena", "Milo", "Nora", "Otto", "Pia"]
ANIMALS = ["cat", "dog", "fox", "owl", "hen", "goat", "mouse", "frog", "bear", "duck"]
ADJ = ["small", "old", "brave", "quiet", "happy", "sleepy", "clever", "red", "tall",
       "shy", "busy", "grey"]
PLACES = ["the garden", "the river", "the old mill", "the market", "the forest",
          "the hill", "the barn", "the lake", "the bridge", "the kitchen"]
THINGS = ["a red ball", "a long rope", "a basket of apples", "a little boat",
          "a blue kite", "a loaf of bread", "a lost key", "a map", "a lantern",
          "a warm coat"]
TIMES = ["In the morning", "At noon", "In the evening", "One day", "After the rain",
         "Before dinner", "On Sunday", "Later"]
FEEL = ["glad", "tired", "surprised", "hungry", "proud", "curious"]


def sentence(r, hero, pet):
    k = r.randrange(9)
    if k == 0:
        return f"{r.choice(TIMES)}, {hero} walked to {r.choice(PLACES)}."
    if k == 1:
        return f"The {r.choice(ADJ)} {pet} found {r.choice(THINGS)} near {r.choice(PLACES)}."
    if k == 2:
        return f"{hero} gave the {pet} {r.choice(THINGS)}."
    if k == 3:
        return f"\"Look,\" said {hero}, \"the {pet} is {r.choice(FEEL)}.\""
    if k == 4:
        return f"They sat by {r.choice(PLACES)} and ate {r.choice(['bread', 'apples', 'soup', 'cheese'])}."
    if k == 5:
        return f"{hero} and the {pet} were {r.choice(FEEL)}."
    if k == 6:
        n = r.randrange(2, 9)
        return f"{hero} counted {n} {r.choice(['stars', 'stones', 'birds', 'boats'])} and then {n + 1}."
    if k == 7:
        return f"The {pet} ran after {r.choice(THINGS)}, but it rolled into {r.choice(PLACES)}."
    return f"{hero} met {r.choice(NAMES)} at {r.choice(PLACES)}."


def story(r):
    hero, pet = r.choice(NAMES), r.choice(ANIMALS)
    lines = [f"{hero} had a {r.choice(ADJ)} {pet}."]
    lines += [sentence(r, hero, pet) for _ in range(r.randrange(3, 7))]
    lines.append(f"At night {hero} and the {pet} went home.")
    return " ".join(lines)


def write_docs(path, docs):
    text = "\n\n".join(docs) + "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        with open(path, "w") as f:
            f.write(text)


def fresh_docs(n, seed, n_train):
    """n stories from seed, none equal to one of the n_train training documents."""
    r = random.Random(SEED)
    train = set(story(r) for _ in range(n_train))
    r = random.Random(seed)
    docs = []
    while len(docs) < n:
        doc = story(r)
        if doc not in train:
            docs.append(doc)
    return docs


def main():
    ap = argparse.ArgumentParser(
        description="Write the default corpus (data/corpus.txt, data/heldout.txt) "
        "or, with --fresh, documents from another seed.")
    ap.add_argument("n_train", nargs="?", type=int, default=6000,
                    help="training documents (default 6000; held out: a tenth)")
    ap.add_argument("--fresh", type=int, metavar="N",
                    help="write N fresh documents (none equal to a training one) to --out")
    ap.add_argument("--seed", type=int, help="seed of the fresh documents (with --fresh)")
    ap.add_argument("--out", metavar="FILE", help='output of --fresh ("-": stdout)')
    args = ap.parse_args()
    if args.n_train < 1:
        ap.error("N must be at least 1")
    if args.fresh is None:
        if args.seed is not None or args.out is not None:
            ap.error("--seed and --out go with --fresh")
        n_train = args.n_train
        r = random.Random(SEED)
        docs = [story(r) for _ in range(n_train + n_train // 10)]
        write_docs("data/corpus.txt", docs[:n_train])
        write_docs("data/heldout.txt", docs[n_train:])
        return
    if args.fresh < 1:
        ap.error("--fresh must be at least 1")
    if args.seed is None or args.out is None:
        ap.error("--fresh needs --seed and --out")
    write_docs(args.out, fresh_docs(args.fresh, args.seed, args.n_train))


if __name__ == "__main__":
    main()
