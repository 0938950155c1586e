/*
 * fuzz_conf.c - libFuzzer target for the conf reader (conf.c on libgw's
 * cfg) and the language files' own reader (lang.c): the input is turned
 * into a conf file of the groups and keys conf.def declares, written to a
 * temporary directory and read with conf_load() (and, for a language
 * file, lang_load() of that directory).  Built and run by
 * tests/fuzz/run.sh.
 *
 * The file: the input's first byte chooses the kind (bit 0: a language
 * file "xx.conf", else marketbox.conf, which starts with a group
 * marketbox that has the keys the daemon needs; bit 1: include the
 * shipped catalogue.conf; bit 2: include the shipped ussd.conf; bit 3:
 * the rest of the input is the file, as it is, and nothing else).  Then
 * each line of the input is one line of the file, by its first byte b0
 * and second byte b1:
 *
 *	b0 % 8 == 0	"group = G", G the (b1)th group of conf.def
 *	b0 % 8 == 1	"K = N", K the (b1)th key of the group in force and
 *			N a number made of the next bytes
 *	b0 % 8 == 2	"K = "V"": the rest of the line in double quotes
 *	b0 % 8 == 3	"K = V", V any key of any group (a misplaced key)
 *	b0 % 8 == 4	"include = X", X a shipped file, a directory, the
 *			file itself, or one that does not exist
 *	otherwise	"K = V", V the rest of the line as it is
 *
 * Invariants: reading returns a conf or NULL (logged) without crashing or
 * leaking, and reading the same file again gives the same answer.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gw.h"
#include "base/conf.h"
#include "text/lang.h"

#define FUZZ_CONF_LINES	64		/* lines taken from one input */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* conf.def's groups, each with its keys. */
struct fuzz_conf_group {
	const char	*name;
	const char	*keys[64];
	size_t		 nkeys;
};
static struct fuzz_conf_group	 fuzz_conf_groups[] = {
#define GROUP(name, single)	{ #name, {
#define KEY(name)		#name,
#define END_GROUP		NULL }, 0 },
#include "base/conf.def"
#undef GROUP
#undef KEY
#undef END_GROUP
};
#define FUZZ_CONF_NGROUPS \
	(sizeof(fuzz_conf_groups) / sizeof(fuzz_conf_groups[0]))

static char	 fuzz_conf_dir[64];
static char	 fuzz_conf_path[128];

static void
fuzz_conf_check(int ok)
{
	if (!ok)
		abort();
}

static void
fuzz_conf_cleanup(void)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/lang/xx.conf", fuzz_conf_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lang", fuzz_conf_dir);
	rmdir(path);
	unlink(fuzz_conf_path);
	rmdir(fuzz_conf_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 path[128];
	size_t	 i;

	(void)argc;
	(void)argv;
	for (i = 0; i < FUZZ_CONF_NGROUPS; i++)
		while (fuzz_conf_groups[i].keys[fuzz_conf_groups[i].nkeys] !=
		    NULL)
			fuzz_conf_groups[i].nkeys++;
	gwlib_init();
	log_set_output_level(GW_PANIC);
	snprintf(fuzz_conf_dir, sizeof(fuzz_conf_dir), "%s/fuzz_conf.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fuzz_conf_check(mkdtemp(fuzz_conf_dir) != NULL);
	snprintf(path, sizeof(path), "%s/lang", fuzz_conf_dir);
	fuzz_conf_check(mkdir(path, 0700) == 0);
	snprintf(fuzz_conf_path, sizeof(fuzz_conf_path), "%s/marketbox.conf",
	    fuzz_conf_dir);
	atexit(fuzz_conf_cleanup);
	return 0;
}

/* One line of the input (n bytes at p) as a line of the file f. */
static void
fuzz_conf_line(FILE *f, const struct fuzz_conf_group **g,
    const uint8_t *p, size_t n, const char *self)
{
	const struct fuzz_conf_group	*any;
	unsigned char			 b0 = n > 0 ? p[0] : 0;
	unsigned char			 b1 = n > 1 ? p[1] : 0;
	const char			*key;
	unsigned long long		 v = 0;
	size_t				 i;

	p += n > 2 ? 2 : n;
	n -= n > 2 ? 2 : n;
	key = (*g)->nkeys > 0 ? (*g)->keys[b1 % (*g)->nkeys] : "name";
	switch (b0 % 8) {
	case 0:
		*g = &fuzz_conf_groups[b1 % FUZZ_CONF_NGROUPS];
		fprintf(f, "\ngroup = %s\n", (*g)->name);
		return;
	case 1:
		for (i = 0; i < n && i < 8; i++)
			v = v << 8 | p[i];
		fprintf(f, "%s = %lld\n", key, b0 & 0x80 ?
		    -(long long)(v % 100000) : (long long)(b0 & 0x40 ?
		    v >> 1 : v % 1000));
		return;
	case 2:
		fprintf(f, "%s = \"", key);
		fwrite(p, 1, n, f);
		fputs("\"\n", f);
		return;
	case 3:
		any = &fuzz_conf_groups[b1 % FUZZ_CONF_NGROUPS];
		key = any->nkeys > 0 ? any->keys[(n > 0 ? p[0] : 0) %
		    any->nkeys] : "name";
		fprintf(f, "%s = ", key);
		if (n > 1)
			fwrite(p + 1, 1, n - 1, f);
		fputc('\n', f);
		return;
	case 4:
		switch (b1 % 6) {
		case 0:
			fputs("include = \"" FUZZ_SRCDIR
			    "/conf/catalogue.conf\"\n", f);
			break;
		case 1:
			fputs("include = \"" FUZZ_SRCDIR "/conf/ussd.conf\"\n",
			    f);
			break;
		case 2:
			fprintf(f, "include = \"%s/lang\"\n", fuzz_conf_dir);
			break;
		case 3:
			fprintf(f, "include = \"%s\"\n", self);
			break;
		case 4:
			fputs("include = \"nowhere.conf\"\n", f);
			break;
		default:
			fputs("include = ", f);
			fwrite(p, 1, n, f);
			fputc('\n', f);
		}
		return;
	default:
		fprintf(f, "%s = ", key);
		fwrite(p, 1, n, f);
		fputc('\n', f);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_conf_group	*g = &fuzz_conf_groups[0];
	const uint8_t			*p, *end = data + size, *nl;
	char				 path[128];
	const char			*file;
	struct conf			*c, *again;
	struct lang_set			*l, *lagain;
	unsigned char			 kind;
	FILE				*f;
	int				 n = 0;

	if (size == 0)
		return 0;
	kind = data[0];
	snprintf(path, sizeof(path), "%s/lang/xx.conf", fuzz_conf_dir);
	file = kind & 1 ? path : fuzz_conf_path;
	unlink(path);
	unlink(fuzz_conf_path);
	fuzz_conf_check((f = fopen(file, "w")) != NULL);
	if (kind & 8)
		fwrite(data + 1, 1, size - 1, f);
	else if (kind & 1) {
		size_t	i;

		for (i = 0; i < FUZZ_CONF_NGROUPS; i++)
			if (strcmp(fuzz_conf_groups[i].name, "language") == 0)
				g = &fuzz_conf_groups[i];
		fputs("group = language\ncode = xx\nname = Xx\n", f);
	} else
		fputs("group = marketbox\nsmsbox-id = marketbox\n"
		    "global-sender = 777\ncountry-code = 254\n"
		    "currency = KES\ndefault-language = en\n"
		    "language-dir = \"" FUZZ_SRCDIR "/conf/lang\"\n", f);
	if ((kind & 10) == 2)
		fputs("include = \"" FUZZ_SRCDIR "/conf/catalogue.conf\"\n", f);
	if ((kind & 12) == 4)
		fputs("include = \"" FUZZ_SRCDIR "/conf/ussd.conf\"\n", f);
	for (p = data + 1; !(kind & 8) && p < end && n < FUZZ_CONF_LINES;
	    n++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		fuzz_conf_line(f, &g, p, (size_t)(nl - p), file);
		p = nl + 1;
	}
	fuzz_conf_check(fclose(f) == 0);

	if (kind & 1) {
		snprintf(path, sizeof(path), "%s/lang", fuzz_conf_dir);
		l = lang_load(path, kind & 8 ? "en" : "xx");
		lagain = lang_load(path, kind & 8 ? "en" : "xx");
		fuzz_conf_check((l == NULL) == (lagain == NULL));
		lang_free(l);
		lang_free(lagain);
	} else {
		c = conf_load(fuzz_conf_path);
		again = conf_load(fuzz_conf_path);
		fuzz_conf_check((c == NULL) == (again == NULL));
		conf_free(c);
		conf_free(again);
	}
	return 0;
}
