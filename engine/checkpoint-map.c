/*
 * checkpoint-map.c: the mapped model files: opening a file for mapping, the
 * read-only private mapping and its release, and the table a signal handler
 * reads to name the file an address belongs to.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint-impl.h"
#include "checkpoint.h"
#include "gpt.h"
#include "util.h"

/*
 * Mapped files, for checkpoint_mapped_path: a fixed table a signal handler
 * can read without locks (base is set last on registering, first on
 * unregistering). Registering and unregistering take the mutex.
 */
#define CHECKPOINT_MAX_MAPS 64
static struct {
	_Atomic uintptr_t base;
	size_t len;
	char *path;
} checkpoint_maps[CHECKPOINT_MAX_MAPS];
static pthread_mutex_t checkpoint_maps_lock = PTHREAD_MUTEX_INITIALIZER;

/* Map path (fd open on it, len bytes) read-only; NULL with *cause on failure. */
struct checkpoint_map *
checkpoint_map_file(const char *path, int fd, size_t len, int populate, char **cause)
{
	struct checkpoint_map *map = malloc(sizeof *map);
	char *copy = strdup(path);

	if (map == NULL || copy == NULL) {
		free(map);
		free(copy);
		util_error(cause, "%s: out of memory", path);
		return NULL;
	}
	map->len = len;
	map->base = mmap(NULL, len, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0),
	    fd, 0);
	if (map->base == MAP_FAILED) {
		util_error(cause, "%s: cannot map the file: %s", path, strerror(errno));
		free(map);
		free(copy);
		return NULL;
	}
	map->slot = -1;
	pthread_mutex_lock(&checkpoint_maps_lock);
	for (int i = 0; i < CHECKPOINT_MAX_MAPS; i++) {
		if (atomic_load(&checkpoint_maps[i].base) == 0 && checkpoint_maps[i].path == NULL) {
			checkpoint_maps[i].len = len;
			checkpoint_maps[i].path = copy;
			atomic_store(&checkpoint_maps[i].base, (uintptr_t)map->base);
			map->slot = i;
			copy = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&checkpoint_maps_lock);
	free(copy);
	return map;
}

/* Unmap a file mapped by checkpoint_map_file (a gpt_new_external release). */
void
checkpoint_unmap(void *arg)
{
	struct checkpoint_map *map = arg;

	if (map == NULL)
		return;
	if (map->slot >= 0) {
		pthread_mutex_lock(&checkpoint_maps_lock);
		atomic_store(&checkpoint_maps[map->slot].base, 0);
		free(checkpoint_maps[map->slot].path);
		checkpoint_maps[map->slot].path = NULL;
		pthread_mutex_unlock(&checkpoint_maps_lock);
	}
	munmap(map->base, map->len);
	free(map);
}

/* The file mapped at addr (async-signal-safe), or NULL. */
const char *
checkpoint_mapped_path(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (int i = 0; i < CHECKPOINT_MAX_MAPS; i++) {
		uintptr_t base = atomic_load(&checkpoint_maps[i].base);

		if (base != 0 && a >= base && a - base < checkpoint_maps[i].len)
			return checkpoint_maps[i].path;
	}
	return NULL;
}

/*
 * Open path for mapping: *fd and *len for a regular non-empty file; *fd = -1
 * (and 0) for anything else, which the caller reads whole instead.
 */
int
checkpoint_open_file(const char *path, int *fd, size_t *len, char **cause)
{
	struct stat st;

	*fd = -1;
	*len = 0;
	/* Open only a regular file here: opening a FIFO twice would lose its writer. */
	if (stat(path, &st) != 0)
		return util_error(cause, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return util_error(cause, "%s: is a directory", path);
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return util_error(cause, "%s: %s", path, strerror(errno));
	if (fstat(*fd, &st) != 0) {
		util_error(cause, "%s: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return util_error(cause, "%s: is a directory", path);
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uintmax_t)st.st_size >= SIZE_MAX) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	*len = (size_t)st.st_size;
	return 0;
}
