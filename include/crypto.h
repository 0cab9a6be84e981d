/* crypto.h: the few primitives egressd needs to read a QUIC client's Initial packets
 * (RFC 9001 5): HKDF-SHA256, the TLS 1.3 HKDF-Expand-Label, one AES-128 block for
 * header protection and AES-128-GCM; SHA-1 for Community ID and alert ids. Thin wrappers
 * over libcrypto (OpenSSL 3); sensor/crypto.c is the only module that includes OpenSSL
 * headers. Every function returns 0 on success and -1 on failure, allocates
 * at most the OpenSSL context it works with and frees it before returning, except
 * crypto_sha1, which keeps one context per thread (it runs once per flow record). They
 * may be called from several threads at once.
 */
#ifndef EGRESSD_CRYPTO_H
#define EGRESSD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA1_LEN 20
#define CRYPTO_AES128_KEY_LEN 16
#define CRYPTO_AES_BLOCK_LEN 16
#define CRYPTO_GCM_IV_LEN 12
#define CRYPTO_GCM_TAG_LEN 16
#define CRYPTO_LABEL_MAX 249	/* 255 minus the "tls13 " prefix (RFC 8446 7.1) */

/* HKDF-Extract (RFC 5869 2.2) with SHA-256: out32 (32 bytes) = HMAC-SHA256(salt, ikm).
 * salt may be NULL with saltlen 0 (the RFC's default of HashLen zero bytes). */
int crypto_hkdf_extract_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
			       size_t ikmlen, uint8_t *out32);

/* HKDF-Expand-Label (RFC 8446 7.1) with SHA-256 and an empty context: out (outlen bytes,
 * 1..255) = HKDF-Expand(secret32, HkdfLabel), where HkdfLabel is
 * { uint16 length = outlen; opaque label<7..255> = "tls13 " + label; opaque context<0..255> = "" }.
 * label is a C string of at most CRYPTO_LABEL_MAX bytes, e.g. "client in", "quic key". */
int crypto_hkdf_expand_label_sha256(const uint8_t *secret32, const char *label, uint8_t *out,
				    size_t outlen);

/* One AES-128 block in ECB mode: out16 = AES-128-Encrypt(key16, in16). This is the QUIC
 * header protection mask (RFC 9001 5.4.3). */
int crypto_aes128_ecb_block(const uint8_t *key16, const uint8_t *in16, uint8_t *out16);

/* AES-128-GCM decryption and authentication (RFC 5116, as used by RFC 9001 5.3). ct is
 * the ciphertext followed by its 16-byte tag, so ctlen >= 16; the ctlen - 16 plaintext
 * bytes go to out (which may be NULL when ctlen is 16). aad may be NULL with aadlen 0.
 * Returns -1, with out zeroed, if the tag does not verify. out must not overlap ct. */
int crypto_aes128_gcm_open(const uint8_t *key16, const uint8_t *iv12, const uint8_t *aad,
			   size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *out);

/* The inverse of crypto_aes128_gcm_open(): out (ptlen + 16 bytes) = the ciphertext of pt
 * followed by the tag. egressd only reads traffic; the unit tests use this to build
 * QUIC packets. out must not overlap pt. */
int crypto_aes128_gcm_seal(const uint8_t *key16, const uint8_t *iv12, const uint8_t *aad,
			   size_t aadlen, const uint8_t *pt, size_t ptlen, uint8_t *out);

/* SHA-1 of in[0..n) into out20. */
int crypto_sha1(const void *in, size_t n, uint8_t out20[CRYPTO_SHA1_LEN]);


#endif
