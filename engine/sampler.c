/*
 * sampler.c: the decoding parameter table and the sampler chain.
 *
 * How this works. One call to sampler_sample takes the model's logits (n) and:
 *
 * 1. Computes max and sum of exp(logit - max) over the original logits when
 *    the caller wants model_prob, before anything is modified.
 * 2. Repetition penalty (Keskar et al. 2019, CTRL section 4.1, in llama.cpp's
 *    form): every distinct id in the last repeat_last_n history entries gets
 *    logit / penalty when its logit is positive and logit * penalty otherwise.
 *    The original values are kept so that model_prob stays the model's.
 * 3. temperature <= 0: argmax (ties to the lowest id), probability 1.
 * 4. Otherwise candidates (id, logit) are filtered in llama.cpp's order:
 *    - top-k: a size-k min-heap over the logits, O(n log k) worst case and
 *      close to O(n) in practice, then only those k are sorted;
 *    - typical-p (Meister et al. 2022, "Locally Typical Sampling", eq. 7):
 *      entropy H of the candidates' softmax, order by |-log p - H|, keep the
 *      shortest prefix whose mass reaches typical_p;
 *    - top-p (Holtzman et al. 2020, nucleus, eq. 2): the shortest prefix by
 *      decreasing probability whose mass reaches top_p. The cut is found by
 *      a bucket select (histogram of the weights over score buckets, keep
 *      the bucket where the cumulative mass crosses the target, repeat), so
 *      the full vocabulary is never sorted; typical-p uses the same routine
 *      with its own order;
 *    - min-p (Nguyen et al. 2024): drop p < min_p * p_max. The ratio
 *      p / p_max = exp(logit - logit_max) does not depend on the normaliser,
 *      so this is a comparison of logits against logit_max + log(min_p).
 *    Every filter keeps at least one candidate.
 * 5. Temperature: weights exp((logit - max) / T), which is softmax(logit / T)
 *    with the max subtracted, summed in double, and one rng_float draw. The
 *    weights of a stage are reused by the next when the max and T match.
 *
 * NaN and -INFINITY logits are never candidates; +INFINITY counts as FLT_MAX.
 * Nothing in the chain looks at a banned id: callers mask it by setting its
 * logit to -INFINITY before the call.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rng.h"
#include "sampler.h"
#include "util.h"

#define SAMPLER_ROW(n, opt, al, ty, field, d, lo, hi, dis, h, lab, br) \
	{ n, opt, al, ty, offsetof(struct sampler_params, field), d, lo, hi, dis, h, lab, br }

const struct sampler_param sampler_table[] = {
	SAMPLER_ROW("temperature", "temperature", "temp", SAMPLER_DOUBLE, temperature,
	    0.8, 0, 100, "<= 0 (greedy)",
	    "Divide logits by this; lower is more predictable.",
	    "temperature", "randomness; 0 is greedy"),
	SAMPLER_ROW("top_k", "top-k", NULL, SAMPLER_INT, top_k,
	    40, 0, 1000000, "<= 0",
	    "Keep only the K most likely tokens.",
	    "top_k", "keep the K likeliest"),
	SAMPLER_ROW("top_p", "top-p", NULL, SAMPLER_DOUBLE, top_p,
	    0.95, 0, 1, "1",
	    "Keep the fewest tokens whose probabilities add up to P.",
	    "top_p", "keep the top mass P"),
	SAMPLER_ROW("min_p", "min-p", NULL, SAMPLER_DOUBLE, min_p,
	    0.05, 0, 1, "0",
	    "Drop tokens less likely than min_p times the most likely one.",
	    "min_p", "drop p < min_p x top p"),
	SAMPLER_ROW("typical_p", "typical-p", NULL, SAMPLER_DOUBLE, typical_p,
	    1.0, 0, 1, "1",
	    "Keep the tokens closest to the expected surprise (locally typical).",
	    "typical_p", "keep typical tokens"),
	SAMPLER_ROW("repeat_penalty", "repeat-penalty", NULL, SAMPLER_DOUBLE,
	    repeat_penalty, 1.0, 0, 10, "1",
	    "Make tokens seen in the last repeat_last_n less likely.",
	    "rep_penalty", "penalise recent tokens"),
	SAMPLER_ROW("repeat_last_n", "repeat-last-n", NULL, SAMPLER_INT,
	    repeat_last_n, 64, -1, 1000000, "0 (-1 = whole context)",
	    "How many recent tokens the repeat penalty looks at.",
	    "rep_last_n", "window of rep_penalty"),
	SAMPLER_ROW("max_tokens", "max-tokens", NULL, SAMPLER_INT, max_tokens,
	    128, -1, 1000000, "-1 = until the context is full",
	    "Stop after this many new tokens.",
	    "max_tokens", "stop after N new tokens"),
	SAMPLER_ROW("seed", "seed", NULL, SAMPLER_INT64, seed,
	    -1, -1, 9223372036854775807.0, "-1 = random",
	    "Random seed; the same seed repeats the same output.",
	    "seed", "same seed, same text"),
	SAMPLER_ROW("backspace_bias", "backspace-bias", NULL, SAMPLER_DOUBLE,
	    backspace_bias, 0, -INFINITY, 100, "-inf (never backspace)",
	    "Added to the <bksp> logit: higher erases more, -inf turns it off.",
	    "bksp_bias", "+ erases more, -inf never"),
	SAMPLER_ROW("max_consecutive_backspaces", "max-consecutive-backspaces", NULL,
	    SAMPLER_INT, max_consecutive_backspaces, -1, -1, 1000000, "-1 = no cap",
	    "Longest run of <bksp> in a row (0: none).",
	    "bksp_in_row", "most <bksp> in a row"),
	SAMPLER_ROW("max_total_backspaces", "max-total-backspaces", NULL, SAMPLER_INT,
	    max_total_backspaces, -1, -1, 1000000, "-1 = up to max_tokens",
	    "Most <bksp> actions in one generation (0: none).",
	    "bksp_total", "most <bksp> in one run"),
	SAMPLER_ROW("forbid_retype", "forbid-retype", NULL, SAMPLER_INT, forbid_retype,
	    0, 0, 1, "0",
	    "1: the token just erased may not be typed again at the next step.",
	    "no_retype", "1: erased token banned"),
};
const size_t sampler_table_len = sizeof sampler_table / sizeof sampler_table[0];

/* One candidate token. */
struct sampler_cand {
	int id;
	float logit;
	float key; /* typical-p: |surprise - entropy| */
	float w;   /* exp((logit - max) / T), see sampler_weigh */
};

/* Fill p with the table's defaults. */
void
sampler_defaults(struct sampler_params *p)
{
	memset(p, 0, sizeof *p);
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		char *field = (char *)p + row->offset;

		switch (row->type) {
		case SAMPLER_DOUBLE:
			*(double *)field = row->def;
			break;
		case SAMPLER_INT:
			*(int *)field = (int)row->def;
			break;
		case SAMPLER_INT64:
			*(int64_t *)field = (int64_t)row->def;
			break;
		}
	}
}

/* Row by name ("top_k"), option ("top-k", "--top-k") or alias ("temp"). */
const struct sampler_param *
sampler_find(const char *name_or_option)
{
	const char *s = name_or_option;

	if (s == NULL)
		return NULL;
	if (strncmp(s, "--", 2) == 0)
		s += 2;
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];

		if (strcmp(s, row->name) == 0 || strcmp(s, row->option) == 0 ||
		    (row->alias != NULL && strcmp(s, row->alias) == 0))
			return row;
	}
	return NULL;
}

/* The value of one row's field, as a double. */
double
sampler_get(const struct sampler_params *p, const struct sampler_param *row)
{
	const char *field = (const char *)p + row->offset;

	switch (row->type) {
	case SAMPLER_DOUBLE:
		return *(const double *)field;
	case SAMPLER_INT:
		return *(const int *)field;
	case SAMPLER_INT64:
		return (double)*(const int64_t *)field;
	}
	return 0;
}

/* Whether s uses only the characters of a decimal number (no hex, no inf). */
static int
sampler_is_decimal(const char *s)
{
	return s[strspn(s, "0123456789+-.eE")] == '\0';
}

/* Parse text for row into p, all or nothing. */
int
sampler_set(struct sampler_params *p, const struct sampler_param *row,
    const char *text, char **cause)
{
	char *field = (char *)p + row->offset;
	char *end;
	double d;
	long long ll = 0;

	if (text == NULL || *text == '\0' || isspace((unsigned char)*text))
		return util_error(cause, "%s: '%s' is not a number", row->name,
		    text == NULL ? "" : text);

	if (row->min == -INFINITY && (strcasecmp(text, "-inf") == 0 ||
	    strcasecmp(text, "-infinity") == 0) && row->type == SAMPLER_DOUBLE) {
		*(double *)field = -INFINITY;
		return 0;
	}
	errno = 0;
	d = strtod(text, &end);
	if (*end != '\0')
		return util_error(cause, "%s: '%s' is not a number", row->name, text);
	if (!isfinite(d) && errno != ERANGE)
		return util_error(cause, "%s: '%s' is not a finite number",
		    row->name, text);
	if (!sampler_is_decimal(text))
		return util_error(cause, "%s: '%s' is not a decimal number",
		    row->name, text);

	if (row->type == SAMPLER_DOUBLE) {
		if (!isfinite(d) || d < row->min || d > row->max)
			goto range;
		*(double *)field = d;
		return 0;
	}

	errno = 0;
	ll = strtoll(text, &end, 10);
	if (*end != '\0')
		return util_error(cause, "%s: '%s' is not an integer", row->name, text);
	if (errno == ERANGE || (double)ll < row->min || (double)ll > row->max)
		goto range;
	if (row->type == SAMPLER_INT)
		*(int *)field = (int)ll;
	else
		*(int64_t *)field = ll;
	return 0;

range:
	if (row->type == SAMPLER_DOUBLE && row->min == -INFINITY)
		return util_error(cause, "%s: %s is out of range [-inf, %g]",
		    row->name, text, row->max);
	if (row->type == SAMPLER_DOUBLE)
		return util_error(cause, "%s: %s is out of range [%g, %g]",
		    row->name, text, row->min, row->max);
	if (row->max >= 9223372036854775807.0)
		return util_error(cause, "%s: %s is out of range [%.0f, %" PRId64 "]",
		    row->name, text, row->min, INT64_MAX);
	return util_error(cause, "%s: %s is out of range [%.0f, %.0f]",
	    row->name, text, row->min, row->max);
}

/* A logit as the chain sees it: NaN is impossible, +inf is the largest float. */
static inline float
sampler_clean(float x)
{
	if (isnan(x))
		return -INFINITY;
	if (x > FLT_MAX)
		return FLT_MAX;
	return x;
}

/* Whether candidate a ranks before b by probability: higher logit, then lower id. */
static int
sampler_before(const struct sampler_cand *a, const struct sampler_cand *b)
{
	if (a->logit != b->logit)
		return a->logit > b->logit;
	return a->id < b->id;
}

/* Whether a ranks before b by typicality: smaller key, then by probability. */
static int
sampler_before_typical(const struct sampler_cand *a, const struct sampler_cand *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	return sampler_before(a, b);
}

/* qsort comparator: by probability (ids are unique, so never equal). */
static int
sampler_cmp_logit(const void *va, const void *vb)
{
	const struct sampler_cand *a = va, *b = vb;

	if (a->id == b->id)
		return 0;
	return sampler_before(a, b) ? -1 : 1;
}

/* qsort comparator: by typicality. */
static int
sampler_cmp_typical(const void *va, const void *vb)
{
	const struct sampler_cand *a = va, *b = vb;

	if (a->id == b->id)
		return 0;
	return sampler_before_typical(a, b) ? -1 : 1;
}

/* Restore the min-heap property (worst candidate at the root) below i. */
static void
sampler_heap_down(struct sampler_cand *h, int len, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, worst = i;
		struct sampler_cand t;

		if (l < len && sampler_before(&h[worst], &h[l]))
			worst = l;
		if (r < len && sampler_before(&h[worst], &h[r]))
			worst = r;
		if (worst == i)
			return;
		t = h[i];
		h[i] = h[worst];
		h[worst] = t;
		i = worst;
	}
}

/* Move up a newly appended heap entry at i. */
static void
sampler_heap_up(struct sampler_cand *h, int i)
{
	while (i > 0) {
		int parent = (i - 1) / 2;
		struct sampler_cand t;

		if (!sampler_before(&h[parent], &h[i]))
			return;
		t = h[i];
		h[i] = h[parent];
		h[parent] = t;
		i = parent;
	}
}

/*
 * The k best of values (n) by value then lowest id, into h (k), unordered;
 * NaN and -inf are skipped. Returns how many (fewer than k when n is small).
 * Ids arrive in increasing order, so a later equal value never displaces an
 * earlier one: the test against the root is a plain >.
 */
static int
sampler_heap_select(const float *values, int n, struct sampler_cand *h, int k)
{
	int len = 0;

	for (int i = 0; i < n; i++) {
		float v = values[i];

		if (len == k) {
			if (!(v > h[0].logit))
				continue;
			h[0].id = i;
			h[0].logit = sampler_clean(v);
			sampler_heap_down(h, len, 0);
		} else if (!isnan(v) && v != -INFINITY) {
			h[len].id = i;
			h[len].logit = sampler_clean(v);
			h[len].key = h[len].w = 0;
			sampler_heap_up(h, len++);
		}
	}
	return len;
}

/* Swap two candidates. */
static void
sampler_swap(struct sampler_cand *a, struct sampler_cand *b)
{
	struct sampler_cand t = *a;

	*a = *b;
	*b = t;
}

/* Buckets per round of sampler_nucleus. */
#define SAMPLER_BUCKETS 512

/* The order of a nucleus: larger score first (logit, or minus typicality). */
static float
sampler_score(const struct sampler_cand *c, int typical)
{
	return typical ? -c->key : c->logit;
}

/*
 * The shortest prefix of c (n), in probability order (or typicality order
 * when typical is set), whose weight w reaches target, at least one entry.
 * c[0..return) holds that set afterwards, in no particular order.
 *
 * A bucket select, O(n) per round and branch-light: spread the scores of
 * the open range over SAMPLER_BUCKETS equal-width buckets, add up each
 * bucket's weight, find the bucket where the cumulative weight crosses the
 * target, and move the better buckets to the front (kept) and the worse to
 * the back (dropped). Equal scores share a bucket, so the order between
 * buckets agrees with the exact order. The few left are sorted exactly.
 */
static int
sampler_nucleus(struct sampler_cand *c, int n, int typical, double target)
{
	int lo = 0, hi = n; /* [0, lo) kept, [hi, n) dropped, [lo, hi) open */
	double acc = 0;     /* weight of [0, lo) */

	while (hi - lo > 64) {
		double mass[SAMPLER_BUCKETS], cum = acc, scale;
		float smax = -INFINITY, smin = INFINITY;
		int cut, a, i, b;

		for (i = lo; i < hi; i++) {
			float s = sampler_score(&c[i], typical);
			if (s > smax)
				smax = s;
			if (s < smin)
				smin = s;
		}
		if (!(smax > smin))
			break; /* all equal: only the exact order can split them */
		scale = (SAMPLER_BUCKETS - 1) / ((double)smax - smin);
		memset(mass, 0, sizeof mass);
		for (i = lo; i < hi; i++) {
			b = (int)(((double)smax - sampler_score(&c[i], typical)) * scale);
			mass[b < SAMPLER_BUCKETS ? b : SAMPLER_BUCKETS - 1] += c[i].w;
		}
		/* The last bucket (it holds the minimum) if rounding never gets there. */
		for (cut = 0; cut < SAMPLER_BUCKETS - 1; cut++) {
			if (cum + mass[cut] >= target)
				break;
			cum += mass[cut];
		}

		/* Three-way partition: before cut | cut | after cut. */
		a = lo;
		i = lo;
		b = hi;
		while (i < b) {
			int k = (int)(((double)smax - sampler_score(&c[i], typical)) * scale);

			if (k >= SAMPLER_BUCKETS)
				k = SAMPLER_BUCKETS - 1;
			if (k < cut)
				sampler_swap(&c[a++], &c[i++]);
			else if (k > cut)
				sampler_swap(&c[i], &c[--b]);
			else
				i++;
		}
		lo = a;
		hi = b;
		acc = cum;
	}

	if (hi - lo > 1)
		qsort(c + lo, hi - lo, sizeof *c,
		    typical ? sampler_cmp_typical : sampler_cmp_logit);
	for (int i = lo; i < hi; i++) {
		acc += c[i].w;
		if (acc >= target)
			return i + 1;
	}
	return hi > 0 ? hi : 1;
}

/* Weights exp((logit - max) / temp) of the current candidates. */
struct sampler_weights {
	int valid;
	float max;
	double temp;
	double sum;
};

/*
 * Set c[i].w for c (n) at temperature temp and return their sum (double). The
 * exps are skipped when the weights already hold for the same max and temp.
 */
static double
sampler_weigh(struct sampler_cand *c, int n, double temp, struct sampler_weights *sw)
{
	float max = -INFINITY;
	double sum = 0;

	for (int i = 0; i < n; i++)
		if (c[i].logit > max)
			max = c[i].logit;
	if (sw->valid && sw->max == max && sw->temp == temp) {
		for (int i = 0; i < n; i++)
			sum += c[i].w;
	} else if (temp == 1) {
		for (int i = 0; i < n; i++) {
			c[i].w = expf(c[i].logit - max);
			sum += c[i].w;
		}
	} else {
		for (int i = 0; i < n; i++) {
			c[i].w = (float)exp(((double)c[i].logit - max) / temp);
			sum += c[i].w;
		}
	}
	sw->valid = 1;
	sw->max = max;
	sw->temp = temp;
	sw->sum = sum;
	return sum;
}

/* Locally typical filter (Meister et al. 2022, eq. 7) on c (n); returns the count. */
static int
sampler_typical(struct sampler_cand *c, int n, double typical_p,
    struct sampler_weights *sw)
{
	double sum = sampler_weigh(c, n, 1, sw), logsum = log(sum), ent = logsum;

	/* H = log(sum) - sum_i p_i (logit_i - max); -log p_i = log(sum) - (logit_i - max). */
	for (int i = 0; i < n; i++)
		ent -= c[i].w / sum * ((double)c[i].logit - sw->max);
	for (int i = 0; i < n; i++) {
		double surprise = logsum - ((double)c[i].logit - sw->max);
		c[i].key = (float)fabs(surprise - ent);
	}
	return sampler_nucleus(c, n, 1, typical_p * sum);
}

/* Nucleus filter (Holtzman et al. 2020, eq. 2) on c (n); returns the count. */
static int
sampler_top_p(struct sampler_cand *c, int n, double top_p, struct sampler_weights *sw)
{
	double sum = sampler_weigh(c, n, 1, sw);

	return sampler_nucleus(c, n, 0, top_p * sum);
}

/* Min-p filter on c (n), keeping order; returns the new count. */
static int
sampler_min_p(struct sampler_cand *c, int n, double min_p)
{
	float max = -INFINITY;
	double floor_;
	int k = 0;

	for (int i = 0; i < n; i++)
		if (c[i].logit > max)
			max = c[i].logit;
	floor_ = (double)max + log(min_p);
	for (int i = 0; i < n; i++)
		if ((double)c[i].logit >= floor_)
			c[k++] = c[i];
	return k;
}

/* qsort comparator for ints. */
static int
sampler_cmp_int(const void *va, const void *vb)
{
	int a = *(const int *)va, b = *(const int *)vb;

	return (a > b) - (a < b);
}

/*
 * Apply the repetition penalty. ids (scratch, at least the window size) gets the
 * distinct penalised ids sorted, orig their original logits; returns their count.
 */
static int
sampler_penalty(const struct sampler_params *p, float *logits, int n,
    const int *history, int nhist, int *ids, float *orig)
{
	int win = p->repeat_last_n < 0 ? nhist : p->repeat_last_n, k = 0, u = 0;
	float pen = (float)p->repeat_penalty;

	if (win > nhist)
		win = nhist;
	for (int i = nhist - win; i < nhist; i++)
		if (history[i] >= 0 && history[i] < n)
			ids[k++] = history[i];
	qsort(ids, k, sizeof *ids, sampler_cmp_int);
	for (int i = 0; i < k; i++) {
		float l;

		if (u > 0 && ids[u - 1] == ids[i])
			continue;
		ids[u] = ids[i];
		l = orig[u] = logits[ids[i]];
		u++;
		if (isnan(l) || l == -INFINITY)
			continue;
		logits[ids[i]] = l > 0 ? l / pen : l * pen;
	}
	return u;
}

/* Draw from the temperature-scaled candidates; *prob gets the chosen probability. */
static int
sampler_draw(struct sampler_cand *c, int n, double temp, struct rng *rng,
    float *prob, struct sampler_weights *sw)
{
	double sum = sampler_weigh(c, n, temp, sw), r, cum = 0;
	int pick = 0;

	r = (double)rng_float(rng) * sum;
	for (int i = 0; i < n; i++) {
		if (c[i].w > 0)
			pick = i; /* rounding fallback: the last possible one */
		cum += c[i].w;
		if (r < cum)
			break;
	}
	if (prob != NULL)
		*prob = (float)(c[pick].w / sum);
	return c[pick].id;
}

/*
 * Sample one token (see the chain at the top of this file). Returns -1 when no
 * logit can be sampled (n <= 0, all -INFINITY or NaN) or scratch memory is
 * not available.
 */
int
sampler_sample(const struct sampler_params *p, float *logits, int n,
    const int *history, int nhist, struct rng *rng, float *prob, float *model_prob)
{
	struct sampler_cand *c = NULL;
	struct sampler_weights sw = { 0, 0, 0, 0 };
	int *pen_ids = NULL;
	float *pen_orig = NULL, max0 = -INFINITY;
	double sum0 = 0;
	int npen = 0, nc = 0, id = -1;

	if (prob != NULL)
		*prob = 0;
	if (model_prob != NULL)
		*model_prob = 0;
	if (n <= 0 || logits == NULL)
		return -1;
	if (history == NULL || nhist < 0)
		nhist = 0;

	if (model_prob != NULL) {
		for (int i = 0; i < n; i++) {
			float l = sampler_clean(logits[i]);
			if (l > max0)
				max0 = l;
		}
		if (max0 != -INFINITY)
			for (int i = 0; i < n; i++)
				sum0 += expf(sampler_clean(logits[i]) - max0);
	}

	if (p->repeat_penalty != 1 && p->repeat_last_n != 0 && nhist > 0) {
		int win = p->repeat_last_n < 0 || p->repeat_last_n > nhist ?
		    nhist : p->repeat_last_n;

		pen_ids = malloc((size_t)win * sizeof *pen_ids);
		pen_orig = malloc((size_t)win * sizeof *pen_orig);
		if (pen_ids == NULL || pen_orig == NULL)
			goto out;
		npen = sampler_penalty(p, logits, n, history, nhist, pen_ids,
		    pen_orig);
	}

	if (p->temperature <= 0) {
		float best = -INFINITY;

		for (int i = 0; i < n; i++) {
			float l = sampler_clean(logits[i]);
			if (l > best) {
				best = l;
				id = i;
			}
		}
		if (id >= 0 && prob != NULL)
			*prob = 1;
		goto out;
	}

	if (p->top_k > 0 && p->top_k < n) {
		/* Only k candidates exist from here on: select, then sort those. */
		c = malloc((size_t)p->top_k * sizeof *c);
		if (c == NULL)
			goto out;
		nc = sampler_heap_select(logits, n, c, p->top_k);
		qsort(c, nc, sizeof *c, sampler_cmp_logit);
	} else {
		c = malloc((size_t)n * sizeof *c);
		if (c == NULL)
			goto out;
		for (int i = 0; i < n; i++) {
			float l = sampler_clean(logits[i]);
			if (l != -INFINITY) {
				c[nc].id = i;
				c[nc].logit = l;
				c[nc].key = c[nc].w = 0;
				nc++;
			}
		}
	}
	if (nc == 0)
		goto out;

	if (p->typical_p < 1 && nc > 1)
		nc = sampler_typical(c, nc, p->typical_p, &sw);
	if (p->top_p < 1 && nc > 1)
		nc = sampler_top_p(c, nc, p->top_p, &sw);
	if (p->min_p > 0 && nc > 1) {
		nc = sampler_min_p(c, nc, p->min_p);
		/* The max survives min-p, so cached weights stay valid. */
	}

	id = sampler_draw(c, nc, p->temperature, rng, prob, &sw);

out:
	if (id >= 0 && model_prob != NULL && sum0 > 0) {
		float l = logits[id];
		int *hit = npen > 0 ? bsearch(&id, pen_ids, npen, sizeof *pen_ids,
		    sampler_cmp_int) : NULL;

		if (hit != NULL)
			l = pen_orig[hit - pen_ids];
		*model_prob = (float)(expf(sampler_clean(l) - max0) / sum0);
	}
	free(c);
	free(pen_ids);
	free(pen_orig);
	return id;
}

/* Softmax with the max subtracted; returns the entropy in nats. */
double
sampler_softmax(const float *logits, float *probs, int n)
{
	float max = -INFINITY;
	double sum = 0, ent = 0;

	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		float l = sampler_clean(logits[i]);
		if (l > max)
			max = l;
	}
	if (max == -INFINITY) {
		memset(probs, 0, (size_t)n * sizeof *probs);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		probs[i] = expf(sampler_clean(logits[i]) - max);
		sum += probs[i];
	}
	/* H = log(sum) - sum_i p_i (logit_i - max), exact where p_i underflows. */
	for (int i = 0; i < n; i++) {
		float l = sampler_clean(logits[i]);

		probs[i] = (float)(probs[i] / sum);
		if (probs[i] > 0)
			ent -= (double)probs[i] * ((double)l - max);
	}
	return ent + log(sum);
}

/*
 * The k most probable entries of probs (n), best first; returns how many.
 * The heap lives on the stack (k <= SAMPLER_TOP_MAX): an inspector's list
 * must not come back empty because an allocation failed.
 */
int
sampler_top(const float *probs, int n, struct sampler_top *out, int k)
{
	struct sampler_cand h[SAMPLER_TOP_MAX];
	int len = 0;

	if (k <= 0 || n <= 0)
		return 0;
	if (k > n)
		k = n;
	if (k > SAMPLER_TOP_MAX)
		k = SAMPLER_TOP_MAX;
	len = sampler_heap_select(probs, n, h, k);
	qsort(h, len, sizeof *h, sampler_cmp_logit);
	for (int i = 0; i < len; i++) {
		out[i].id = h[i].id;
		out[i].prob = h[i].logit;
	}
	return len;
}
