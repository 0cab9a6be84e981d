/* names.c: the name store: entries in a fixed array with a free list, found through an
 * open-addressing index of entry numbers (linear probing, backward-shift deletion). */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "siphash.h"

struct name_entry {
	uint32_t hash;
	uint32_t refs; /* 0: free, `next_free` valid */
	uint32_t next_free;
	uint16_t len;
	char s[NAMES_MAX_LEN + 1];
};

struct names {
	struct name_entry *e;
	uint32_t cap, used, free_head, live;
	uint32_t *index; /* entry number + 1; 0 empty */
	uint32_t mask;
	struct khash_key key;
};

struct names *names_create(uint32_t capacity)
{
	struct names *n = calloc(1, sizeof(*n));
	uint32_t slots = 16;
	if (!n || capacity == 0)
		goto fail;
	while (slots < capacity * 2u && slots < (1u << 30))
		slots <<= 1;
	n->e = calloc(capacity + 1u, sizeof(*n->e)); /* entry 0 unused: id 0 is "none" */
	n->index = calloc(slots, sizeof(*n->index));
	if (!n->e || !n->index)
		goto fail;
	n->cap = capacity;
	n->used = 1;
	n->free_head = 0;
	n->mask = slots - 1;
	khash_key_random(&n->key);
	return n;
fail:
	names_destroy(n);
	return NULL;
}

void names_destroy(struct names *n)
{
	if (!n)
		return;
	free(n->e);
	free(n->index);
	free(n);
}

uint32_t names_intern(struct names *n, const void *s, size_t len)
{
	if (len > NAMES_MAX_LEN)
		len = NAMES_MAX_LEN;
	uint32_t h = (uint32_t)khash(&n->key, s, len);
	uint32_t pos = h & n->mask;
	for (uint32_t k = 0; k <= n->mask; k++, pos = (pos + 1) & n->mask) {
		uint32_t id = n->index[pos];
		if (id == 0)
			break;
		struct name_entry *e = &n->e[id];
		if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0) {
			e->refs++;
			return id;
		}
	}
	uint32_t id;
	if (n->free_head) {
		id = n->free_head;
		n->free_head = n->e[id].next_free;
	} else if (n->used <= n->cap) {
		id = n->used++;
	} else {
		return 0;
	}
	struct name_entry *e = &n->e[id];
	e->hash = h;
	e->refs = 1;
	e->len = (uint16_t)len;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	n->index[pos] = id;
	n->live++;
	return id;
}

void names_ref(struct names *n, uint32_t id)
{
	if (id)
		n->e[id].refs++;
}

static void index_delete(struct names *n, uint32_t id)
{
	uint32_t i = n->e[id].hash & n->mask;
	while (n->index[i] != id)
		i = (i + 1) & n->mask;
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & n->mask;
		if (n->index[j] == 0)
			break;
		uint32_t home = n->e[n->index[j]].hash & n->mask;
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		n->index[i] = n->index[j];
		i = j;
	}
	n->index[i] = 0;
}

void names_unref(struct names *n, uint32_t id)
{
	if (!id || n->e[id].refs == 0)
		return;
	if (--n->e[id].refs)
		return;
	index_delete(n, id);
	n->e[id].next_free = n->free_head;
	n->free_head = id;
	n->live--;
}

const char *names_get(const struct names *n, uint32_t id, size_t *len)
{
	if (!id) {
		*len = 0;
		return NULL;
	}
	*len = n->e[id].len;
	return n->e[id].s;
}

uint32_t names_count(const struct names *n)
{
	return n->live;
}
