/* dns.c: libFuzzer target for the DNS message parser: header, questions and answers,
 * with compression pointers (loops, chains, forward pointers) in names. */
#include "fuzz.h"
#include "l7-dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct l7_dns_msg m;
	uint8_t *buf = fuzz_dup(data, size);

	memset(&m, 0, sizeof(m));
	enum l7_result r = l7_dns_parse(buf, size, &m);
	FUZZ_CHECK(r == L7_OK || r == L7_MALFORMED);
	FUZZ_CHECK(strlen(m.qname) <= L7_DNS_NAME_MAX);
	FUZZ_CHECK(m.n_addrs <= L7_DNS_MAX_ADDRS);
	FUZZ_CHECK(m.answers_parsed <= L7_DNS_MAX_RECORDS);
	for (int i = 0; i < m.n_addrs; i++)
		FUZZ_CHECK(m.addrs[i].family == 4 || m.addrs[i].family == 6);
	free(buf);
	return 0;
}
