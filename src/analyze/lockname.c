// SPDX-License-Identifier: MIT
/* How weft names a lock (see lockname.h). */
#include <inttypes.h>
#include <stdio.h>

#include "analyze/lockname.h"

void lock_name(char *buf, size_t len, const char *sym, uint64_t sym_off, uint64_t addr)
{
	if (sym && sym_off)
		snprintf(buf, len, "%s+0x%" PRIx64, sym, sym_off);
	else if (sym)
		snprintf(buf, len, "%s", sym);
	else
		snprintf(buf, len, "lock@0x%" PRIx64, addr);
}
