/* util.c: error strings, checked allocation and size arithmetic, files, logging. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* This file calls the C library's allocator itself. */
#undef malloc
#undef calloc
#undef realloc
#undef strdup
#undef asprintf
#undef vasprintf

/* util_alloc's size from which it asks for huge pages. */
#define UTIL_HUGE_BYTES ((size_t)8 << 20)

static util_log_fn util_log_cb;
static long util_fail_at;   /* the allocation (1-based) that fails, 0: none */
static long util_fail_seen; /* allocations since util_fail_alloc */
static int util_fail_hit;   /* whether it failed */
static void *util_log_arg;

/* Format a message into *cause. */
int
util_error(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(*cause);
	*cause = s;
	return -1;
}

/* Arm (n >= 1) or disarm (0) the failure of the nth allocation from now. */
void
util_fail_alloc(long n)
{
	__atomic_store_n(&util_fail_at, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&util_fail_seen, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&util_fail_hit, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&util_fail_at, n > 0 ? n : 0, __ATOMIC_SEQ_CST);
}

/* Whether the armed allocation has failed. */
int
util_fail_alloc_hit(void)
{
	return __atomic_load_n(&util_fail_hit, __ATOMIC_SEQ_CST);
}

/* Whether this allocation is the one to fail (atomic: worker threads allocate too). */
static int
util_fail_now(void)
{
	long at = __atomic_load_n(&util_fail_at, __ATOMIC_RELAXED);

	if (at == 0)
		return 0;
	if (__atomic_add_fetch(&util_fail_seen, 1, __ATOMIC_SEQ_CST) != at)
		return 0;
	__atomic_store_n(&util_fail_hit, 1, __ATOMIC_SEQ_CST);
	return 1;
}

/* malloc, unless the injection says this one fails. */
void *
util_malloc(size_t n)
{
	return util_fail_now() ? NULL : malloc(n);
}

/* calloc, unless the injection says this one fails. */
void *
util_calloc(size_t n, size_t size)
{
	return util_fail_now() ? NULL : calloc(n, size);
}

/* realloc, unless the injection says this one fails (p is then left as it was). */
void *
util_realloc(void *p, size_t n)
{
	return util_fail_now() ? NULL : realloc(p, n);
}

/* strdup, unless the injection says this one fails. */
char *
util_strdup(const char *s)
{
	return util_fail_now() ? NULL : strdup(s);
}

/* vasprintf, unless the injection says this one fails (-1, *out undefined as vasprintf's). */
int
util_vasprintf(char **out, const char *fmt, va_list ap)
{
	if (util_fail_now())
		return -1;
	return vasprintf(out, fmt, ap);
}

/* asprintf, unless the injection says this one fails. */
int
util_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = util_vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

/* Overflow-checked multiplication. */
int
util_mul(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}

/* Overflow-checked addition. */
int
util_add(size_t a, size_t b, size_t *out)
{
	return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

/*
 * 64-byte aligned allocation of n bytes rounded up to 64 (*rounded), not
 * touched here. From UTIL_HUGE_BYTES on, 2 MiB aligned and marked for
 * transparent huge pages (Linux; Debian's default THP setting is "madvise",
 * so only marked memory gets them): it is then faulted in one page per 2 MiB
 * instead of one per 4 KiB, and a pass over it crosses 512 times fewer
 * pages. README.md (Performance) has what it measured.
 */
static void *
util_alloc_pages(size_t n, size_t *rounded)
{
	void *p;
	size_t align = 64;

	if (n == 0)
		n = 1;
	if (util_add(n, 63, rounded) != 0 || util_fail_now())
		return NULL;
	*rounded &= ~(size_t)63;
#ifdef MADV_HUGEPAGE
	if (*rounded >= UTIL_HUGE_BYTES)
		align = (size_t)2 << 20;
#endif
	if (posix_memalign(&p, align, *rounded) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	/* Advice only: without THP the memory is as before. */
	if (align > 64)
		(void)madvise(p, *rounded & ~(align - 1), MADV_HUGEPAGE);
#endif
	return p;
}

/* Zeroed allocation (util_alloc_pages). */
void *
util_alloc(size_t n)
{
	size_t rounded;
	void *p = util_alloc_pages(n, &rounded);

	if (p != NULL)
		memset(p, 0, rounded);
	return p;
}

/*
 * An allocation (util_alloc_pages) whose memory is only used as it is first
 * written. Its contents start unspecified (zero where the memory is fresh
 * from the kernel).
 */
void *
util_alloc_lazy(size_t n)
{
	size_t rounded;

	return util_alloc_pages(n, &rounded);
}

/* Free what util_alloc returned. */
void
util_free(void *p)
{
	free(p);
}

/* Monotonic clock in seconds. */
double
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* FNV-1a, 64 bits. */
uint64_t
util_fnv1a(uint64_t h, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Read a whole file. A regular file's size is known: one allocation of that
 * size (not a doubling buffer, which would peak at twice the file), and a
 * file over max is refused before reading. A pipe or device is read up to max,
 * or UTIL_STREAM_MAX when max is 0, so /dev/zero ends with a message instead
 * of taking all memory; a directory is said to be one.
 */
int
util_read_file(const char *path, size_t max, char **buf, size_t *len, char **cause)
{
	struct stat st;
	FILE *f;
	char *data = NULL;
	size_t cap = 0, n = 0, limit = max;
	int regular;

	*buf = NULL;
	*len = 0;
	f = fopen(path, "rb");
	if (f == NULL)
		return util_error(cause, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0) {
		fclose(f);
		return util_error(cause, "%s: %s", path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		fclose(f);
		return util_error(cause, "%s: is a directory", path);
	}
	regular = S_ISREG(st.st_mode);
	if (regular) {
		if (max != 0 && (uintmax_t)st.st_size > max) {
			fclose(f);
			return util_error(cause, "%s: file is larger than %zu bytes", path, max);
		}
		if ((uintmax_t)st.st_size >= SIZE_MAX) {
			fclose(f);
			return util_error(cause, "%s: file too large", path);
		}
		cap = (size_t)st.st_size + 1;
	} else if (limit == 0)
		limit = UTIL_STREAM_MAX;
	if (cap == 0)
		cap = 65536;
	if ((data = malloc(cap)) == NULL) {
		fclose(f);
		return util_error(cause, "%s: out of memory (%zu bytes)", path, cap);
	}
	for (;;) {
		size_t want = cap - n - 1, got;
		int c;

		if (limit != 0 && want > limit + 1 - n)
			want = limit + 1 - n; /* one byte over the limit is enough to know */
		got = fread(data + n, 1, want, f);
		n += got;
		if (limit != 0 && n > limit)
			break;
		if (got < want) /* the end, or an error (ferror below) */
			break;
		/* Full: grow only if there is more (a stream, or a file that grew). */
		if ((c = fgetc(f)) == EOF)
			break;
		if (cap > SIZE_MAX / 2) {
			free(data);
			fclose(f);
			return util_error(cause, "%s: file too large", path);
		}
		{
			size_t ncap = limit != 0 && cap * 2 > limit + 2 ? limit + 2 : cap * 2;
			char *p = realloc(data, ncap);

			if (p == NULL) {
				free(data);
				fclose(f);
				return util_error(cause, "%s: out of memory (%zu bytes read)", path, n);
			}
			data = p;
			cap = ncap;
		}
		data[n++] = (char)c;
	}
	if (limit != 0 && n > limit) {
		free(data);
		fclose(f);
		if (!regular && max == 0)
			return util_error(cause, "%s: not a regular file, and longer than %zu bytes "
			    "(the limit for pipes and devices)", path, limit);
		return util_error(cause, "%s: file is larger than %zu bytes", path, limit);
	}
	if (ferror(f)) {
		int e = errno;

		free(data);
		fclose(f);
		return util_error(cause, "%s: read error: %s", path, strerror(e));
	}
	fclose(f);
	data[n] = '\0';
	*buf = data;
	*len = n;
	return 0;
}

/*
 * Create a new file next to path with a name no other writer uses
 * (path.tmp-PID-N); fd open for writing, name in *tmp. mkstemp would do, but
 * it always makes the file 0600: opening with O_EXCL and the caller's mode
 * lets the umask decide, as a plain open would.
 */
static int
util_tmp_open(const char *path, mode_t mode, char **tmp, char **cause)
{
	static unsigned long counter;
	unsigned long n;
	int fd = -1;

	for (int tries = 0; tries < 100; tries++) {
		n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
		if (asprintf(tmp, "%s.tmp-%ld-%lu", path, (long)getpid(), n) < 0) {
			*tmp = NULL;
			return util_error(cause, "%s: out of memory", path);
		}
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
		free(*tmp);
	}
	util_error(cause, "%s: %s", *tmp, strerror(errno));
	free(*tmp);
	*tmp = NULL;
	return -1;
}

/* fsync the directory holding path, so that a rename in it is durable. */
static int
util_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = 0;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL) {
		errno = ENOMEM;
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return 0; /* a directory we may write but not read: nothing more to do */
	/* Some file systems cannot sync a directory (EINVAL): nothing more to do there. */
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}

/* Write to a unique temporary file, fsync, rename over path, fsync the directory. */
int
util_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    char **cause)
{
	const char *p = buf;
	size_t done = 0;
	char *tmp;
	int fd, e;

	if ((fd = util_tmp_open(path, mode, &tmp, cause)) < 0)
		return -1;
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		done += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1; /* closed even so */
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		util_error(cause, "%s: %s", path, strerror(e));
		free(tmp);
		return -1;
	}
	free(tmp);
	if (util_sync_dir(path) != 0)
		return util_error(cause, "%s: the directory cannot be synced: %s", path,
		    strerror(errno));
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	util_error(cause, "%s: %s", tmp, strerror(e));
	free(tmp);
	return -1;
}

/* Install the log callback. */
void
util_log_set(util_log_fn fn, void *arg)
{
	util_log_cb = fn;
	util_log_arg = arg;
}

/* Send a message to the log callback, if any. */
void
util_log(enum util_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (util_log_cb == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL) {
		util_log_cb(level, s, util_log_arg);
		free(s);
	}
}

/*
 * A random 64-bit id (never 0) from the kernel, or from the clock and the
 * process id if getrandom fails: it names a training run, nothing secret.
 */
uint64_t
util_random_id(void)
{
	uint64_t id = 0;

	if (getrandom(&id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		id = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)getpid() << 40);
	}
	return id != 0 ? id : 1;
}

/* The value of a hexadecimal digit, or -1. */
int
util_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
