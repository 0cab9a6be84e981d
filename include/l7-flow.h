/* l7-flow.h: application-layer inspection of flows: decides which parser reads a flow,
 * reassembles the first bytes a client sends (bounded), and keeps what was learnt
 * (SNI and ALPN from TLS over TCP and from QUIC Initials, HTTP method and Host, DNS names, SSH banners, SMTP HELO/MAIL FROM, FTP
 * data connections tied to their control connection) in the flow's extension area.
 *
 * Only the first packets of a flow are inspected (FTP control connections excepted:
 * their data connections can be announced at any time). Names live in the name store;
 * the l7 state holds one reference per name and releases them in l7_flow_end().
 */
#ifndef EGRESSD_L7_FLOW_H
#define EGRESSD_L7_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "anomaly.h"
#include "flow.h"
#include "l7-dns-cache.h"
#include "names.h"

/* Payload-carrying packets looked at before a flow with no recognised protocol is
 * left alone. */
#define L7_MAX_INSPECT 16
#define L7_FTP_EXPECT_MAX 256
#define L7_FTP_EXPECT_TIMEOUT_S 300

enum l7_app {
	L7_APP_NONE = 0,
	L7_APP_TLS,
	L7_APP_HTTP,
	L7_APP_DNS,
	L7_APP_SSH,
	L7_APP_FTP,
	L7_APP_FTP_DATA,
	L7_APP_SMTP,
	L7_APP_QUIC,
	L7_APP__COUNT
};

/* The first part of the flow's extension (flow_ext()), all zeros until the flow is
 * first inspected. The names a parser learns belong to its application alone, so they
 * share their storage: read them only for that app (l7_destination_name does). */
struct l7_flow {
	uint8_t app;	   /* enum l7_app, set once */
	uint8_t done;	   /* nothing more to learn */
	uint8_t inspected; /* payload packets looked at */
	uint8_t tls_flags; /* L7_TLS_F_* (TLS, QUIC) */
	uint8_t dns_rcode; /* DNS */
	uint8_t seq_known;
	uint8_t pad[2];
	uint32_t dns_name; /* any app: the name the responder's address resolved from */
	uint32_t buf;	   /* reassembly buffer index + 1, 0 = none */
	uint32_t buf_len;
	uint32_t next_seq; /* next expected initiator TCP sequence number */
	union {
		struct {
			uint32_t sni, alpn; /* TLS, QUIC */
		};
		struct {
			uint32_t http_method, http_host; /* HTTP */
		};
		struct {
			uint32_t dns_qname; /* DNS */
			uint16_t dns_qtype;
			uint16_t dns_answers;
		};
		struct {
			uint32_t ssh_client, ssh_server; /* SSH */
		};
		struct {
			uint32_t smtp_helo, smtp_from; /* SMTP */
		};
		uint32_t ftp_user;  /* FTP */
		uint64_t parent_id; /* FTP data connection: id of its control flow */
	};
};

#define L7_TLS_F_TLS13 0x01
#define L7_TLS_F_ECH 0x02

/* Called for every DNS query (not response) an L7 parser reads, with the query's
 * sender: later stages (DNS tunnel detection) hook in here without l7 knowing them. */
typedef void (*l7_dns_query_fn)(void *ctx, int family, const uint8_t src[16],
				const char *qname, size_t qlen, uint16_t qtype, uint64_t now_us);

struct l7_config {
	uint32_t buffers;     /* reassembly buffers (also hold QUIC Initial CRYPTO streams) */
	uint32_t buffer_size; /* bytes each; QUIC needs sizeof(struct l7_quic_crypto) */
	l7_dns_query_fn on_dns_query; /* may be NULL */
	void *ctx;
	struct flow_table *flows; /* the table whose flows' extensions hold the state */
};

struct l7_stats {
	uint64_t flows_by_app[L7_APP__COUNT];
	uint64_t buffers_in_use, buffers_peak;
	uint64_t ftp_data_linked;
};

struct l7;

struct l7 *l7_create(const struct l7_config *cfg, struct names *names, struct dns_cache *dns,
		     struct anomaly_counts *anom);
void l7_destroy(struct l7 *l);

/* A packet of flow f (side: canonical side of the sender; created: f is new). */
void l7_packet(struct l7 *l, struct flow *f, const struct pkt_layer *pl, int side,
	       bool created, uint64_t now_us);

/* Release what the flow holds (names, buffer). Called when the flow ends for good. */
void l7_flow_end(struct l7 *l, struct flow *f);

const struct l7_stats *l7_stats(const struct l7 *l);

/* "tls", "http", "dns", "ssh", "ftp", "ftp-data", "smtp", "quic"; NULL for none. */
const char *l7_app_name(enum l7_app a);

/* The name that identifies the responder: SNI, else HTTP Host, else the DNS answer
 * that resolved its address (else 0). */
uint32_t l7_destination_name(const struct l7_flow *s);

#endif
