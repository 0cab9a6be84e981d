/* crc32.h: CRC-32 as in IEEE 802.3, zlib and PNG (reflected, polynomial 0xEDB88320,
 * register preset to all ones and inverted at the end), the checksum of egressd's own
 * files (the baseline, the spool). Check value: crc32_update(0, "123456789", 9) is
 * 0xCBF43926. Table-light (16 entries) rather than fast: the files it guards are small
 * or written once per record.
 */
#ifndef EGRESSD_CRC32_H
#define EGRESSD_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of len bytes, continuing from crc (0 to start): crc32_update(crc32_update(0,
 * a, n), b, m) is the CRC of a followed by b. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
