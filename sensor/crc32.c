/* crc32.c: CRC-32 (IEEE 802.3), four bits at a time. See crc32.h. */
#include "crc32.h"

/* CRC-32 as in IEEE 802.3, zlib and PNG: reflected (least significant bit first),
 * polynomial 0x04C11DB7 whose bit reversal is 0xEDB88320, register preset to all ones and
 * inverted at the end; the check value of "123456789" is 0xCBF43926. Processed four bits
 * at a time: entry n is the register after shifting the nibble n through four rounds of
 * "shift right, xor the polynomial if the bit shifted out was 1". */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}
