/* report-html.c: the report as one self-contained HTML page: inline CSS and SVG, no
 * script, nothing fetched. Everything from the wire (names, rule text from files,
 * messages) is escaped; bytes that are not UTF-8 are shown as \xNN. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report-table.h"

#define TOP_DESTINATIONS 50
#define TOP_SOURCES 20
#define LINES 8

/* width and height of the timeline's plot area, and its margins */
#define PW 960
#define PH 240
#define ML 78
#define MR 24
#define MT 12
#define LANE 24

static const char *const colour[LINES] = { "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1",
					   "#76b7b2", "#edc948", "#9c755f", "#ff9da7" };
#define OTHER_COLOUR "#bab0ac"

static const char *sev_colour(int s)
{
	return s >= 3 ? "#d62728" : s == 2 ? "#ff7f0e" : "#bcbd22";
}

static const char *sev_name(int s)
{
	return s >= 3 ? "high" : s == 2 ? "medium" : "low";
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), 0 if ill-formed. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		     c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (c == 0xe0 && p[1] < 0xa0)
		return 0; /* overlong */
	if (c == 0xed && p[1] >= 0xa0)
		return 0; /* surrogate */
	if (c == 0xf0 && p[1] < 0x90)
		return 0;
	if (c == 0xf4 && p[1] >= 0x90)
		return 0;
	return len;
}

/* Text content or attribute value. */
static void hn(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t l;
		switch (c) {
		case '<': fputs("&lt;", f); i++; continue;
		case '>': fputs("&gt;", f); i++; continue;
		case '&': fputs("&amp;", f); i++; continue;
		case '"': fputs("&quot;", f); i++; continue;
		case '\'': fputs("&#39;", f); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f || (l = utf8_len(p + i, n - i)) == 0) {
			fprintf(f, "\\x%02x", c);
			i++;
			continue;
		}
		fwrite(p + i, 1, l, f);
		i += l;
	}
}

static void h(FILE *f, const char *s)
{
	hn(f, s, strlen(s));
}

static void put_count(FILE *f, uint64_t v)
{
	char b[40];
	report_count_text(v, b, sizeof(b));
	fputs(b, f);
}

static void put_bytes_plain(FILE *f, uint64_t v)
{
	char b[40];
	alert_fmt_bytes(v, b, sizeof(b));
	fputs(b, f);
}

/* A size in HTML text: human, with the exact count to hover over (and to read back). */
static void put_bytes(FILE *f, uint64_t v)
{
	char b[40], c[40];
	alert_fmt_bytes(v, b, sizeof(b));
	report_count_text(v, c, sizeof(c));
	fprintf(f, "<span data-v=\"%llu\" title=\"%s bytes\">%s</span>", (unsigned long long)v,
		c, b);
}

enum tfmt { T_DATETIME, T_DATETIME_UTC, T_TIME, T_HM, T_DAY_HM };

static void put_time(FILE *f, uint64_t us, enum tfmt how)
{
	char b[64];
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	switch (how) {
	case T_DATETIME: strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S", &tm); break;
	case T_DATETIME_UTC: strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S UTC", &tm); break;
	case T_TIME: strftime(b, sizeof(b), "%H:%M:%S", &tm); break;
	case T_HM: strftime(b, sizeof(b), "%H:%M", &tm); break;
	case T_DAY_HM: strftime(b, sizeof(b), "%m-%d %H:%M", &tm); break;
	}
	fputs(b, f);
}

static void put_addr(FILE *f, int family, const uint8_t *a)
{
	char ip[64];
	report_addr_text(family, a, ip, sizeof(ip));
	fputs(ip, f);
}

static const char CSS[] =
	":root{--fg:#1d2430;--mut:#5b6573;--line:#d9dee5;--bg:#f6f7f9;--card:#fff}"
	"*{box-sizing:border-box}"
	"body{margin:0;font:14px/1.45 'DejaVu Sans',system-ui,sans-serif;color:var(--fg);"
	"background:var(--bg)}"
	"header,section,footer{max-width:1120px;margin:0 auto;padding:12px 20px}"
	"header{padding-top:20px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:18px 0 8px}"
	".meta{color:var(--mut);margin:0}"
	".cards{display:flex;flex-wrap:wrap;gap:10px}"
	".card{background:var(--card);border:1px solid var(--line);border-radius:6px;"
	"padding:8px 14px;min-width:150px}"
	".card b{display:block;font-size:20px}.card span{color:var(--mut);font-size:12px}"
	".card.alert b{color:#d62728}"
	"table{border-collapse:collapse;width:100%;background:var(--card);"
	"border:1px solid var(--line)}"
	"th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;"
	"vertical-align:top}"
	"th{background:#eef1f5;font-weight:600;font-size:12px}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	"td.name{max-width:320px;overflow-wrap:anywhere}"
	".tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;"
	"color:#fff}"
	".new{background:#d62728}.sev3{background:#d62728}.sev2{background:#ff7f0e}"
	".sev1{background:#bcbd22}"
	"svg{background:var(--card);border:1px solid var(--line);border-radius:6px;"
	"display:block;max-width:100%;height:auto}"
	"svg text{font:11px 'DejaVu Sans',sans-serif;fill:var(--mut)}"
	"svg .grid{stroke:#e6e9ee}svg .axis{stroke:#9aa3ae}"
	".legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0;font-size:13px}"
	".legend i{display:inline-block;width:12px;height:12px;border-radius:2px;"
	"margin-right:5px;vertical-align:-1px}"
	"details.group{background:var(--card);border:1px solid var(--line);border-radius:6px;"
	"margin:6px 0}"
	"details.group>summary{padding:6px 10px;cursor:pointer}"
	"details.group table{border:0;border-top:1px solid var(--line)}"
	"details.ev>summary{cursor:pointer;color:#2a5ea8}"
	"dl.ev{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}"
	"dl.ev dt{color:var(--mut)}dl.ev dd{margin:0;overflow-wrap:anywhere}"
	".note{color:var(--mut);font-size:13px}"
	"footer{color:var(--mut);font-size:12px;padding-bottom:30px}";

static void card(FILE *f, const char *id, const char *label, uint64_t v, bool bytes,
		 bool alert)
{
	char value[40];
	if (bytes)
		alert_fmt_bytes(v, value, sizeof(value));
	else
		report_count_text(v, value, sizeof(value));
	fprintf(f, "<div class=\"card%s\" id=\"card-%s\" data-v=\"%llu\"><b>",
		alert ? " alert" : "", id, (unsigned long long)v);
	h(f, value);
	fputs("</b><span>", f);
	h(f, label);
	fputs("</span></div>\n", f);
}

static void overview(FILE *f, const struct report *r, const struct report_input *in)
{
	fputs("<section id=\"overview\"><h2>Overview</h2><div class=\"cards\">\n", f);
	card(f, "packets", "packets", in->packets, false, false);
	card(f, "wire-bytes", "bytes on the wire", in->wire_bytes, true, false);
	card(f, "flows", "flows", r->flows, false, false);
	card(f, "egress-flows", "egress flows", r->egress_flows, false, false);
	card(f, "egress-bytes", "egress bytes", r->egress_bytes, true, false);
	card(f, "ingress-bytes", "ingress bytes (their replies)", r->ingress_bytes, true, false);
	card(f, "destinations", r->dst.evicted ? "destinations (itemised)" : "destinations",
	     r->dst.n, false, false);
	card(f, "new-destinations", "new destinations", r->new_dsts, false, false);
	card(f, "alerts", "alerts", r->alerts, false, r->alerts > 0);
	fputs("</div>\n", f);
	if (r->flows) {
		fputs("<p class=\"note\">Traffic from ", f);
		put_time(f, r->first_us, T_DATETIME);
		fputs(" to ", f);
		put_time(f, r->last_us, T_DATETIME);
		fputs(" UTC. Egress: what a host inside home_net sent to one outside it.", f);
		if (!in->baseline_loaded)
			fputs(" No baseline was loaded, so every destination first seen in this "
			      "run counts as new.", f);
		if (in->rate_limited) {
			fputs(" ", f);
			put_count(f, in->rate_limited);
			fputs(" alerts were held back by the rate limits.", f);
		}
		if (in->damaged_files)
			fputs(" A capture file was damaged: what came before the damage is "
			      "included.", f);
		fputs("</p>\n", f);
	}
	fputs("</section>\n", f);
}

/* A round step of at least v: 1, 2 or 5 times a power of ten. */
static double round_step(double v)
{
	if (v <= 0)
		return 1;
	double p = pow(10, floor(log10(v)));
	double m = v / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void rate_text(double bps, char *out, size_t n)
{
	static const char *const unit[] = { "B/s", "KB/s", "MB/s", "GB/s", "TB/s" };
	int u = 0;
	while (bps >= 1000 && u < 4) {
		bps /= 1000;
		u++;
	}
	snprintf(out, n, bps == floor(bps) ? "%.0f %s" : "%.1f %s", bps, unit[u]);
}

static void timeline(FILE *f, struct report *r)
{
	fputs("<section id=\"timeline-section\"><h2>Egress volume over time</h2>\n", f);
	if (!r->t_init || !r->bins_used || !r->egress_bytes) {
		fputs("<p class=\"note\" id=\"timeline-empty\">No egress traffic.</p></section>\n",
		      f);
		return;
	}
	uint32_t nb = r->bins_used;
	double wsec = (double)r->w_us / 1e6;

	/* the lines: the largest tracked sources, heaviest first; the rest is "other" */
	const struct rseries *line[LINES];
	const struct rsrc *who[LINES];
	int nl = 0;
	uint32_t ns;
	uint32_t *order = rtab_top(&r->src, REPORT_TRACKED, NULL, &ns);
	bool in_line[REPORT_TRACKED] = { false };
	for (uint32_t i = 0; i < ns && nl < LINES; i++) {
		const struct rsrc *s = rtab_at(&r->src, order[i]);
		if (s->tracked < 0 || !r->tracked[s->tracked])
			continue;
		line[nl] = r->tracked[s->tracked];
		who[nl] = s;
		in_line[s->tracked] = true;
		nl++;
	}
	free(order);
	static struct rseries other;
	other = r->other;
	for (int i = 0; i < REPORT_TRACKED; i++)
		if (r->tracked[i] && !in_line[i])
			for (uint32_t b = 0; b < REPORT_BINS; b++)
				other.bin[b] += r->tracked[i]->bin[b];

	double ymax = 0;
	for (uint32_t b = 0; b < nb; b++) {
		double t = (double)other.bin[b];
		for (int k = 0; k < nl; k++)
			t += (double)line[k]->bin[b];
		if (t / wsec > ymax)
			ymax = t / wsec;
	}
	double ystep = round_step(ymax / 4);
	double ytop = ystep * ceil(ymax / ystep);
	if (ytop <= 0)
		ytop = 1;

	/* technique lanes under the plot */
	int lane_of[REPORT_MAX_TECH], nlanes = 0;
	for (int t = 0; t < r->ntech; t++)
		lane_of[t] = r->tech_alerts[t] ? nlanes++ : -1;
	int W = ML + PW + MR, H = MT + PH + 28 + nlanes * LANE + (nlanes ? 10 : 0);
	uint64_t total = 0;
	for (uint32_t b = 0; b < nb; b++) {
		total += other.bin[b];
		for (int k = 0; k < nl; k++)
			total += line[k]->bin[b];
	}
	fprintf(f, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		   "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" data-bytes=\"%llu\" "
		   "data-bin-seconds=\"%g\" aria-label=\"egress bytes per second over time\">\n",
		W, H, W, H, (unsigned long long)total, wsec);
	/* y grid and labels */
	for (double y = 0; y <= ytop * 1.0001; y += ystep) {
		double py = MT + PH - y / ytop * PH;
		char lab[32];
		rate_text(y, lab, sizeof(lab));
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
			   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			ML, ML + PW, py, py, ML - 6, py + 4, lab);
	}
	/* x ticks */
	static const uint64_t steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
					  3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
					  2592000, 31536000 };
	uint64_t span_s = (uint64_t)nb * r->w_us / 1000000u;
	uint64_t step = steps[sizeof(steps) / sizeof(steps[0]) - 1];
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span_s / steps[i] <= 8) {
			step = steps[i];
			break;
		}
	uint64_t t0s = (r->t0_us + 999999u) / 1000000u;
	uint64_t first = (t0s + step - 1) / step * step;
	bool days = span_s >= 86400;
	for (uint64_t t = first; t * 1000000u <= r->t0_us + (uint64_t)nb * r->w_us; t += step) {
		double px = ML + (double)(t * 1000000u - r->t0_us) / ((double)nb * r->w_us) * PW;
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
			   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
			px, px, MT, MT + PH, px, MT + PH + 16);
		put_time(f, t * 1000000u, days ? T_DAY_HM : step >= 60 ? T_HM : T_TIME);
		fputs("</text>\n", f);
	}
	/* stacked areas, as steps: one per bin */
	double base[REPORT_BINS] = { 0 };
	for (int k = 0; k <= nl; k++) {
		const struct rseries *s = k < nl ? line[k] : &other;
		uint64_t sum = 0;
		for (uint32_t b = 0; b < nb; b++)
			sum += s->bin[b];
		if (!sum)
			continue;
		fprintf(f, "<path class=\"series\" data-series=\"%d\" data-bytes=\"%llu\" "
			   "fill=\"%s\" fill-opacity=\"0.85\" stroke=\"%s\" stroke-width=\"0.5\" "
			   "d=\"", k < nl ? k : -1, (unsigned long long)sum,
			k < nl ? colour[k] : OTHER_COLOUR, k < nl ? colour[k] : OTHER_COLOUR);
		double top[REPORT_BINS];
		for (uint32_t b = 0; b < nb; b++)
			top[b] = base[b] + (double)s->bin[b] / wsec;
		for (uint32_t b = 0; b < nb; b++) {
			double x0 = ML + (double)b / nb * PW, x1 = ML + (double)(b + 1) / nb * PW;
			double y = MT + PH - top[b] / ytop * PH;
			fprintf(f, "%s%.1f %.1f L%.1f %.1f ", b ? "L" : "M", x0, y, x1, y);
		}
		for (uint32_t b = nb; b-- > 0;) {
			double x0 = ML + (double)b / nb * PW, x1 = ML + (double)(b + 1) / nb * PW;
			double y = MT + PH - base[b] / ytop * PH;
			fprintf(f, "L%.1f %.1f L%.1f %.1f ", x1, y, x0, y);
		}
		fputs("Z\"><title>", f);
		if (k < nl) {
			put_addr(f, who[k]->k.family, who[k]->k.addr);
			fputs(": ", f);
			put_bytes_plain(f, who[k]->bytes_out);
		} else {
			fputs("other sources", f);
		}
		fputs("</title></path>\n", f);
		memcpy(base, top, sizeof(top));
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", ML,
		ML + PW, MT + PH, MT + PH);

	/* alert lanes: one circle per technique and bin, sized by the number of alerts */
	if (nlanes) {
		int ly0 = MT + PH + 30;
		for (int t = 0; t < r->ntech; t++) {
			if (lane_of[t] < 0)
				continue;
			int y = ly0 + lane_of[t] * LANE + LANE / 2;
			fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
				   "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
				ML, ML + PW, y, y, ML - 6, y + 4);
			h(f, r->tech[t]);
			fputs("</text>\n", f);
		}
		uint32_t *cnt = calloc((size_t)REPORT_MAX_TECH * nb, sizeof(uint32_t));
		uint8_t *sev = calloc((size_t)REPORT_MAX_TECH * nb, 1);
		if (cnt && sev) {
			for (uint32_t i = 0; i < r->nal; i++) {
				const struct ralert *a = &r->al[i];
				uint64_t b = a->ts_us < r->t0_us ? 0 : (a->ts_us - r->t0_us) / r->w_us;
				if (b >= nb)
					b = nb - 1;
				cnt[a->tech * nb + b]++;
				if (a->severity > sev[a->tech * nb + b])
					sev[a->tech * nb + b] = a->severity;
			}
			for (int t = 0; t < r->ntech; t++) {
				if (lane_of[t] < 0)
					continue;
				int y = ly0 + lane_of[t] * LANE + LANE / 2;
				for (uint32_t b = 0; b < nb; b++) {
					uint32_t c = cnt[t * nb + b];
					if (!c)
						continue;
					double x = ML + ((double)b + 0.5) / nb * PW;
					double rad = 3.5 + 1.5 * log2((double)c);
					if (rad > 10)
						rad = 10;
					fprintf(f, "<circle class=\"alert\" data-technique=\"");
					h(f, r->tech[t]);
					fprintf(f, "\" cx=\"%.1f\" cy=\"%d\" r=\"%.1f\" fill=\"%s\" "
						   "fill-opacity=\"0.85\"><title>",
						x, y, rad, sev_colour(sev[t * nb + b]));
					h(f, r->tech[t]);
					fprintf(f, ": %u alert%s from ", c, c == 1 ? "" : "s");
					put_time(f, r->t0_us + (uint64_t)b * r->w_us, T_TIME);
					fputs("</title></circle>\n", f);
					/* and a mark on the plot's top edge */
					fprintf(f, "<line class=\"alert-mark\" x1=\"%.1f\" x2=\"%.1f\" "
						   "y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n",
						x, x, MT, MT + 8, sev_colour(sev[t * nb + b]));
				}
			}
		}
		free(cnt);
		free(sev);
	}
	fputs("</svg>\n<div class=\"legend\">", f);
	for (int k = 0; k < nl; k++) {
		fprintf(f, "<span><i style=\"background:%s\"></i>", colour[k]);
		put_addr(f, who[k]->k.family, who[k]->k.addr);
		fputs(" (", f);
		put_bytes(f, who[k]->bytes_out);
		fputs(")</span>", f);
	}
	fprintf(f, "<span><i style=\"background:%s\"></i>other sources</span>", OTHER_COLOUR);
	fputs("</div>\n<p class=\"note\">Bytes per second, ", f);
	char ws[32];
	alert_fmt_duration(r->w_us / 1000000u, ws, sizeof(ws));
	h(f, ws);
	fputs(" bins. A flow record's egress bytes are spread evenly over its duration. A "
	      "source's band starts when it became one of the ", f);
	fprintf(f, "%d", REPORT_TRACKED);
	fputs(" largest; what it sent before is in \"other\". Dots under the plot mark "
	      "alerts by technique (size: how many; colour: highest severity)", f);
	if (r->alerts_not_kept) {
		fputs("; the first ", f);
		put_count(f, REPORT_MAX_ALERTS);
		fputs(" alerts are marked, ", f);
		put_count(f, r->alerts_not_kept);
		fputs(" later ones are not", f);
	}
	fputs(".</p>\n</section>\n", f);
}

static void techniques(FILE *f, const struct report *r)
{
	fputs("<section id=\"techniques\"><h2>Alerts by technique</h2>\n", f);
	if (!r->alerts) {
		fputs("<p class=\"note\">No alerts.</p></section>\n", f);
		return;
	}
	fputs("<table id=\"technique-table\"><thead><tr><th>technique</th><th class=\"n\">"
	      "alerts</th><th class=\"n\">egress bytes in their evidence</th></tr></thead>"
	      "<tbody>\n", f);
	for (int t = 0; t < r->ntech; t++) {
		fputs("<tr><td>", f);
		h(f, r->tech[t]);
		fputs("</td><td class=\"n\">", f);
		put_count(f, r->tech_alerts[t]);
		fputs("</td><td class=\"n\">", f);
		put_bytes(f, r->tech_bytes[t]);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n<p class=\"note\">", f);
	for (int s = 3; s >= 1; s--) {
		fprintf(f, "<span class=\"tag sev%d\">%s</span> ", s, sev_name(s));
		put_count(f, r->by_sev[s]);
		fputs(" ", f);
	}
	if (r->updates) {
		put_count(f, r->updates);
		fputs(r->updates == 1 ? " update of an alert (more bytes in the same situation) "
					"is folded into the alert it updates." :
					" updates of alerts (more bytes in the same situation) are "
					"folded into the alerts they update.", f);
	}
	fputs("</p></section>\n", f);
}

static void destinations(FILE *f, const struct report *r, const struct enrich *e)
{
	uint32_t n;
	uint32_t *v = rtab_top(&r->dst, TOP_DESTINATIONS, NULL, &n);
	uint32_t all = r->dst.n;
	fputs("<section id=\"destinations\"><h2>Top destinations by egress bytes</h2>\n", f);
	if (!n) {
		fputs("<p class=\"note\">No egress destinations.</p></section>\n", f);
		return;
	}
	fputs("<table id=\"destination-table\"><thead><tr><th>#</th><th>destination</th>"
	      "<th>name</th><th>category</th><th>country</th><th>AS</th>"
	      "<th class=\"n\">egress</th><th class=\"n\">ingress</th><th class=\"n\">flows</th>"
	      "<th>sources</th><th class=\"n\">alerts</th></tr></thead><tbody>\n", f);
	for (uint32_t i = 0; i < n && i < TOP_DESTINATIONS; i++) {
		const struct rdst *d = rtab_at(&r->dst, v[i]);
		struct enrich_result er;
		memset(&er, 0, sizeof(er));
		if (e)
			enrich_destination(e, d->k.family, d->k.addr, d->name[0] ? d->name : NULL,
					   strlen(d->name), &er);
		fprintf(f, "<tr><td class=\"n\">%u</td><td>", i + 1);
		put_addr(f, d->k.family, d->k.addr);
		if (d->port)
			fprintf(f, ":%u", d->port);
		if (d->is_new)
			fputs(" <span class=\"tag new\">new</span>", f);
		fputs("</td><td class=\"name\">", f);
		h(f, d->name);
		fputs("</td><td>", f);
		if (er.category != ENRICH_CAT_NONE)
			h(f, enrich_category_name(er.category));
		fputs("</td><td>", f);
		if (er.has_geo)
			h(f, er.geo.country);
		fputs("</td><td>", f);
		if (er.has_geo && er.geo.asn) {
			fprintf(f, "AS%u ", er.geo.asn);
			h(f, er.geo.as_org);
		}
		fputs("</td><td class=\"n\">", f);
		put_bytes(f, d->bytes_out);
		fputs("</td><td class=\"n\">", f);
		put_bytes(f, d->bytes_in);
		fputs("</td><td class=\"n\">", f);
		put_count(f, d->flows);
		fputs("</td><td>", f);
		put_addr(f, d->k.family, d->first_src);
		uint64_t ns = report_dst_sources(d);
		if (ns > 1)
			fprintf(f, " and about %llu more", (unsigned long long)(ns - 1));
		fprintf(f, "</td><td class=\"n\">%u</td></tr>\n", d->alerts);
	}
	fputs("</tbody></table>\n", f);
	if (all > TOP_DESTINATIONS || r->dst.evicted) {
		fputs("<p class=\"note\">", f);
		put_count(f, all);
		fputs(" destinations itemised", f);
		if (r->dst.evicted) {
			fputs("; ", f);
			put_count(f, r->dst.evicted);
			fputs(" smaller ones made room for others (", f);
			put_bytes(f, r->dst_bytes_dropped);
			fputs(" of egress not itemised)", f);
		}
		fputs(".</p>\n", f);
	}
	fputs("</section>\n", f);
	free(v);
}

static void sources(FILE *f, const struct report *r)
{
	uint32_t n;
	uint32_t *v = rtab_top(&r->src, TOP_SOURCES, NULL, &n);
	uint32_t all = r->src.n;
	fputs("<section id=\"sources\"><h2>Top egress sources</h2>\n", f);
	if (!n) {
		fputs("<p class=\"note\">No egress sources.</p></section>\n", f);
		return;
	}
	fputs("<table id=\"source-table\"><thead><tr><th>#</th><th>source</th>"
	      "<th class=\"n\">egress</th><th class=\"n\">ingress</th><th class=\"n\">flows</th>"
	      "<th class=\"n\">flows to new destinations</th><th class=\"n\">alerts</th></tr>"
	      "</thead><tbody>\n", f);
	for (uint32_t i = 0; i < n && i < TOP_SOURCES; i++) {
		const struct rsrc *s = rtab_at(&r->src, v[i]);
		fprintf(f, "<tr><td class=\"n\">%u</td><td>", i + 1);
		put_addr(f, s->k.family, s->k.addr);
		fputs("</td><td class=\"n\">", f);
		put_bytes(f, s->bytes_out);
		fputs("</td><td class=\"n\">", f);
		put_bytes(f, s->bytes_in);
		fputs("</td><td class=\"n\">", f);
		put_count(f, s->flows);
		fputs("</td><td class=\"n\">", f);
		put_count(f, s->new_flows);
		fprintf(f, "</td><td class=\"n\">%u</td></tr>\n", s->alerts);
	}
	fputs("</tbody></table>\n", f);
	if (all > TOP_SOURCES || r->src.evicted) {
		fputs("<p class=\"note\">", f);
		put_count(f, all);
		fputs(" sources itemised", f);
		if (r->src.evicted) {
			fputs("; ", f);
			put_bytes(f, r->src_bytes_dropped);
			fputs(" of egress from sources that made room for others", f);
		}
		fputs(".</p>\n", f);
	}
	fputs("</section>\n", f);
	free(v);
}

static void dt(FILE *f, const char *k)
{
	fputs("<dt>", f);
	fputs(k, f);
	fputs("</dt><dd>", f);
}

static void evidence(FILE *f, const struct alert *a, uint32_t updates)
{
	char b[64];
	fputs("<details class=\"ev\"><summary>evidence</summary><dl class=\"ev\">", f);
	dt(f, "rule");
	h(f, a->rule_id);
	fputs(" (", f);
	h(f, a->ruleset);
	fputs(")</dd>", f);
	dt(f, "technique");
	h(f, a->subtechnique[0] ? a->subtechnique : a->technique);
	fputs("</dd>", f);
	dt(f, "window");
	put_time(f, a->start_us, T_DATETIME);
	fputs(" to ", f);
	put_time(f, a->end_us, T_TIME);
	fputs(" UTC</dd>", f);
	if (a->threshold[0]) {
		dt(f, "threshold");
		h(f, a->threshold);
		fputs("</dd>", f);
	}
	dt(f, "egress");
	put_bytes(f, a->bytes_out);
	fputs(" in ", f);
	put_count(f, a->packets_out);
	fputs(" packets; ingress ", f);
	put_bytes(f, a->bytes_in);
	fputs("; ", f);
	put_count(f, a->flows);
	fputs(" flows</dd>", f);
	if (a->key[0]) {
		dt(f, "counted by");
		h(f, a->key);
		fputs("</dd>", f);
	}
	if (a->domain[0] || a->registered_domain[0]) {
		dt(f, "name");
		h(f, a->domain[0] ? a->domain : a->registered_domain);
		fputs("</dd>", f);
	}
	if (a->protocol[0] || a->transport[0]) {
		dt(f, "protocol");
		h(f, a->protocol[0] ? a->protocol : a->transport);
		fputs("</dd>", f);
	}
	dt(f, "new destination");
	fputs(a->is_new ? "yes" : "no", f);
	if (a->first_seen_us) {
		fputs(", first seen ", f);
		put_time(f, a->first_seen_us, T_DATETIME_UTC);
	}
	fputs("</dd>", f);
	if (a->category[0]) {
		dt(f, "category");
		h(f, a->category);
		fputs("</dd>", f);
	}
	if (a->tenant[0]) {
		dt(f, "cloud tenant");
		h(f, a->tenant);
		fputs("</dd>", f);
	}
	if (a->country[0] || a->asn) {
		dt(f, "country, AS");
		h(f, a->country);
		if (a->asn) {
			fprintf(f, " AS%u ", a->asn);
			h(f, a->as_org);
		}
		fputs("</dd>", f);
	}
	if (a->dns_queries) {
		dt(f, "DNS");
		snprintf(b, sizeof(b), "%llu queries, %llu unique names, ",
			 (unsigned long long)a->dns_queries, (unsigned long long)a->dns_unique_names);
		fputs(b, f);
		snprintf(b, sizeof(b), "mean entropy %.2f, longest label %llu", a->dns_mean_entropy,
			 (unsigned long long)a->dns_max_label);
		fputs(b, f);
		fputs("</dd>", f);
	}
	if (a->icmp_payload_bytes) {
		dt(f, "ICMP");
		put_bytes(f, a->icmp_payload_bytes);
		snprintf(b, sizeof(b), " of payload, %llu large, %llu distinct",
			 (unsigned long long)a->icmp_large, (unsigned long long)a->icmp_distinct);
		fputs(b, f);
		fputs("</dd>", f);
	}
	if (a->community_id[0]) {
		dt(f, "community id");
		h(f, a->community_id);
		fputs("</dd>", f);
	}
	dt(f, "event id");
	h(f, a->id);
	if (updates)
		fprintf(f, " (updated %u time%s; the latest figures shown)", updates,
			updates == 1 ? "" : "s");
	fputs("</dd>", f);
	if (a->message[0]) {
		dt(f, "message");
		h(f, a->message);
		fputs("</dd>", f);
	}
	fputs("</dl></details>", f);
}

static void alerts(FILE *f, const struct report *r)
{
	fputs("<section id=\"alerts\"><h2>Alerts by rule and source</h2>\n", f);
	if (!r->alerts) {
		fputs("<p class=\"note\">No alerts.</p></section>\n", f);
		return;
	}
	uint32_t n;
	uint32_t *v = rtab_top(&r->groups, REPORT_MAX_GROUPS, NULL, &n);
	/* the kept alerts of each group, in time order */
	/* gfirst[g] / next[i]: index + 1 of the group's next kept alert, in time order */
	uint32_t *gfirst = calloc(r->groups.n ? r->groups.n : 1, sizeof(uint32_t));
	uint32_t *last = calloc(r->groups.n ? r->groups.n : 1, sizeof(uint32_t));
	uint32_t *next = calloc(r->ndetails ? r->ndetails : 1, sizeof(uint32_t));
	if (!gfirst || !last || !next) {
		fputs("<p class=\"note\">Out of memory.</p></section>\n", f);
		goto out;
	}
	for (uint32_t i = 0; i < r->ndetails; i++) {
		uint32_t g = r->detail_group[i];
		if (g == UINT32_MAX || g >= r->groups.n)
			continue;
		if (!gfirst[g])
			gfirst[g] = i + 1;
		else
			next[last[g] - 1] = i + 1;
		last[g] = i + 1;
	}
	bool open = r->ndetails <= 20;
	for (uint32_t gi = 0; gi < n; gi++) {
		const struct rgroup *g = rtab_at(&r->groups, v[gi]);
		fprintf(f, "<details class=\"group\"%s><summary><span class=\"tag sev%d\">%s</span> "
			   "<b>", open ? " open" : "", g->severity ? g->severity : 1,
			sev_name(g->severity));
		h(f, g->rule_name[0] ? g->rule_name : g->k.rule_id);
		fputs("</b> &mdash; ", f);
		put_addr(f, g->k.family, g->k.src);
		fputs(" &mdash; ", f);
		put_count(f, g->count);
		fprintf(f, " alert%s, ", g->count == 1 ? "" : "s");
		put_bytes(f, g->bytes_out);
		fputs(" egress in evidence, ", f);
		put_time(f, g->first_us, T_DATETIME);
		fputs(" to ", f);
		put_time(f, g->last_us, T_TIME);
		fputs(" UTC (", f);
		h(f, r->tech[g->tech]);
		fputs(")</summary>\n", f);
		if (!gfirst[v[gi]]) {
			fputs("<p class=\"note\">&nbsp;Evidence not kept (only the first ", f);
			fprintf(f, "%u", REPORT_DETAIL_ALERTS);
			fputs(" alerts of the run keep theirs).</p></details>\n", f);
			continue;
		}
		fputs("<table><thead><tr><th>time (UTC)</th><th>destination</th><th>name</th>"
		      "<th class=\"n\">egress</th><th>window</th><th>evidence</th></tr></thead><tbody>\n",
		      f);
		for (uint32_t i = gfirst[v[gi]]; i; i = next[i - 1]) {
			const struct alert *a = r->details[i - 1];
			char w[32];
			fputs("<tr class=\"alert-row\"><td>", f);
			put_time(f, a->ts_us, T_DATETIME);
			fputs("</td><td>", f);
			put_addr(f, a->family, a->dst);
			if (a->dst_port)
				fprintf(f, ":%u", a->dst_port);
			if (a->is_new)
				fputs(" <span class=\"tag new\">new</span>", f);
			fputs("</td><td class=\"name\">", f);
			h(f, a->domain[0] ? a->domain : a->registered_domain);
			fputs("</td><td class=\"n\">", f);
			put_bytes(f, a->bytes_out);
			fputs("</td><td>", f);
			alert_fmt_duration(a->window_s, w, sizeof(w));
			h(f, w);
			fputs("</td><td>", f);
			evidence(f, a, r->detail_updates[i - 1]);
			fputs("</td></tr>\n", f);
		}
		fputs("</tbody></table>", f);
		if (g->shown < g->count) {
			fputs("<p class=\"note\">&nbsp;", f);
			put_count(f, g->count - g->shown);
			fputs(" more alerts of this group without their evidence here.</p>", f);
		}
		fputs("</details>\n", f);
	}
	if (r->alerts > r->ndetails || r->group_overflow) {
		fputs("<p class=\"note\" id=\"alerts-not-shown\">", f);
		put_count(f, r->alerts - r->ndetails);
		fputs(" alerts are counted but not shown in detail (the first ", f);
		put_count(f, REPORT_DETAIL_ALERTS);
		fputs(" keep their evidence)", f);
		if (r->group_overflow) {
			fputs("; ", f);
			put_count(f, r->group_overflow);
			fputs(" belong to rule and source pairs beyond the first ", f);
			put_count(f, REPORT_MAX_GROUPS);
		}
		fputs(". Every alert is in the alert output.</p>\n", f);
	}
	fputs("</section>\n", f);
out:
	free(gfirst);
	free(next);
	free(last);
	free(v);
}

int report_write_html(struct report *r, const struct report_input *in,
		      const struct enrich *e, const char *path, char *err, size_t errlen)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>egressd report", f);
	if (in->sensor_name && in->sensor_name[0]) {
		fputs(": ", f);
		h(f, in->sensor_name);
	}
	fprintf(f, "</title>\n<style>%s</style></head><body>\n<header><h1>egressd report</h1>"
		   "<p class=\"meta\">", CSS);
	if (in->nfiles) {
		for (int i = 0; i < in->nfiles && i < 20; i++) {
			if (i)
				fputs(", ", f);
			h(f, in->files[i]);
		}
		if (in->nfiles > 20)
			fprintf(f, " and %d more files", in->nfiles - 20);
	} else {
		fputs("live capture on ", f);
		h(f, in->interface ? in->interface : "?");
	}
	fputs(" &middot; sensor ", f);
	h(f, in->sensor_name ? in->sensor_name : "");
	fputs(" &middot; egressd ", f);
	h(f, in->version ? in->version : "");
	fputs(" &middot; written ", f);
	put_time(f, (uint64_t)time(NULL) * 1000000u, T_DATETIME_UTC);
	fputs("</p></header>\n", f);
	overview(f, r, in);
	timeline(f, r);
	techniques(f, r);
	destinations(f, r, e);
	sources(f, r);
	alerts(f, r);
	fputs("<footer>Made by egressd from the flows and alerts of this run. Names come from "
	      "the traffic (TLS SNI, HTTP Host, DNS answers) and are shown as sent; bytes "
	      "that are not UTF-8 appear as \\xNN.</footer>\n</body></html>\n", f);
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
