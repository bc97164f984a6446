// SPDX-License-Identifier: MIT
/* weft.h without weft attached: probe sites are single nops, arguments are never evaluated. */
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "weft/events.h"
#include "weft/weft.h"

static int evaluated;

static unsigned long long costly(unsigned long long v)
{
	evaluated++;
	return v * 3;
}

/* noinline: one copy of each probe in this file, at a known place */
__attribute__((noinline)) static void annotated(unsigned long long i)
{
	WEFT_ACTOR_SEND(costly(i), i + 1, costly(i + 2), i);
	WEFT_ACTOR_RECV(i, costly(i), -1);
	WEFT_ACTOR_NAME(i, "x");
	WEFT_TASK_POLL_BEGIN(costly(i));
	WEFT_TASK_POLL_END(i, 1);
	WEFT_CHAN_SEND(i, costly(i));
	WEFT_LOOP_BEGIN(i);
}

static void test_arguments_not_evaluated(void **state)
{
	assert_false(WEFT_ENABLED(actor_send));
	assert_false(WEFT_ENABLED(actor_recv));
	for (int i = 0; i < 1000; i++)
		annotated(i);
	assert_int_equal(evaluated, 0);
}

/* Reads this executable's stapsdt notes; each probe site must hold a one-byte nop (0x90). */
static void test_probe_sites_are_nops(void **state)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx, sites = 0, nops = 0, with_sem = 0;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_NOTE || strcmp(elf_strptr(elf, shstrndx, sh.sh_name),
						     ".note.stapsdt"))
			continue;
		d = elf_getdata(scn, NULL);
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			uint64_t addr[3]; /* pc, base, semaphore: 4-byte aligned in the note */
			Elf_Scn *text = NULL;

			if (strcmp((char *)d->d_buf + doff + 24, "weft"))
				continue;
			memcpy(addr, (char *)d->d_buf + doff, sizeof(addr));
			sites++;
			with_sem += addr[2] != 0;
			/* the file byte at the probe's link-time address */
			while ((text = elf_nextscn(elf, text))) {
				GElf_Shdr th;
				unsigned char b;

				gelf_getshdr(text, &th);
				if (th.sh_type != SHT_PROGBITS || !(th.sh_flags & SHF_EXECINSTR) ||
				    addr[0] < th.sh_addr || addr[0] >= th.sh_addr + th.sh_size)
					continue;
				assert_int_equal(pread(fd, &b, 1, th.sh_offset + addr[0] - th.sh_addr),
						 1);
				nops += b == 0x90;
			}
		}
	}
	elf_end(elf);
	close(fd);
	assert_int_equal(sites, 7);
	assert_int_equal(nops, sites);
	assert_int_equal(with_sem, sites); /* every probe is gated by a semaphore */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arguments_not_evaluated),
		cmocka_unit_test(test_probe_sites_are_nops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
