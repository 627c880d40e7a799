// SPDX-License-Identifier: GPL-2.0
/*
 * json_check: exits 0 if standard input is one valid JSON text (RFC 8259),
 * 1 with the offset of the first error otherwise. The guest of the VM
 * tests has no JSON parser; this is enough to say `ashmem list --json`
 * parses.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text;
static size_t pos, len;

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

/* An array or object: @open, members separated by commas, @close. */
static bool members(char open, char close, int depth)
{
	pos++;	/* @open */
	skip_space();
	if (pos < len && text[pos] == close) {
		pos++;
		return true;
	}
	for (;;) {
		skip_space();
		if (open == '{') {
			if (!string())
				return false;
			skip_space();
			if (pos >= len || text[pos++] != ':')
				return false;
		}
		if (!value(depth + 1))
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

static bool value(int depth)
{
	if (depth > 64)
		return false;
	skip_space();
	if (pos >= len)
		return false;
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

int main(void)
{
	static char buf[1 << 20];

	len = fread(buf, 1, sizeof(buf), stdin);
	if (len == sizeof(buf)) {
		fprintf(stderr, "json_check: input too long\n");
		return 1;
	}
	text = buf;
	if (value(0)) {
		skip_space();
		if (pos == len)
			return 0;
	}
	fprintf(stderr, "json_check: invalid JSON at byte %zu\n", pos);
	return 1;
}
