// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ed25519 key pairs and their one-line text files. A key id is the hex
 * sha256 of the 32-byte public key, so it can be recomputed from the key
 * and never has to be trusted. Secrets are wiped from every buffer they
 * pass through. Signing and verifying live in trust-envelope.c.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "trust-int.h"

#define PUB_TAG	    "kcare-ed25519-public "
#define SEC_TAG	    "kcare-ed25519-secret "
#define KEYFILE_MAX 4096

void kc_trust_pubkey_set_keyid(struct kc_trust_pubkey *pub)
{
	unsigned char sha[KC_TRUST_SHA256_BYTES];

	kc_trust_sha256(pub->pk, sizeof(pub->pk), sha);
	kc_trust_hex(sha, sizeof(sha), pub->keyid);
}

int kc_trust_key_generate(struct kc_trust_key *key, struct kc_err *err)
{
	if (sodium_init() < 0)
		return kc_err_set(err, -EIO, "cannot initialise libsodium");
	crypto_sign_keypair(key->pub.pk, key->sk);
	kc_trust_pubkey_set_keyid(&key->pub);
	return 0;
}

void kc_trust_key_wipe(struct kc_trust_key *key)
{
	if (key)
		sodium_memzero(key->sk, sizeof(key->sk));
}

static int save_line(const char *tag, const unsigned char *bin, size_t n, const char *path,
		     unsigned int mode, struct kc_err *err)
{
	char *b64 = kc_trust_b64(bin, n);
	size_t len;
	char *line;
	int rc;

	if (!b64)
		return kc_err_set(err, -ENOMEM, "out of memory");
	len = strlen(tag) + strlen(b64) + 1;
	line = malloc(len + 1);
	if (!line) {
		sodium_memzero(b64, strlen(b64));
		free(b64);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	snprintf(line, len + 1, "%s%s\n", tag, b64);
	rc = kc_file_write_atomic(path, line, len, mode, err);
	sodium_memzero(b64, strlen(b64));
	sodium_memzero(line, len);
	free(b64);
	free(line);
	return rc;
}

int kc_trust_pubkey_save(const struct kc_trust_pubkey *pub, const char *path, struct kc_err *err)
{
	return save_line(PUB_TAG, pub->pk, sizeof(pub->pk), path, 0644, err);
}

int kc_trust_key_save(const struct kc_trust_key *key, const char *path, struct kc_err *err)
{
	return save_line(SEC_TAG, key->sk, sizeof(key->sk), path, 0600, err);
}

/* "<tag><base64>" with an optional final newline, decoded into exactly @n bytes. */
static int parse_line(const char *text, size_t len, const char *tag, unsigned char *bin, size_t n)
{
	size_t taglen = strlen(tag);

	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len < taglen || memcmp(text, tag, taglen) != 0)
		return -EBADMSG;
	if (memchr(text, '\0', len))
		return -EBADMSG;
	return kc_trust_unb64_exact(text + taglen, len - taglen, bin, n) ? -EBADMSG : 0;
}

int kc_trust_pubkey_parse(const char *text, size_t len, struct kc_trust_pubkey *pub,
			  struct kc_err *err)
{
	if (parse_line(text, len, PUB_TAG, pub->pk, sizeof(pub->pk)))
		return kc_err_set(err, -EBADMSG, "not a kcare ed25519 public key");
	kc_trust_pubkey_set_keyid(pub);
	return 0;
}

int kc_trust_pubkey_load(const char *path, struct kc_trust_pubkey *pub, struct kc_err *err)
{
	unsigned char *buf;
	size_t len;
	int rc = kc_trust_read_file(path, KEYFILE_MAX, &buf, &len, err);

	if (rc)
		return rc;
	rc = kc_trust_pubkey_parse((const char *)buf, len, pub, err);
	free(buf);
	if (rc)
		return kc_err_prefix(err, "'%s'", path);
	return 0;
}

int kc_trust_key_load(const char *path, struct kc_trust_key *key, struct kc_err *err)
{
	unsigned char *buf, pk[KC_TRUST_KEY_BYTES], seedsk[KC_TRUST_SECRET_BYTES];
	size_t len;
	int rc = kc_trust_read_file(path, KEYFILE_MAX, &buf, &len, err);

	if (rc)
		return rc;
	if (sodium_init() < 0) {
		rc = kc_err_set(err, -EIO, "cannot initialise libsodium");
		goto out;
	}
	if (parse_line((const char *)buf, len, SEC_TAG, key->sk, sizeof(key->sk))) {
		rc = kc_err_set(err, -EBADMSG, "'%s': not a kcare ed25519 secret key", path);
		goto out;
	}
	/* the stored public half must be the one the seed derives */
	crypto_sign_seed_keypair(pk, seedsk, key->sk);
	if (sodium_memcmp(pk, key->sk + 32, sizeof(pk)) != 0) {
		kc_trust_key_wipe(key);
		rc = kc_err_set(err, -EKEYREJECTED, "'%s': public half does not match the seed",
				path);
		goto out;
	}
	memcpy(key->pub.pk, pk, sizeof(pk));
	kc_trust_pubkey_set_keyid(&key->pub);
	rc = 0;
out:
	sodium_memzero(seedsk, sizeof(seedsk));
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}
