/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's times as text: its own @timestamp form, read back, and
 * --until's ISO 8601 or "@" and epoch seconds. Pure parsing, no time zone
 * database and no locale for the journal's form; a user's --until goes
 * through GLib's ISO 8601 parser. Fed input from hostile journals and
 * from the command line (fuzz_journal, fuzz_options).
 */
#include "journal_read.h"

#include <glib.h>

#include "journal_decode.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no time zone database, no locale. */
static gint64 days_from_civil(gint64 y, guint m, guint d)
{
	gint64 era;
	guint yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (guint)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (gint64)doe - 719468;
}

static gboolean digits(const char *s, guint n, guint *out)
{
	guint v = 0;

	for (guint i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
		v = v * 10 + (guint)(s[i] - '0');
	}
	*out = v;
	return TRUE;
}

gboolean journal_parse_timestamp(const char *text, guint64 *out_ns)
{
	static const guint8 month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	guint year, month, day, hour, minute, second, frac = 0, frac_digits = 0;
	const char *p = text;
	gint64 days;

	if (!digits(p, 4, &year) || p[4] != '-' || !digits(p + 5, 2, &month) || p[7] != '-' ||
	    !digits(p + 8, 2, &day) || p[10] != 'T' || !digits(p + 11, 2, &hour) || p[13] != ':' ||
	    !digits(p + 14, 2, &minute) || p[16] != ':' || !digits(p + 17, 2, &second))
		return FALSE;
	p += 19;
	if (*p == '.') {
		p++;
		while (g_ascii_isdigit(*p)) {
			if (frac_digits == 9)
				return FALSE;
			frac = frac * 10 + (guint)(*p - '0');
			frac_digits++;
			p++;
		}
		if (frac_digits == 0)
			return FALSE;
	}
	if (p[0] != 'Z' || p[1] != '\0')
		return FALSE;
	if (year < 1970 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
	    hour > 23 || minute > 59 || second > 60)
		return FALSE;
	for (; frac_digits < 9; frac_digits++)
		frac *= 10;
	days = days_from_civil(year, month, day);
	*out_ns = ((guint64)days * 86400 + hour * 3600 + minute * 60 + second) * NS_PER_SEC + frac;
	return TRUE;
}

gboolean journal_parse_until(const char *text, guint64 *out_ns, GError **error)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) when = NULL;
	gint64 seconds;

	if (text[0] == '@') {
		const char *p = text + 1;
		guint64 whole = 0, frac = 0, scale = NS_PER_SEC;
		gboolean any = FALSE;

		while (g_ascii_isdigit(*p)) {
			if (whole > G_MAXUINT64 / NS_PER_SEC / 10)
				goto bad_epoch;
			whole = whole * 10 + (guint64)(*p++ - '0');
			any = TRUE;
		}
		if (*p == '.') {
			p++;
			while (g_ascii_isdigit(*p)) {
				if (scale > 1) {
					scale /= 10;
					frac += (guint64)(*p - '0') * scale;
				}
				p++;
			}
		}
		if (!any || *p != '\0')
			goto bad_epoch;
		*out_ns = whole * NS_PER_SEC + frac;
		return TRUE;
	bad_epoch:
		g_set_error(error, JOURNAL_READ_ERROR, 0,
		            "--until: '%s' is not a time (expected ISO 8601 such as "
		            "2026-11-22T13:40:00Z, or @ and epoch seconds such as @1763818800)",
		            text);
		return FALSE;
	}
	when = g_date_time_new_from_iso8601(text, utc);
	if (when == NULL || (seconds = g_date_time_to_unix(when)) < 0) {
		g_set_error(error, JOURNAL_READ_ERROR, 0,
		            "--until: '%s' is not a time (expected ISO 8601 such as "
		            "2026-11-22T13:40:00Z or 2026-11-22T14:40:00+01:00, or @ and epoch "
		            "seconds such as @1763818800)",
		            text);
		return FALSE;
	}
	*out_ns = (guint64)seconds * NS_PER_SEC + (guint64)g_date_time_get_microsecond(when) * 1000;
	return TRUE;
}
