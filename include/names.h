/* names.h: interned, reference-counted names (SNI, Host, DNS names, banners) kept once
 * however many flows carry them, in a store of fixed capacity.
 *
 * An id is valid while someone holds a reference. 0 is "no name". When the store is
 * full names_intern returns 0 and the caller counts names.store_full.
 */
#ifndef EGRESSD_NAMES_H
#define EGRESSD_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAMES_MAX_LEN 255

struct names;

struct names *names_create(uint32_t capacity);
void names_destroy(struct names *n);

/* A reference to the name s[0..len) (cut at NAMES_MAX_LEN bytes); 0 if full. */
uint32_t names_intern(struct names *n, const void *s, size_t len);
void names_ref(struct names *n, uint32_t id);
void names_unref(struct names *n, uint32_t id);

/* The bytes of a name (not NUL-terminated: binary-safe); NULL for id 0. */
const char *names_get(const struct names *n, uint32_t id, size_t *len);

uint32_t names_count(const struct names *n);

#endif
