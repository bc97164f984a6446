// SPDX-License-Identifier: MIT
/* Kernel addresses to names through /proc/kallsyms, read once and binary-searched. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/sym_internal.h"

struct ksym {
	uint64_t addr;
	uint32_t name;	 /* offset into kallsyms.names */
	uint32_t module; /* offset into kallsyms.names of "[module]" or "[kernel.kallsyms]" */
};

struct kallsyms {
	struct ksym *syms; /* sorted by addr */
	size_t nsyms;
	char *names;
	size_t names_len;
};

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* Append s to the name arena; returns its offset or -1. */
static long names_add(struct kallsyms *ks, size_t *cap, const char *s, size_t len)
{
	size_t at = ks->names_len;

	if (at + len + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 1 << 20;
		char *grown;

		while (ncap < at + len + 1)
			ncap *= 2;
		grown = realloc(ks->names, ncap);
		if (!grown)
			return -1;
		ks->names = grown;
		*cap = ncap;
	}
	memcpy(ks->names + at, s, len);
	ks->names[at + len] = '\0';
	ks->names_len += len + 1;
	return (long)at;
}

/*
 * Lines read "ffffffff81000000 T _stext" or "ffffffffc0a01000 t foo\t[module]". Only text
 * symbols are kept: a kernel stack holds code addresses. Without CAP_SYSLOG (kptr_restrict)
 * every address reads 0: that is -EPERM, not an empty table.
 */
int kallsyms_load(struct kallsyms **ksp)
{
	size_t cap = 0, names_cap = 0, line_cap = 0;
	struct kallsyms *ks = calloc(1, sizeof(*ks));
	long kernel_mod, last_mod = -1;
	char *line = NULL, last_mod_name[128] = "";
	bool any_nonzero = false;
	int err = 0;
	FILE *f = NULL;

	if (!ks) {
		err = -ENOMEM;
		goto out;
	}
	kernel_mod = names_add(ks, &names_cap, "[kernel.kallsyms]", strlen("[kernel.kallsyms]"));
	f = fopen("/proc/kallsyms", "re");
	if (!f || kernel_mod < 0) {
		err = f ? -ENOMEM : -errno;
		goto out;
	}
	while (getline(&line, &line_cap, f) > 0) {
		char *p = line, *name, *mod;
		uint64_t addr = strtoull(p, &p, 16);
		char type;
		long off, mod_off = kernel_mod;
		size_t len;

		if (*p != ' ')
			continue;
		type = p[1];
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = p + 3;
		len = strcspn(name, "\t\n");
		mod = name[len] == '\t' ? name + len + 1 : NULL;
		if (addr)
			any_nonzero = true;
		if (mod) {
			size_t mlen = strcspn(mod, "\n");

			mod[mlen] = '\0';
			/* Module symbols come grouped: share one copy of the module name. */
			if (last_mod < 0 || strcmp(mod, last_mod_name)) {
				last_mod = names_add(ks, &names_cap, mod, mlen);
				snprintf(last_mod_name, sizeof(last_mod_name), "%s", mod);
			}
			mod_off = last_mod;
		}
		off = names_add(ks, &names_cap, name, len);
		if (off < 0 || mod_off < 0) {
			err = -ENOMEM;
			goto out;
		}
		if (ks->nsyms == cap) {
			struct ksym *grown;

			cap = cap ? cap * 2 : 65536;
			grown = realloc(ks->syms, cap * sizeof(*grown));
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			ks->syms = grown;
		}
		ks->syms[ks->nsyms++] =
			(struct ksym){ .addr = addr, .name = (uint32_t)off, .module = (uint32_t)mod_off };
	}
	if (!any_nonzero) {
		err = -EPERM;
		goto out;
	}
	qsort(ks->syms, ks->nsyms, sizeof(*ks->syms), ksym_cmp);
out:
	if (f)
		fclose(f);
	free(line);
	if (err) {
		kallsyms_free(ks);
		return err;
	}
	*ksp = ks;
	return 0;
}

void kallsyms_free(struct kallsyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->names);
	free(ks);
}

int kallsyms_lookup(const struct kallsyms *ks, uint64_t pc, struct sym_loc *loc)
{
	size_t lo = 0, hi = ks->nsyms;
	const struct ksym *k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	k = &ks->syms[lo - 1];
	loc->function = ks->names + k->name;
	loc->module = ks->names + k->module;
	loc->rel_pc = pc;
	loc->func_off = pc - k->addr;
	return 0;
}
