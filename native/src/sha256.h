/* SHA-256 (FIPS 180-4), for the files API's etags: small enough to read in one sitting. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t h[8];
  uint64_t bytes;
  uint8_t block[64];
  size_t used;
} sha256_t;

void sha256_init(sha256_t *s);
void sha256_update(sha256_t *s, const void *data, size_t len);
/* Writes 64 lowercase hex digits and a NUL. */
void sha256_hex(sha256_t *s, char out[65]);
