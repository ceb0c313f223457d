#!/usr/bin/env python3
"""make-corpus.py: write seqmatch's default corpus, short stories from a small
grammar (our own, so anyone may redistribute it), as documents separated by
blank lines: data/corpus.txt (training) and data/heldout.txt (held out).
Deterministic: the same files on every run. Standard library only."""
import random
import sys

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


def main():
    r = random.Random(20261126)
    n_train = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
    docs = [story(r) for _ in range(n_train + n_train // 10)]
    with open("data/corpus.txt", "w") as f:
        f.write("\n\n".join(docs[:n_train]) + "\n")
    with open("data/heldout.txt", "w") as f:
        f.write("\n\n".join(docs[n_train:]) + "\n")


if __name__ == "__main__":
    main()
