// SPDX-License-Identifier: MIT
/*
 * A program whose library is cut short on disk while it runs (a library overwritten in place,
 * as cp does): it loads the library given, sleeps a while in its own code, says
 * "weft-sample: phase=ready" and waits for the file given second to appear (made once the
 * library has been truncated), then sleeps 100 times inside the library.
 *
 * Everything it still runs in the library lies in pages it already touched; it ends with
 * _exit(), which reads nothing more of the library (its destructors' table would fault).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static void nap(long ns)
{
	struct timespec ts = { 0, ns };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	void (*lib_sleep)(long);
	void *lib;

	if (argc != 3) {
		fprintf(stderr, "usage: %s LIBRARY GO_FILE\n", argv[0]);
		return 2;
	}
	lib = dlopen(argv[1], RTLD_NOW);
	lib_sleep = lib ? (void (*)(long))dlsym(lib, "napping_sleep") : NULL;
	if (!lib_sleep) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	for (int i = 0; i < 50; i++)
		nap(5000000);
	printf("weft-sample: phase=ready\n");
	fflush(stdout);
	while (access(argv[2], F_OK))
		nap(1000000);
	for (int i = 0; i < 100; i++)
		lib_sleep(5000000);
	printf("weft-sample: phase=done\n");
	fflush(stdout);
	_exit(0);
}
