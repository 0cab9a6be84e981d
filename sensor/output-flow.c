/* output-flow.c: the flow record (--flows): one ECS JSON document per finished flow,
 * source = initiator, destination = responder, as Zeek's orig/resp. */
#include <stdio.h>
#include <string.h>

#include "community-id.h"
#include "json.h"
#include "netset.h"
#include "pipeline.h"

#ifndef EGRESSD_VERSION
#define EGRESSD_VERSION "0.1.0"
#endif

static const char *transport_name(uint8_t proto, char *buf, size_t n)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 58: return "ipv6-icmp";
	case 132: return "sctp";
	default:
		snprintf(buf, n, "ip-proto-%u", proto);
		return buf;
	}
}

static const char *end_reason(enum flow_end why)
{
	switch (why) {
	case FLOW_END_IDLE: return "idle_timeout";
	case FLOW_END_CLOSED: return "tcp_closed";
	case FLOW_END_ACTIVE: return "active_timeout";
	case FLOW_END_EVICTED: return "evicted";
	case FLOW_END_EOF: return "end_of_input";
	}
	return "unknown";
}

static const char *init_rule(uint8_t r)
{
	switch (r) {
	case FLOW_INIT_SYN: return "syn";
	case FLOW_INIT_SYNACK: return "syn_ack";
	case FLOW_INIT_REQUEST: return "icmp_request";
	case FLOW_INIT_REPLY: return "icmp_reply";
	case FLOW_INIT_PORT: return "service_port";
	case FLOW_INIT_FIRST: return "first_packet";
	}
	return "unknown";
}

/* ECS network.direction from home_net: outbound when an internal host opened a flow to
 * an external one. */
static const char *direction(const struct netset *home, int family, const uint8_t *src,
			     const uint8_t *dst)
{
	bool s = netset_contains(home, family, src), d = netset_contains(home, family, dst);
	if (s && d)
		return "internal";
	if (s)
		return "outbound";
	if (d)
		return "inbound";
	return "external";
}

static void name_field(struct json *j, const struct names *n, struct json_key key, uint32_t id)
{
	size_t len;
	const char *s = names_get(n, id, &len);
	if (s)
		json_strn_k(j, key, s, len);
}

/* v in decimal, for the numbers ECS has as strings (printf costs more than the
 * rest of the field). */
static const char *decimal(unsigned int v, char buf[11])
{
	char *p = buf + 10;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

void output_flow_record(struct pipeline *p, struct flow *f, enum flow_end why)
{
	char buf[8192], tbuf[24], cid[COMMUNITY_ID_STRLEN];
	struct json j;
	const struct flow_key *k = &f->key;
	const struct l7_flow *s = flow_ext(flow_table_ext_pool(p->flows), f);
	int o = f->init, r = flow_resp(f);
	bool icmp = k->proto == 1 || k->proto == 58;
	bool ports = k->proto == 6 || k->proto == 17 || k->proto == 132;

	/* ICMP: the initiator sent the request type, code as the "port" of the other side */
	uint16_t sport = icmp ? k->port[0] : k->port[o];
	uint16_t dport = icmp ? k->port[1] : k->port[r];
	community_id_v1(0, k->family, k->addr[o], k->addr[r], k->proto, sport, dport, cid);

	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_time_k(&j, JSON_KEY("@timestamp"), f->last_us);
	json_obj_begin_k(&j, JSON_KEY("event"));
	json_str_k(&j, JSON_KEY("kind"), "event");
	json_arr_begin_k(&j, JSON_KEY("category"));
	json_str(&j, NULL, "network");
	json_arr_end(&j);
	json_str_k(&j, JSON_KEY("dataset"), "egressd.flow");
	json_time_k(&j, JSON_KEY("start"), f->first_us);
	json_time_k(&j, JSON_KEY("end"), f->last_us);
	json_u64_k(&j, JSON_KEY("duration"), (f->last_us - f->first_us) * 1000u);
	json_obj_end(&j);

	json_obj_begin_k(&j, JSON_KEY("source"));
	json_ip_k(&j, JSON_KEY("ip"), k->family, k->addr[o]);
	if (ports)
		json_u64_k(&j, JSON_KEY("port"), k->port[o]);
	json_u64_k(&j, JSON_KEY("bytes"), f->ip_bytes[o]);
	json_u64_k(&j, JSON_KEY("packets"), f->pkts[o]);
	json_obj_end(&j);

	size_t dlen;
	const char *dname = names_get(p->names, l7_destination_name(s), &dlen);
	struct enrich_result er;
	enrich_destination(p->enrich, k->family, k->addr[r], dname, dname ? dlen : 0, &er);

	json_obj_begin_k(&j, JSON_KEY("destination"));
	json_ip_k(&j, JSON_KEY("ip"), k->family, k->addr[r]);
	if (ports)
		json_u64_k(&j, JSON_KEY("port"), k->port[r]);
	json_u64_k(&j, JSON_KEY("bytes"), f->ip_bytes[r]);
	json_u64_k(&j, JSON_KEY("packets"), f->pkts[r]);
	if (dname)
		json_strn_k(&j, JSON_KEY("domain"), dname, dlen);
	if (er.registered_domain[0])
		json_str_k(&j, JSON_KEY("registered_domain"), er.registered_domain);
	if (er.has_geo && er.geo.country[0]) {
		json_obj_begin_k(&j, JSON_KEY("geo"));
		json_str_k(&j, JSON_KEY("country_iso_code"), er.geo.country);
		json_obj_end(&j);
	}
	if (er.has_geo && er.geo.asn) {
		json_obj_begin_k(&j, JSON_KEY("as"));
		json_u64_k(&j, JSON_KEY("number"), er.geo.asn);
		if (er.geo.as_org[0]) {
			json_obj_begin_k(&j, JSON_KEY("organization"));
			json_str_k(&j, JSON_KEY("name"), er.geo.as_org);
			json_obj_end(&j);
		}
		json_obj_end(&j);
	}
	json_obj_end(&j);

	json_obj_begin_k(&j, JSON_KEY("network"));
	json_str_k(&j, JSON_KEY("transport"), transport_name(k->proto, tbuf, sizeof(tbuf)));
	json_str_k(&j, JSON_KEY("type"), k->family == 4 ? "ipv4" : "ipv6");
	json_str_k(&j, JSON_KEY("iana_number"), decimal(k->proto, tbuf));
	if (l7_app_name(s->app))
		json_str_k(&j, JSON_KEY("protocol"), l7_app_name(s->app));
	json_str_k(&j, JSON_KEY("community_id"), cid);
	json_str_k(&j, JSON_KEY("direction"), direction(&p->cfg.home_net, k->family, k->addr[o], k->addr[r]));
	json_u64_k(&j, JSON_KEY("bytes"), f->ip_bytes[0] + f->ip_bytes[1]);
	json_u64_k(&j, JSON_KEY("packets"), f->pkts[0] + f->pkts[1]);
	if (k->vlan) {
		json_obj_begin_k(&j, JSON_KEY("vlan"));
		json_str_k(&j, JSON_KEY("id"), decimal(k->vlan, tbuf));
		json_obj_end(&j);
	}
	json_obj_end(&j);

	/* the names of an application share their storage: only its own are read */
	bool tls = s->app == L7_APP_TLS || s->app == L7_APP_QUIC;
	if (tls && s->sni) {
		json_obj_begin_k(&j, JSON_KEY("tls"));
		json_obj_begin_k(&j, JSON_KEY("client"));
		name_field(&j, p->names, JSON_KEY("server_name"), s->sni);
		json_obj_end(&j);
		json_obj_end(&j);
	}
	if (s->app == L7_APP_HTTP && (s->http_method || s->http_host)) {
		json_obj_begin_k(&j, JSON_KEY("http"));
		json_obj_begin_k(&j, JSON_KEY("request"));
		name_field(&j, p->names, JSON_KEY("method"), s->http_method);
		json_obj_end(&j);
		json_obj_end(&j);
		if (s->http_host) {
			json_obj_begin_k(&j, JSON_KEY("url"));
			name_field(&j, p->names, JSON_KEY("domain"), s->http_host);
			json_obj_end(&j);
		}
	}
	if (s->app == L7_APP_DNS && s->dns_qname) {
		json_obj_begin_k(&j, JSON_KEY("dns"));
		json_obj_begin_k(&j, JSON_KEY("question"));
		name_field(&j, p->names, JSON_KEY("name"), s->dns_qname);
		json_u64_k(&j, JSON_KEY("type_number"), s->dns_qtype);
		json_obj_end(&j);
		json_obj_end(&j);
	}

	json_obj_begin_k(&j, JSON_KEY("observer"));
	json_str_k(&j, JSON_KEY("name"), p->cfg.sensor_name);
	json_str_k(&j, JSON_KEY("product"), "egressd");
	json_str_k(&j, JSON_KEY("version"), EGRESSD_VERSION);
	json_obj_end(&j);

	json_obj_begin_k(&j, JSON_KEY("egressd"));
	if (er.category)
		json_str_k(&j, JSON_KEY("category"), enrich_category_name(er.category));
	if (er.has_tenant) {
		json_obj_begin_k(&j, JSON_KEY("cloud"));
		json_str_k(&j, JSON_KEY("provider"), er.tenant.provider);
		json_str_k(&j, JSON_KEY("service"), er.tenant.service);
		json_str_k(&j, JSON_KEY("tenant"), er.tenant.tenant);
		json_bool_k(&j, JSON_KEY("own_tenant"), er.own_tenant);
		json_obj_end(&j);
	}
	if (er.allowlisted)
		json_bool_k(&j, JSON_KEY("allowlisted"), true);
	json_obj_begin_k(&j, JSON_KEY("flow"));
	json_u64_k(&j, JSON_KEY("id"), f->id);
	json_u64_k(&j, JSON_KEY("source_payload_bytes"), f->payload_bytes[o]);
	json_u64_k(&j, JSON_KEY("destination_payload_bytes"), f->payload_bytes[r]);
	json_str_k(&j, JSON_KEY("initiator"), init_rule(f->init_rule));
	json_str_k(&j, JSON_KEY("end_reason"), end_reason(why));
	if (icmp) {
		json_obj_begin_k(&j, JSON_KEY("icmp"));
		json_u64_k(&j, JSON_KEY("type"), k->port[0]);
		json_u64_k(&j, JSON_KEY("code"), k->port[1]);
		json_obj_end(&j);
	}
	if (s->app == L7_APP_FTP_DATA && s->parent_id)
		json_u64_k(&j, JSON_KEY("parent_id"), s->parent_id);
	json_obj_end(&j);
	if (tls && (s->alpn || (s->tls_flags & (L7_TLS_F_ECH | L7_TLS_F_TLS13)))) {
		json_obj_begin_k(&j, JSON_KEY("tls"));
		name_field(&j, p->names, JSON_KEY("alpn"), s->alpn);
		if (s->tls_flags & L7_TLS_F_TLS13)
			json_bool_k(&j, JSON_KEY("offers_tls13"), true);
		if (s->tls_flags & L7_TLS_F_ECH)
			json_bool_k(&j, JSON_KEY("ech"), true);
		json_obj_end(&j);
	}
	if (s->dns_name) {
		json_obj_begin_k(&j, JSON_KEY("dns"));
		name_field(&j, p->names, JSON_KEY("resolved_name"), s->dns_name);
		json_obj_end(&j);
	}
	if (s->app == L7_APP_SSH && (s->ssh_client || s->ssh_server)) {
		json_obj_begin_k(&j, JSON_KEY("ssh"));
		name_field(&j, p->names, JSON_KEY("client"), s->ssh_client);
		name_field(&j, p->names, JSON_KEY("server"), s->ssh_server);
		json_obj_end(&j);
	}
	if (s->app == L7_APP_SMTP && (s->smtp_helo || s->smtp_from)) {
		json_obj_begin_k(&j, JSON_KEY("smtp"));
		name_field(&j, p->names, JSON_KEY("helo"), s->smtp_helo);
		name_field(&j, p->names, JSON_KEY("mail_from"), s->smtp_from);
		json_obj_end(&j);
	}
	if (s->app == L7_APP_FTP && s->ftp_user) {
		json_obj_begin_k(&j, JSON_KEY("ftp"));
		name_field(&j, p->names, JSON_KEY("user"), s->ftp_user);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_obj_end(&j);

	size_t len;
	const char *text = json_finish(&j, &len);
	output_line(p->out, text, len);
	p->flow_records++;
}
