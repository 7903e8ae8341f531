/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's line parser (see journal_parse.h). Two costs dominated a
 * replay: jansson itself and the allocator under it (a value, a string, a
 * hash table per object, each malloc'd and freed). Both are cut here:
 * lines are parsed on a thread of their own while the caller applies the
 * previous batch, and jansson's allocations for a batch come from a bump
 * arena (jansson lets a program set its allocator: json_set_alloc_funcs()).
 * Freeing a value of an arena is a no-op; the arena is reset once its
 * batch is applied. Any other allocation (another thread, a value made
 * before, a line too big for the arena) is a plain malloc() and free().
 */
#include "config.h"
#include "journal_parse.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_format.h"

/* Read size. */
#define READ_CHUNK (256 * 1024)
/* A line over this size is scanned for its element count before jansson
 * sees it: a line of "[0,0,0,..." would cost jansson 50 bytes per byte. */
#define SCAN_ELEMENTS_ABOVE (64 * 1024)
/* More JSON values than this in one line is not a process event. */
#define MAX_ELEMENTS (1024 * 1024)
/* A batch: lines, and their bytes, before it is handed to a parser; a
 * longer line is a batch of its own. */
#define BATCH_LINES 1024
#define BATCH_BYTES (256 * 1024)
/* Each batch's arena; past it, jansson's allocations are malloc()s. */
#define ARENA_SIZE (6 * 1024 * 1024)
/* Threads parsing batches (while the caller applies them). */
#define PARSERS 2
/* Readings at once in the process (each registers its arenas). */
#define ARENAS_MAX 16

/* ---- the arena ---- */

struct arena {
	char *base;
	gsize size, used;
	gboolean spilled; /* an allocation did not fit: some values are malloc()'d */
};

/* Every reading's arenas, one block each, so that a free() can tell one of
 * their values; slots are claimed and released with atomics. */
static struct {
	char *base;
	gsize size;
} arena_blocks[ARENAS_MAX];
/* Slots below this may be in use. */
static guint arena_slots;
/* The arena jansson allocates from on this thread, if any. */
static __thread struct arena *current_arena;

static void *arena_malloc(size_t size)
{
	struct arena *a = current_arena;
	gsize need = (size + 15) & ~(gsize)15;

	if (a) {
		if (need <= a->size - a->used) {
			void *p = a->base + a->used;

			a->used += need;
			return p;
		}
		a->spilled = TRUE;
	}
	return malloc(size);
}

static gboolean in_an_arena(const char *p)
{
	guint slots = __atomic_load_n(&arena_slots, __ATOMIC_ACQUIRE);

	for (guint i = 0; i < slots; i++) {
		const char *base = __atomic_load_n(&arena_blocks[i].base, __ATOMIC_ACQUIRE);

		if (base && p >= base && p < base + arena_blocks[i].size)
			return TRUE;
	}
	return FALSE;
}

static void arena_free(void *p)
{
	if (p && !in_an_arena(p))
		free(p);
}

static gpointer install_allocator(gpointer data)
{
	(void)data;
	json_set_alloc_funcs(arena_malloc, arena_free);
	return NULL;
}

/* Registers a block of arenas; -1 when every slot is taken (the batches
 * then use malloc()). */
static int arenas_register(char *base, gsize size)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, install_allocator, NULL);
	for (guint i = 0; i < ARENAS_MAX; i++) {
		char *none = NULL;

		if (__atomic_load_n(&arena_blocks[i].base, __ATOMIC_ACQUIRE) != NULL)
			continue;
		/* The size first: a free() reads it once it sees the base. */
		arena_blocks[i].size = size;
		if (__atomic_compare_exchange_n(&arena_blocks[i].base, &none, base, FALSE,
		                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			guint slots = __atomic_load_n(&arena_slots, __ATOMIC_ACQUIRE);

			while (slots < i + 1 &&
			       !__atomic_compare_exchange_n(&arena_slots, &slots, i + 1, FALSE,
			                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				;
			return (int)i;
		}
	}
	return -1;
}

static void arenas_unregister(int slot)
{
	if (slot >= 0)
		__atomic_store_n(&arena_blocks[slot].base, NULL, __ATOMIC_RELEASE);
}

/* ---- one line ---- */

/* Whether a long line holds few enough JSON values to be given to jansson:
 * a string-aware count of separators and openings. */
static gboolean few_elements(const char *line, gsize len)
{
	gboolean in_string = FALSE;
	gsize count = 0;

	for (gsize i = 0; i < len; i++) {
		char c = line[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = FALSE;
		} else if (c == '"') {
			in_string = TRUE;
		} else if (c == ',' || c == '[' || c == '{') {
			if (++count > MAX_ELEMENTS)
				return FALSE;
		}
	}
	return TRUE;
}

enum journal_parsed_kind journal_parse_line(const char *line, gsize len, json_t **root)
{
	json_error_t error;

	*root = NULL;
	if (len == 0)
		return JOURNAL_PARSED_EMPTY;
	if (len > JOURNAL_LINE_MAX)
		return JOURNAL_PARSED_TOO_LONG;
	if (len > SCAN_ELEMENTS_ABOVE && !few_elements(line, len))
		return JOURNAL_PARSED_TOO_MANY;
	/* jansson rejects NUL bytes, invalid UTF-8 and anything after the
	 * object. */
	*root = json_loadb(line, len, 0, &error);
	if (!*root || !json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		return JOURNAL_PARSED_NOT_JSON;
	}
	return JOURNAL_PARSED_JSON;
}

/* ---- batches ---- */

struct entry {
	guint8 kind;        /* enum journal_parsed_kind; JOURNAL_PARSED_JSON: to parse */
	guint32 start, len; /* in raw */
	json_t *root;
};

struct batch {
	guint64 seq;
	gboolean last; /* nothing follows it */
	struct arena arena;
	GByteArray *raw; /* the lines' bytes */
	struct entry entries[BATCH_LINES];
	char *slots; /* BATCH_LINES decoded lines of fns->slot_size */
	guint n;
};

struct pipeline {
	int fd;
	GAsyncQueue *empty;                 /* struct batch *: for the splitter */
	GAsyncQueue *todo;                  /* for the parsers; STOP ends one */
	GAsyncQueue *parsed;                /* for the caller, in any order */
	int cancel;                         /* atomic: the caller stopped */
	struct journal_parse_counts counts; /* the splitter's; read after the join */
	const struct journal_parse_fns *fns;
	gboolean go_on; /* the caller's: apply has not stopped */
};

/* A parser's signal to end. */
static struct batch stop_batch;
#define STOP (&stop_batch)

static void batch_reset(struct batch *b, guint64 seq)
{
	b->seq = seq;
	b->last = FALSE;
	b->n = 0;
	b->arena.used = 0;
	b->arena.spilled = FALSE;
	g_byte_array_set_size(b->raw, 0);
}

static void *batch_slot(const struct pipeline *pl, const struct batch *b, guint i)
{
	return b->slots + i * pl->fns->slot_size;
}

/* Parses a batch's lines into its arena and decodes each at once, while
 * its values are still in this CPU's cache: the applying thread then
 * reads a compact record, not a tree another CPU built. */
static void batch_parse(struct pipeline *pl, struct batch *b)
{
	gboolean cancelled = __atomic_load_n(&pl->cancel, __ATOMIC_RELAXED);

	current_arena = b->arena.base ? &b->arena : NULL;
	for (guint i = 0; i < b->n; i++) {
		struct entry *e = &b->entries[i];
		void *slot = batch_slot(pl, b, i);

		if (e->kind == JOURNAL_PARSED_JSON) {
			if (cancelled)
				e->kind = JOURNAL_PARSED_EMPTY;
			else
				e->kind = (guint8)journal_parse_line(
				    (const char *)b->raw->data + e->start, e->len, &e->root);
		}
		memset(slot, 0, pl->fns->slot_size);
		pl->fns->decode((enum journal_parsed_kind)e->kind, e->root, slot,
		                pl->fns->decode_data);
	}
	current_arena = NULL;
}

/* The caller's side: hands a batch's lines to fn, in order. The values
 * are freed with their arena unless some did not fit in it. */
static void batch_apply(struct pipeline *pl, struct batch *b)
{
	for (guint i = 0; i < b->n; i++) {
		struct entry *e = &b->entries[i];

		/* Called after a stop too: it releases what decode made. */
		if (!pl->fns->apply((enum journal_parsed_kind)e->kind, e->root,
		                    batch_slot(pl, b, i), pl->fns->data))
			pl->go_on = FALSE;
		if (b->arena.spilled || !b->arena.base)
			json_decref(e->root);
		e->root = NULL;
	}
	if (!pl->go_on)
		__atomic_store_n(&pl->cancel, 1, __ATOMIC_RELAXED);
}

static void *parser_thread(void *data)
{
	struct pipeline *pl = data;
	struct batch *b;

	while ((b = g_async_queue_pop(pl->todo)) != STOP) {
		batch_parse(pl, b);
		g_async_queue_push(pl->parsed, b);
	}
	return NULL;
}

/* The splitter (the first helper thread): cuts the fd's bytes into lines,
 * copied into batches for the parsers. With no parser threads (threads
 * refused), it parses and applies each batch itself. */
struct splitter {
	struct pipeline *pl;
	struct batch *b;
	guint64 seq;
	gboolean alone;
};

static void hand_over(struct splitter *sp, gboolean last)
{
	struct pipeline *pl = sp->pl;

	sp->b->last = last;
	if (sp->alone) {
		batch_parse(pl, sp->b);
		batch_apply(pl, sp->b);
		batch_reset(sp->b, ++sp->seq);
		return;
	}
	g_async_queue_push(pl->todo, sp->b);
	if (last)
		return;
	sp->b = g_async_queue_pop(pl->empty);
	batch_reset(sp->b, ++sp->seq);
}

static void add_line(struct splitter *sp, enum journal_parsed_kind kind, const char *line,
                     gsize len)
{
	struct batch *b = sp->b;
	struct entry *e;

	if (b->n > 0 && (b->raw->len + len > BATCH_BYTES || len > SCAN_ELEMENTS_ABOVE))
		hand_over(sp, FALSE);
	b = sp->b;
	e = &b->entries[b->n++];
	e->kind = (guint8)kind;
	e->root = NULL;
	e->start = b->raw->len;
	e->len = (guint32)len;
	if (kind == JOURNAL_PARSED_JSON)
		g_byte_array_append(b->raw, (const guint8 *)line, (guint)len);
	if (b->n == BATCH_LINES || len > SCAN_ELEMENTS_ABOVE)
		hand_over(sp, FALSE);
}

static void split(struct pipeline *pl, struct batch *first, gboolean alone)
{
	struct splitter sp = {.pl = pl, .b = first, .alone = alone};
	gsize cap = READ_CHUNK, start = 0, end = 0;
	g_autofree char *buf = g_malloc(cap);
	gboolean skipping = FALSE; /* inside a line longer than JOURNAL_LINE_MAX */

	batch_reset(sp.b, 0);
	while (!__atomic_load_n(&pl->cancel, __ATOMIC_RELAXED)) {
		char *nl = memchr(buf + start, '\n', end - start);
		ssize_t n;

		if (nl) {
			gsize len = (gsize)(nl - buf) - start;

			if (skipping)
				skipping = FALSE;
			else
				add_line(&sp, JOURNAL_PARSED_JSON, buf + start, len);
			start = (gsize)(nl - buf) + 1;
			continue;
		}
		if (!skipping && end - start > JOURNAL_LINE_MAX) {
			/* Counted once, then read past without keeping it. */
			add_line(&sp, JOURNAL_PARSED_TOO_LONG, NULL, 0);
			skipping = TRUE;
		}
		if (skipping)
			start = end = 0;
		if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			start = 0;
		}
		if (end == cap) {
			cap = MIN(cap * 2, (gsize)JOURNAL_LINE_MAX + READ_CHUNK);
			buf = g_realloc(buf, cap);
		}
		n = read(pl->fd, buf + end, MIN(cap - end, (gsize)READ_CHUNK));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pl->counts.read_errors++;
			break;
		}
		if (n == 0) {
			/* A line without its newline: the writer died in the
			 * middle of it, or the file was cut. Never applied. */
			if (end > start && !skipping)
				add_line(&sp, JOURNAL_PARSED_TORN, NULL, 0);
			break;
		}
		pl->counts.bytes += (guint64)n;
		end += (gsize)n;
	}
	hand_over(&sp, TRUE);
}

static void *splitter_thread(void *data)
{
	struct pipeline *pl = data;

	split(pl, g_async_queue_pop(pl->empty), FALSE);
	for (guint i = 0; i < PARSERS; i++)
		g_async_queue_push(pl->todo, STOP);
	return NULL;
}

/* ---- the caller's side ---- */

#define BATCHES (PARSERS + 2)

static gboolean start_thread(pthread_t *thread, void *(*fn)(void *), void *data)
{
	sigset_t all, old;
	int err;

	/* No signal but SIGSYS (the seccomp filter's report). */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(thread, NULL, fn, data);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err == 0;
}

gboolean journal_parse_fd(int fd, gboolean threaded, const struct journal_parse_fns *fns,
                          struct journal_parse_counts *counts)
{
	struct pipeline pl = {.fd = fd, .fns = fns, .go_on = TRUE};
	guint n_batches = threaded ? BATCHES : 1;
	struct batch *batches = g_new0(struct batch, n_batches);
	struct batch *waiting[BATCHES] = {NULL};
	char *arenas = NULL;
	int slot = -1;
	pthread_t parsers[PARSERS], splitter;
	guint started = 0;
	guint64 next = 0;
	gboolean last = FALSE;

	pl.empty = g_async_queue_new();
	pl.todo = g_async_queue_new();
	pl.parsed = g_async_queue_new();
	if (threaded) {
		arenas = g_malloc(BATCHES * (gsize)ARENA_SIZE);
		slot = arenas_register(arenas, BATCHES * (gsize)ARENA_SIZE);
	}
	for (guint i = 0; i < n_batches; i++) {
		batches[i].raw = g_byte_array_sized_new(threaded ? BATCH_BYTES + 4096 : 4096);
		batches[i].slots = g_malloc(BATCH_LINES * fns->slot_size);
		if (slot >= 0) {
			batches[i].arena.base = arenas + i * (gsize)ARENA_SIZE;
			batches[i].arena.size = ARENA_SIZE;
		}
		g_async_queue_push(pl.empty, &batches[i]);
	}
	while (threaded && started < PARSERS && start_thread(&parsers[started], parser_thread, &pl))
		started++;
	if (started < PARSERS || !start_thread(&splitter, splitter_thread, &pl)) {
		/* Not worth threads, or threads refused: read here alone. */
		for (guint i = 0; i < started; i++)
			g_async_queue_push(pl.todo, STOP);
		for (guint i = 0; i < started; i++)
			pthread_join(parsers[i], NULL);
		started = 0;
		split(&pl, g_async_queue_pop(pl.empty), TRUE);
		last = TRUE;
	}
	/* Apply the batches in their order, whatever order they come in. */
	while (!last) {
		struct batch *b = waiting[next % BATCHES];

		if (b && b->seq == next) {
			waiting[next % BATCHES] = NULL;
		} else {
			b = g_async_queue_pop(pl.parsed);
			if (b->seq != next) {
				waiting[b->seq % BATCHES] = b;
				continue;
			}
		}
		batch_apply(&pl, b);
		last = b->last;
		next++;
		g_async_queue_push(pl.empty, b);
	}
	if (started > 0) {
		pthread_join(splitter, NULL);
		for (guint i = 0; i < started; i++)
			pthread_join(parsers[i], NULL);
	}
	arenas_unregister(slot);
	g_free(arenas);
	for (guint i = 0; i < n_batches; i++) {
		g_byte_array_unref(batches[i].raw);
		g_free(batches[i].slots);
	}
	g_free(batches);
	g_async_queue_unref(pl.empty);
	g_async_queue_unref(pl.todo);
	g_async_queue_unref(pl.parsed);
	counts->bytes += pl.counts.bytes;
	counts->read_errors += pl.counts.read_errors;
	return pl.go_on;
}
