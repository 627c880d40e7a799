// SPDX-License-Identifier: GPL-2.0
/*
 * json_check [PATH...]: exits 0 if standard input is one valid JSON text
 * (RFC 8259), 1 with the offset of the first error otherwise. The guest of
 * the VM tests has no JSON parser; this is enough to say `ashmem list
 * --json` parses.
 *
 * Each PATH names a value: object keys and array indices joined by dots
 * ("totals.size", "regions.0.name"; "" is the whole text). Their values
 * are printed one a line, as they are in the input (strings with their
 * quotes and escapes); a PATH that names nothing fails the check.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text;
static size_t pos, len;

/* The path of the value being parsed, and the ones asked for. */
static char path[4096];
static size_t path_len;
static char **queries;
static int nr_queries;
static size_t *found_start, *found_end;
static int *found;

static bool value(int depth);

static void skip_space(void)
{
	while (pos < len && strchr(" \t\r\n", text[pos]))
		pos++;
}

static bool literal(const char *word)
{
	size_t n = strlen(word);

	if (len - pos < n || memcmp(text + pos, word, n))
		return false;
	pos += n;
	return true;
}

static bool string(void)
{
	if (pos >= len || text[pos] != '"')
		return false;
	for (pos++; pos < len; pos++) {
		unsigned char c = (unsigned char)text[pos];

		if (c == '"') {
			pos++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (++pos >= len)
			return false;
		if (text[pos] == 'u') {
			for (int i = 0; i < 4; i++)
				if (++pos >= len ||
				    !strchr("0123456789abcdefABCDEF", text[pos]))
					return false;
		} else if (!strchr("\"\\/bfnrt", text[pos])) {
			return false;
		}
	}
	return false;
}

static bool digits(void)
{
	size_t start = pos;

	while (pos < len && text[pos] >= '0' && text[pos] <= '9')
		pos++;
	return pos > start;
}

static bool number(void)
{
	if (pos < len && text[pos] == '-')
		pos++;
	if (pos < len && text[pos] == '0')
		pos++;
	else if (!digits())
		return false;
	if (pos < len && text[pos] == '.') {
		pos++;
		if (!digits())
			return false;
	}
	if (pos < len && (text[pos] == 'e' || text[pos] == 'E')) {
		pos++;
		if (pos < len && (text[pos] == '+' || text[pos] == '-'))
			pos++;
		if (!digits())
			return false;
	}
	return true;
}

/* Appends ".@name" (no dot at the top) to the path; false if too long. */
static bool path_push(const char *name, size_t n)
{
	size_t dot = path_len ? 1 : 0;

	if (path_len + dot + n >= sizeof(path))
		return false;
	if (dot)
		path[path_len++] = '.';
	memcpy(path + path_len, name, n);
	path_len += n;
	path[path_len] = '\0';
	return true;
}

/* An array or object: @open, members separated by commas, @close. */
static bool members(char open, char close, int depth)
{
	size_t saved = path_len, key;
	unsigned long index = 0;
	char num[32];
	bool ok;

	pos++;	/* @open */
	skip_space();
	if (pos < len && text[pos] == close) {
		pos++;
		return true;
	}
	for (;;) {
		skip_space();
		if (open == '{') {
			key = pos;
			if (!string())
				return false;
			/* The key as written, without its quotes. */
			if (!path_push(text + key + 1, pos - key - 2))
				return false;
			skip_space();
			if (pos >= len || text[pos++] != ':')
				return false;
		} else {
			snprintf(num, sizeof(num), "%lu", index++);
			if (!path_push(num, strlen(num)))
				return false;
		}
		ok = value(depth + 1);
		path_len = saved;
		path[path_len] = '\0';
		if (!ok)
			return false;
		skip_space();
		if (pos < len && text[pos] == ',') {
			pos++;
			continue;
		}
		if (pos < len && text[pos] == close) {
			pos++;
			return true;
		}
		return false;
	}
}

static bool one_value(int depth)
{
	switch (text[pos]) {
	case '{':
		return members('{', '}', depth);
	case '[':
		return members('[', ']', depth);
	case '"':
		return string();
	case 't':
		return literal("true");
	case 'f':
		return literal("false");
	case 'n':
		return literal("null");
	default:
		return number();
	}
}

static bool value(int depth)
{
	size_t start;
	bool ok;
	int i;

	if (depth > 64)
		return false;
	skip_space();
	if (pos >= len)
		return false;
	start = pos;
	ok = one_value(depth);
	for (i = 0; ok && i < nr_queries; i++) {
		if (!found[i] && !strcmp(queries[i], path)) {
			found[i] = 1;
			found_start[i] = start;
			found_end[i] = pos;
		}
	}
	return ok;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	int i, ret = 0;

	queries = argv + 1;
	nr_queries = argc - 1;
	found = calloc(argc, sizeof(*found));
	found_start = calloc(argc, sizeof(*found_start));
	found_end = calloc(argc, sizeof(*found_end));
	if (!found || !found_start || !found_end) {
		fprintf(stderr, "json_check: out of memory\n");
		return 1;
	}

	len = fread(buf, 1, sizeof(buf), stdin);
	if (len == sizeof(buf)) {
		fprintf(stderr, "json_check: input too long\n");
		return 1;
	}
	text = buf;
	if (!value(0) || (skip_space(), pos != len)) {
		fprintf(stderr, "json_check: invalid JSON at byte %zu\n", pos);
		return 1;
	}
	for (i = 0; i < nr_queries; i++) {
		if (!found[i]) {
			fprintf(stderr, "json_check: no value at '%s'\n",
				queries[i]);
			ret = 1;
			continue;
		}
		printf("%.*s\n", (int)(found_end[i] - found_start[i]),
		       text + found_start[i]);
	}
	return ret;
}
