/* crypto.c: HKDF-SHA256, TLS 1.3 HKDF-Expand-Label, an AES-128 block and AES-128-GCM
 * over libcrypto's EVP interface, for removing QUIC Initial packet protection
 * (RFC 9001 5), and SHA-1 for Community ID and alert ids. The rules are in
 * include/crypto.h. This is the only module that includes OpenSSL headers.
 */
#include "crypto.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#define CRYPTO_TLS13_PREFIX "tls13 "
#define CRYPTO_TLS13_PREFIX_LEN (sizeof(CRYPTO_TLS13_PREFIX) - 1)
/* uint16 length, uint8 label length, label, uint8 context length (RFC 8446 7.1) */
#define CRYPTO_HKDF_LABEL_MAX (2 + 1 + 255 + 1)

/* One HKDF derivation (RFC 5869) with SHA-256 in the given EVP_PKEY_HKDEF_MODE_*. */
static int crypto_hkdf(int mode, const uint8_t *salt, size_t saltlen, const uint8_t *key,
		       size_t keylen, const uint8_t *info, size_t infolen, uint8_t *out,
		       size_t outlen)
{
	EVP_PKEY_CTX *pctx;
	size_t n = outlen;
	int rc = -1;

	if (saltlen > INT_MAX || keylen > INT_MAX || infolen > INT_MAX || outlen == 0)
		return -1;
	pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (pctx == NULL)
		return -1;
	if (EVP_PKEY_derive_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_mode(pctx, mode) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(pctx, key, (int)keylen) <= 0)
		goto out;
	if (saltlen > 0 && EVP_PKEY_CTX_set1_hkdf_salt(pctx, salt, (int)saltlen) <= 0)
		goto out;
	if (infolen > 0 && EVP_PKEY_CTX_add1_hkdf_info(pctx, info, (int)infolen) <= 0)
		goto out;
	if (EVP_PKEY_derive(pctx, out, &n) <= 0 || n != outlen)
		goto out;
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

int crypto_hkdf_extract_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
			       size_t ikmlen, uint8_t *out32)
{
	/* An empty IKM is legal HKDF, but OpenSSL refuses a NULL key. HMAC pads its key
	 * with zeros (RFC 2104 2), so one zero byte is the same key as none. */
	static const uint8_t zero = 0;

	if (ikmlen == 0)
		ikm = &zero, ikmlen = 1;
	return crypto_hkdf(EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY, salt, saltlen, ikm, ikmlen, NULL,
			   0, out32, CRYPTO_SHA256_LEN);
}

int crypto_hkdf_expand_label_sha256(const uint8_t *secret32, const char *label, uint8_t *out,
				    size_t outlen)
{
	uint8_t info[CRYPTO_HKDF_LABEL_MAX];
	size_t llen = strlen(label);
	size_t n = 0;

	if (outlen == 0 || outlen > 255 || llen > CRYPTO_LABEL_MAX)
		return -1;
	/* struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel */
	info[n++] = (uint8_t)(outlen >> 8);
	info[n++] = (uint8_t)outlen;
	info[n++] = (uint8_t)(CRYPTO_TLS13_PREFIX_LEN + llen);
	memcpy(info + n, CRYPTO_TLS13_PREFIX, CRYPTO_TLS13_PREFIX_LEN);
	n += CRYPTO_TLS13_PREFIX_LEN;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = 0;		/* empty context */
	return crypto_hkdf(EVP_PKEY_HKDEF_MODE_EXPAND_ONLY, NULL, 0, secret32, CRYPTO_SHA256_LEN,
			   info, n, out, outlen);
}

int crypto_aes128_ecb_block(const uint8_t *key16, const uint8_t *in16, uint8_t *out16)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key16, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, out16, &n, in16, CRYPTO_AES_BLOCK_LEN) != 1 ||
	    n != CRYPTO_AES_BLOCK_LEN)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* Common set-up of an AES-128-GCM context with a 12-byte IV and the AAD. */
static int crypto_gcm_init(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *key16,
			   const uint8_t *iv12, const uint8_t *aad, size_t aadlen)
{
	int n = 0;

	if (EVP_CipherInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_GCM_IV_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key16, iv12, enc) != 1)
		return -1;
	if (aadlen > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		return -1;
	return 0;
}

int crypto_aes128_gcm_open(const uint8_t *key16, const uint8_t *iv12, const uint8_t *aad,
			   size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t tag[CRYPTO_GCM_TAG_LEN];
	uint8_t scratch[1];
	EVP_CIPHER_CTX *ctx;
	size_t ptlen;
	int n = 0, fin = 0;
	int rc = -1;

	if (ctlen < CRYPTO_GCM_TAG_LEN || ctlen > INT_MAX || aadlen > INT_MAX)
		return -1;
	ptlen = ctlen - CRYPTO_GCM_TAG_LEN;
	memcpy(tag, ct + ptlen, sizeof(tag));	/* the ctrl below takes a non-const pointer */
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		goto wipe;
	if (crypto_gcm_init(ctx, 0, key16, iv12, aad, aadlen) != 0)
		goto out;
	if (ptlen > 0 && (EVP_DecryptUpdate(ctx, out, &n, ct, (int)ptlen) != 1 ||
			  (size_t)n != ptlen))
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, ptlen > 0 ? out + ptlen : scratch, &fin) != 1 || fin != 0)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
wipe:
	if (rc != 0 && ptlen > 0)
		memset(out, 0, ptlen);	/* never hand out unauthenticated plaintext */
	return rc;
}

int crypto_aes128_gcm_seal(const uint8_t *key16, const uint8_t *iv12, const uint8_t *aad,
			   size_t aadlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0;
	int rc = -1;

	if (ptlen > INT_MAX - CRYPTO_GCM_TAG_LEN || aadlen > INT_MAX)
		return -1;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return -1;
	if (crypto_gcm_init(ctx, 1, key16, iv12, aad, aadlen) != 0)
		goto out;
	if (ptlen > 0 && (EVP_EncryptUpdate(ctx, out, &n, pt, (int)ptlen) != 1 ||
			  (size_t)n != ptlen))
		goto out;
	if (EVP_EncryptFinal_ex(ctx, out + ptlen, &fin) != 1 || fin != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN, out + ptlen) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* Every flow record and alert carries a Community ID: the digest is fetched once and
 * a context kept per thread, instead of EVP_Digest's fetch, allocation and free on
 * every call (which cost twice the hash of the one block a flow tuple fills). */
static _Thread_local EVP_MD_CTX *sha1_ctx;
static EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void sha1_fetch(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

int crypto_sha1(const void *in, size_t n, uint8_t out20[CRYPTO_SHA1_LEN])
{
	unsigned int mdlen = 0;

	pthread_once(&sha1_once, sha1_fetch);
	if (!sha1_ctx)
		sha1_ctx = EVP_MD_CTX_new();
	if (!sha1_md || !sha1_ctx) {
		if (EVP_Digest(in, n, out20, &mdlen, EVP_sha1(), NULL) != 1)
			return -1;
	} else if (EVP_DigestInit_ex2(sha1_ctx, sha1_md, NULL) != 1 ||
		   EVP_DigestUpdate(sha1_ctx, in, n) != 1 ||
		   EVP_DigestFinal_ex(sha1_ctx, out20, &mdlen) != 1) {
		return -1;
	}
	return mdlen == CRYPTO_SHA1_LEN ? 0 : -1;
}
