/* l7-flow.c: which parser reads a flow, the bounded reassembly of the first bytes an
 * initiator sends, and what the parsers learn kept per flow (see l7-flow.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "l7-dns.h"
#include "l7-flow.h"
#include "l7-ftp.h"
#include "l7-http.h"
#include "l7-quic.h"
#include "l7-smtp.h"
#include "l7-ssh.h"
#include "l7-tls.h"

/* Lines of an FTP/SMTP segment looked at. */
#define L7_MAX_LINES 32

struct ftp_expect {
	uint64_t expires_us; /* 0: free */
	uint64_t parent_id;
	uint8_t family;
	uint8_t resp[16]; /* the address and port the data connection goes to */
	uint16_t port;
	uint8_t init[16]; /* the address it comes from */
};

struct l7 {
	struct l7_config cfg;
	struct flow_ext_pool ext; /* a copy: one load less per packet */
	struct names *names;
	struct dns_cache *dns;
	struct anomaly_counts *anom;
	unsigned char *bufs;
	uint32_t *free_bufs;
	uint32_t nfree;
	struct ftp_expect expect[L7_FTP_EXPECT_MAX];
	uint32_t nexpect;
	struct l7_stats st;
};

static const char *const app_names[L7_APP__COUNT] = {
	[L7_APP_TLS] = "tls",	[L7_APP_HTTP] = "http",	    [L7_APP_DNS] = "dns",
	[L7_APP_SSH] = "ssh",	[L7_APP_FTP] = "ftp",	    [L7_APP_FTP_DATA] = "ftp-data",
	[L7_APP_SMTP] = "smtp",	[L7_APP_QUIC] = "quic",
};

const char *l7_app_name(enum l7_app a)
{
	return (unsigned)a < L7_APP__COUNT ? app_names[a] : NULL;
}

uint32_t l7_destination_name(const struct l7_flow *s)
{
	if ((s->app == L7_APP_TLS || s->app == L7_APP_QUIC) && s->sni)
		return s->sni;
	if (s->app == L7_APP_HTTP && s->http_host)
		return s->http_host;
	return s->dns_name;
}

struct l7 *l7_create(const struct l7_config *cfg, struct names *names, struct dns_cache *dns,
		     struct anomaly_counts *anom)
{
	struct l7 *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->cfg = *cfg;
	l->ext = *flow_table_ext_pool(cfg->flows);
	/* buffers hold structs (QUIC): keep each one aligned */
	l->cfg.buffer_size = (cfg->buffer_size + 63u) & ~63u;
	l->names = names;
	l->dns = dns;
	l->anom = anom;
	if (cfg->buffers) {
		l->bufs = calloc(cfg->buffers, l->cfg.buffer_size);
		l->free_bufs = calloc(cfg->buffers, sizeof(*l->free_bufs));
		if (!l->bufs || !l->free_bufs) {
			l7_destroy(l);
			return NULL;
		}
		for (uint32_t i = 0; i < cfg->buffers; i++)
			l->free_bufs[i] = cfg->buffers - i; /* index + 1, lowest handed out first */
		l->nfree = cfg->buffers;
	}
	return l;
}

void l7_destroy(struct l7 *l)
{
	if (!l)
		return;
	free(l->bufs);
	free(l->free_bufs);
	free(l);
}

const struct l7_stats *l7_stats(const struct l7 *l)
{
	return &l->st;
}

static void set_name(struct l7 *l, uint32_t *slot, const char *s, size_t n)
{
	if (*slot || n == 0)
		return;
	*slot = names_intern(l->names, s, n);
	if (!*slot)
		anomaly_count(l->anom, ANOM_NAME_STORE_FULL);
}

/* A reassembly buffer for s, or NULL (counted) when all are in use. */
static unsigned char *buf_take(struct l7 *l, struct l7_flow *s)
{
	if (l->nfree == 0) {
		anomaly_count(l->anom, ANOM_L7_BUFFER_EXHAUSTED);
		return NULL;
	}
	s->buf = l->free_bufs[--l->nfree];
	if (++l->st.buffers_in_use > l->st.buffers_peak)
		l->st.buffers_peak = l->st.buffers_in_use;
	s->buf_len = 0;
	return l->bufs + (size_t)(s->buf - 1) * l->cfg.buffer_size;
}

static void buf_release(struct l7 *l, struct l7_flow *s)
{
	if (!s->buf)
		return;
	l->free_bufs[l->nfree++] = s->buf;
	l->st.buffers_in_use--;
	s->buf = 0;
	s->buf_len = 0;
}

/* How many of the shared name words (sni/alpn, http_method/http_host, ...) an
 * application's flows hold names in. */
static const uint8_t app_names_held[L7_APP__COUNT] = {
	[L7_APP_TLS] = 2, [L7_APP_HTTP] = 2, [L7_APP_DNS] = 1, [L7_APP_SSH] = 2,
	[L7_APP_FTP] = 1, [L7_APP_SMTP] = 2, [L7_APP_QUIC] = 2,
};

_Static_assert(offsetof(struct l7_flow, alpn) == offsetof(struct l7_flow, sni) + 4 &&
		       offsetof(struct l7_flow, http_method) == offsetof(struct l7_flow, sni) &&
		       offsetof(struct l7_flow, http_host) == offsetof(struct l7_flow, alpn) &&
		       offsetof(struct l7_flow, dns_qname) == offsetof(struct l7_flow, sni) &&
		       offsetof(struct l7_flow, ssh_client) == offsetof(struct l7_flow, sni) &&
		       offsetof(struct l7_flow, ssh_server) == offsetof(struct l7_flow, alpn) &&
		       offsetof(struct l7_flow, smtp_helo) == offsetof(struct l7_flow, sni) &&
		       offsetof(struct l7_flow, smtp_from) == offsetof(struct l7_flow, alpn) &&
		       offsetof(struct l7_flow, ftp_user) == offsetof(struct l7_flow, sni),
	       "l7_flow: each application's names in the same two words");

void l7_flow_end(struct l7 *l, struct flow *f)
{
	if (!f->ext) /* never inspected: holds nothing */
		return;
	struct l7_flow *s = flow_ext_take(&l->ext, f);
	uint32_t *held[3] = { &s->dns_name, &s->sni, &s->alpn };
	int n = 1 + (s->app < L7_APP__COUNT ? app_names_held[s->app] : 0);

	for (int i = 0; i < n; i++) {
		if (*held[i]) { /* most flows learn no name: no call for those */
			names_unref(l->names, *held[i]);
			*held[i] = 0;
		}
	}
	buf_release(l, s);
}

/* ---- FTP data connections (RFC 959 PORT/PASV, RFC 2428 EPRT/EPSV) ---- */

static void expect_add(struct l7 *l, uint64_t parent, int family, const uint8_t resp[16],
		       uint16_t port, const uint8_t init[16], uint64_t now_us)
{
	struct ftp_expect *slot = NULL;
	for (int i = 0; i < L7_FTP_EXPECT_MAX; i++) {
		struct ftp_expect *e = &l->expect[i];
		if (e->expires_us && e->expires_us < now_us) {
			e->expires_us = 0;
			l->nexpect--;
		}
		if (!e->expires_us && !slot)
			slot = e;
	}
	if (!slot) {
		anomaly_count(l->anom, ANOM_FTP_EXPECT_FULL);
		return;
	}
	slot->expires_us = now_us + (uint64_t)L7_FTP_EXPECT_TIMEOUT_S * 1000000u;
	slot->parent_id = parent;
	slot->family = (uint8_t)family;
	memcpy(slot->resp, resp, 16);
	slot->port = port;
	memcpy(slot->init, init, 16);
	l->nexpect++;
}

static void expect_match(struct l7 *l, struct flow *f, uint64_t now_us)
{
	const struct flow_key *k = &f->key;
	int o = f->init, r = flow_resp(f);
	if (k->proto != 6)
		return;
	for (int i = 0; i < L7_FTP_EXPECT_MAX; i++) {
		struct ftp_expect *e = &l->expect[i];
		if (!e->expires_us)
			continue;
		if (e->expires_us < now_us) {
			e->expires_us = 0;
			l->nexpect--;
			continue;
		}
		if (e->family != k->family || e->port != k->port[r] ||
		    memcmp(e->resp, k->addr[r], 16) != 0 || memcmp(e->init, k->addr[o], 16) != 0)
			continue;
		struct l7_flow *s = flow_ext_take(&l->ext, f);
		s->app = L7_APP_FTP_DATA;
		s->parent_id = e->parent_id;
		s->done = 1;
		e->expires_us = 0;
		l->nexpect--;
		l->st.ftp_data_linked++;
		l->st.flows_by_app[L7_APP_FTP_DATA]++;
		return;
	}
}

static void ftp_lines(struct l7 *l, struct flow *f, struct l7_flow *s, bool from_init,
		      const uint8_t *p, size_t n, uint64_t now_us)
{
	struct cur c = cur_make(p, n);
	const uint8_t *line;
	size_t len;
	int o = f->init, r = flow_resp(f);
	const struct flow_key *k = &f->key;

	for (int i = 0; i < L7_MAX_LINES && l7_next_line(&c, &line, &len); i++) {
		if (from_init) {
			struct l7_ftp_cmd cmd;
			if (l7_ftp_client_line(line, len, &cmd) != L7_OK)
				continue;
			if (strcmp(cmd.verb, "USER") == 0)
				set_name(l, &s->ftp_user, cmd.arg, strlen(cmd.arg));
			if (cmd.has_endpoint) /* active: the server connects to the client */
				expect_add(l, f->id, k->family,
					   cmd.ep.family ? cmd.ep.addr : k->addr[o], cmd.ep.port,
					   k->addr[r], now_us);
		} else {
			struct l7_ftp_reply rep;
			if (l7_ftp_server_line(line, len, &rep) != L7_OK || !rep.has_endpoint)
				continue;
			/* passive: the client connects to the announced address and port */
			expect_add(l, f->id, k->family, rep.ep.family ? rep.ep.addr : k->addr[r],
				   rep.ep.port, k->addr[o], now_us);
		}
	}
}

static void smtp_lines(struct l7 *l, struct l7_flow *s, const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	const uint8_t *line;
	size_t len;
	for (int i = 0; i < L7_MAX_LINES && l7_next_line(&c, &line, &len); i++) {
		struct l7_smtp_cmd cmd;
		if (l7_smtp_client_line(line, len, &cmd) != L7_OK)
			continue;
		if (strcmp(cmd.verb, "HELO") == 0 || strcmp(cmd.verb, "EHLO") == 0)
			set_name(l, &s->smtp_helo, cmd.arg, strlen(cmd.arg));
		else if (strcmp(cmd.verb, "MAIL") == 0)
			set_name(l, &s->smtp_from, cmd.arg, strlen(cmd.arg));
		else if (strcmp(cmd.verb, "DATA") == 0 || strcmp(cmd.verb, "BDAT") == 0 ||
			 strcmp(cmd.verb, "STARTTLS") == 0)
			s->done = 1;
	}
}

/* ---- DNS (RFC 1035): names for flows, answers for the IP -> name map ---- */

/* partial: the capture holds only the start of the message (a first IP fragment, a
 * short snaplen): what is there is used, running out of bytes is not an anomaly. */
static void dns_message(struct l7 *l, struct l7_flow *s, const struct pkt_layer *pl,
			const uint8_t *p, size_t n, bool partial, uint64_t now_us)
{
	struct l7_dns_msg m;
	enum l7_result r = l7_dns_parse(p, n, &m);
	if (r == L7_NOT_THIS)
		return;
	if (r == L7_MALFORMED && !partial)
		anomaly_count(l->anom, ANOM_L7_DNS_MALFORMED);
	size_t qlen = m.has_question ? strlen(m.qname) : 0;
	if (qlen == 0)
		return;
	if (!s->dns_qname) {
		set_name(l, &s->dns_qname, m.qname, qlen);
		s->dns_qtype = m.qtype;
	}
	if (!m.qr) {
		if (l->cfg.on_dns_query)
			l->cfg.on_dns_query(l->cfg.ctx, pl->family, pl->src, m.qname, qlen, m.qtype,
					    now_us);
		return;
	}
	s->dns_rcode = m.rcode;
	if (m.n_addrs == 0)
		return;
	/* the answers map to the name the client asked for, not the CNAME chain's end */
	uint32_t id = names_intern(l->names, m.qname, qlen);
	if (!id) {
		anomaly_count(l->anom, ANOM_NAME_STORE_FULL);
		return;
	}
	for (int i = 0; i < m.n_addrs; i++)
		dns_cache_put(l->dns, m.addrs[i].family, m.addrs[i].addr, id, m.addrs[i].ttl,
			      now_us);
	s->dns_answers = (uint16_t)(s->dns_answers + m.n_addrs);
	names_unref(l->names, id);
}

static void dns_packet(struct l7 *l, struct flow *f, struct l7_flow *s,
		       const struct pkt_layer *pl, uint64_t now_us)
{
	const uint8_t *p = pl->payload;
	size_t n = pl->payload_cap;
	bool partial = pl->payload_cap < pl->payload_bytes;
	if (f->key.proto == 6) {
		/* RFC 1035 4.2.2: two-byte length prefix; only whole messages in one segment */
		struct cur c = cur_make(p, n);
		uint16_t mlen = cur_be16(&c);
		const uint8_t *msg = cur_bytes(&c, mlen);
		if (!msg)
			return;
		p = msg;
		n = mlen;
		partial = false;
	}
	dns_message(l, s, pl, p, n, partial, now_us);
}

/* ---- TLS ClientHello and HTTP request: reassembled from the initiator's bytes ---- */

static void keep_hello(struct l7 *l, struct l7_flow *s, enum l7_result r,
		       const struct l7_tls_hello *h)
{
	if (r == L7_OK) {
		if (h->has_sni)
			set_name(l, &s->sni, h->sni, strlen(h->sni));
		if (h->alpn[0])
			set_name(l, &s->alpn, h->alpn, strlen(h->alpn));
		if (h->offers_tls13)
			s->tls_flags |= L7_TLS_F_TLS13;
		if (h->has_ech)
			s->tls_flags |= L7_TLS_F_ECH;
	} else if (r == L7_MALFORMED) {
		anomaly_count(l->anom, ANOM_L7_TLS_MALFORMED);
	}
}

static enum l7_result parse_first_bytes(struct l7 *l, struct l7_flow *s, const uint8_t *p,
					size_t n)
{
	if (s->app == L7_APP_TLS) {
		struct l7_tls_hello h;
		enum l7_result r = l7_tls_client_hello(p, n, &h);
		keep_hello(l, s, r, &h);
		return r;
	}
	struct l7_http_req h;
	enum l7_result r = l7_http_request(p, n, &h);
	if (r == L7_OK || (r == L7_MALFORMED && h.method[0])) {
		set_name(l, &s->http_method, h.method, strlen(h.method));
		if (h.has_host)
			set_name(l, &s->http_host, h.host, strlen(h.host));
	}
	if (r == L7_MALFORMED)
		anomaly_count(l->anom, ANOM_L7_HTTP_MALFORMED);
	return r;
}

static void first_bytes(struct l7 *l, struct l7_flow *s, const struct pkt_layer *pl)
{
	const uint8_t *p = pl->payload;
	size_t n = pl->payload_cap;
	uint32_t seq = pl->tcp_seq;

	if (!s->buf) {
		if (s->seq_known && seq != s->next_seq)
			return; /* a retransmission or a segment before the first one we kept */
		enum l7_result r = parse_first_bytes(l, s, p, n);
		if (r != L7_NEED_MORE) {
			s->done = 1;
			return;
		}
		if (n < pl->payload_bytes) { /* snaplen cut the segment: cannot go on */
			s->done = 1;
			return;
		}
		if (!buf_take(l, s)) {
			s->done = 1;
			return;
		}
		s->seq_known = 1;
		s->next_seq = seq;
	}
	/* in-order bytes only: a retransmission of what we hold is skipped, a gap ends it */
	if ((int32_t)(seq - s->next_seq) < 0) {
		uint32_t dup = s->next_seq - seq;
		if (dup >= n)
			return;
		p += dup;
		n -= dup;
	} else if (seq != s->next_seq) {
		anomaly_count(l->anom, ANOM_L7_STREAM_GAP);
		buf_release(l, s);
		s->done = 1;
		return;
	}
	unsigned char *b = l->bufs + (size_t)(s->buf - 1) * l->cfg.buffer_size;
	size_t room = l->cfg.buffer_size - s->buf_len;
	size_t take = n < room ? n : room;
	memcpy(b + s->buf_len, p, take);
	s->buf_len += (uint32_t)take;
	s->next_seq += (uint32_t)n;
	enum l7_result r = parse_first_bytes(l, s, b, s->buf_len);
	if (r == L7_NEED_MORE && take < n) {
		anomaly_count(l->anom, ANOM_L7_BUFFER_OVERFLOW);
		r = L7_MALFORMED;
	}
	if (r != L7_NEED_MORE) {
		buf_release(l, s);
		s->done = 1;
	}
}

/* ---- QUIC (RFC 9000, 9001): the ClientHello in the client's Initial packets ---- */

static void quic_datagram(struct l7 *l, struct l7_flow *s, const struct pkt_layer *pl)
{
	struct l7_quic_crypto *acc;

	if (pl->payload_cap < pl->payload_bytes) /* cut by snaplen: cannot be opened */
		return;
	if (!s->buf) {
		if (l->cfg.buffer_size < sizeof(*acc) || !buf_take(l, s)) {
			s->done = 1;
			return;
		}
		acc = (struct l7_quic_crypto *)(void *)(l->bufs + (size_t)(s->buf - 1) *
								 l->cfg.buffer_size);
		l7_quic_crypto_init(acc);
	}
	acc = (struct l7_quic_crypto *)(void *)(l->bufs + (size_t)(s->buf - 1) *
						 l->cfg.buffer_size);
	enum l7_result r = l7_quic_initial(pl->payload, pl->payload_cap, acc);
	if (r == L7_NEED_MORE || (r == L7_NOT_THIS && acc->n_packets))
		return;
	if (r == L7_OK) {
		size_t n;
		const uint8_t *msg = l7_quic_client_hello(acc, &n);
		struct l7_tls_hello h;
		keep_hello(l, s, l7_tls_client_hello_message(msg, n, &h), &h);
	}
	buf_release(l, s);
	s->done = 1;
}

/* A QUIC long-header packet of a version whose Initials can be opened (RFC 9000 17.2) */
static bool quic_looks_like(const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	uint8_t first = cur_u8(&c);
	uint32_t v = cur_be32(&c);
	return cur_ok(&c) && n >= 7 && (first & 0xc0) == 0xc0 && l7_quic_version_supported(v);
}

/* ---- which protocol ---- */

static bool port_is(const struct flow *f, uint16_t port)
{
	return f->key.port[flow_resp(f)] == port;
}

static enum l7_app classify(const struct flow *f, const struct pkt_layer *pl, bool from_init)
{
	const uint8_t *p = pl->payload;
	size_t n = pl->payload_cap;

	if (f->key.proto == 17) {
		if (port_is(f, 53) || port_is(f, 5353))
			return L7_APP_DNS;
		return from_init && quic_looks_like(p, n) ? L7_APP_QUIC : L7_APP_NONE;
	}
	if (f->key.proto != 6)
		return L7_APP_NONE;
	if (port_is(f, 53))
		return L7_APP_DNS;
	if (n >= 4 && l7_ssh_looks_like(p, n))
		return L7_APP_SSH;
	if (from_init) {
		if (l7_tls_looks_like(p, n))
			return L7_APP_TLS;
		if (l7_http_looks_like(p, n))
			return L7_APP_HTTP;
	}
	if (port_is(f, 21))
		return L7_APP_FTP;
	if (port_is(f, 25) || port_is(f, 587) || port_is(f, 2525))
		return L7_APP_SMTP;
	return L7_APP_NONE;
}

/* A payload-carrying packet of a flow still being inspected. Out of line, as is
 * flow_created(): most packets need neither. The flow's L7 state is taken here, at its
 * first payload: flows that carry none (SYN floods, scans) never have one. */
__attribute__((noinline)) static void inspect(struct l7 *l, struct flow *f,
					      const struct pkt_layer *pl, bool from_init,
					      uint64_t now_us)
{
	struct l7_flow *s = flow_ext_take(&l->ext, f);

	if (s->app != L7_APP_FTP && ++s->inspected > L7_MAX_INSPECT) {
		buf_release(l, s);
		s->done = 1;
		return;
	}
	if (s->app == L7_APP_NONE) {
		s->app = (uint8_t)classify(f, pl, from_init);
		if (s->app == L7_APP_NONE)
			return;
		l->st.flows_by_app[s->app]++;
	}
	switch (s->app) {
	case L7_APP_TLS:
	case L7_APP_HTTP:
		if (from_init && f->key.proto == 6)
			first_bytes(l, s, pl);
		break;
	case L7_APP_DNS:
		dns_packet(l, f, s, pl, now_us);
		break;
	case L7_APP_QUIC:
		if (from_init)
			quic_datagram(l, s, pl);
		break;
	case L7_APP_SSH: {
		char banner[256];
		if (l7_ssh_banner(pl->payload, pl->payload_cap, banner, sizeof(banner)) == L7_OK)
			set_name(l, from_init ? &s->ssh_client : &s->ssh_server, banner,
				 strlen(banner));
		if (s->ssh_client && s->ssh_server)
			s->done = 1;
		break;
	}
	case L7_APP_FTP:
		ftp_lines(l, f, s, from_init, pl->payload, pl->payload_cap, now_us);
		break;
	case L7_APP_SMTP:
		if (from_init)
			smtp_lines(l, s, pl->payload, pl->payload_cap);
		break;
	default:
		break;
	}
}

/* The first packet of a new flow: the name its responder's address resolved from, an
 * announced FTP data connection, then the packet itself. */
__attribute__((noinline)) static void flow_created(struct l7 *l, struct flow *f,
						   const struct pkt_layer *pl, bool from_init,
						   uint64_t now_us)
{
	uint32_t name = dns_cache_get(l->dns, f->key.family, f->key.addr[flow_resp(f)], now_us);
	if (name) {
		struct l7_flow *s = flow_ext_take(&l->ext, f);
		names_ref(l->names, name);
		s->dns_name = name;
	}
	if (l->nexpect)
		expect_match(l, f, now_us);
	const struct l7_flow *s = flow_ext(&l->ext, f);
	if (!s->done && pl->payload_cap)
		inspect(l, f, pl, from_init, now_us);
}

void l7_packet(struct l7 *l, struct flow *f, const struct pkt_layer *pl, int side,
	       bool created, uint64_t now_us)
{
	/* only calls in tail position here: a packet with nothing to inspect (most of
	 * them) returns without a stack frame being set up */
	if (created)
		flow_created(l, f, pl, side == f->init, now_us);
	else if (pl->payload_cap && !((const struct l7_flow *)flow_ext(&l->ext, f))->done)
		inspect(l, f, pl, side == f->init, now_us);
}
