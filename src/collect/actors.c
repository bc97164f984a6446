// SPDX-License-Identifier: MIT
/* Actors area loader: weft.h USDT probes in any binary or library, uprobes on runtimes. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <pthread.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/area.h"
#include "collect/detach.h"
#include "actors.skel.h"
#include "clock.h"

#define PATHS_MAX 128
#define NOTE_NAMES_MAX 32

struct attached {
	pid_t pid;
	dev_t dev;
	ino_t ino;
};

/* One probe: what it takes to attach it again (sampled mode attaches and detaches them). */
struct site {
	struct bpf_program *prog;
	pid_t pid;
	char *path;
	char *name;      /* USDT probe name, or the function of a uprobe */
	bool usdt, retprobe;
	size_t offset;   /* uprobes: file offset of the function, resolved once */
	struct bpf_link *link;
};

struct actors {
	struct actors_bpf *skel;
	struct site *sites;
	size_t nsites, capsites;
	pthread_mutex_t mu;        /* sites: add_process() and the sampler thread */
	pthread_t sampler;
	bool sampling, stop, on;
	double budget;             /* fraction of one CPU; 0: always attached */
	double on_ns, total_ns;    /* time attached / time sampled */
	struct attached *done;
	size_t ndone, capdone;
	struct collector *c;       /* where its messages go */
};

static int site_attach(struct site *st)
{
	if (st->link)
		return 0;
	if (st->usdt) {
		st->link = bpf_program__attach_usdt(st->prog, st->pid, st->path, "weft", st->name,
						    NULL);
	} else {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = st->retprobe);

		/* by offset: sampled mode attaches again every window, without reading the ELF */
		st->link = bpf_program__attach_uprobe_opts(st->prog, st->pid, st->path, st->offset,
							   &uo);
	}
	return st->link ? 0 : -errno;
}

static void site_detach(struct site *st)
{
	bpf_link__destroy(st->link);
	st->link = NULL;
}

/* Adds a probe and attaches it unless sampled mode is between windows. Returns 0 or -errno;
 * a probe that does not attach is not kept. */
static int add_site(struct actors *a, struct bpf_program *prog, pid_t pid, const char *path,
		    const char *name, bool usdt, bool retprobe, size_t offset)
{
	struct site st = { prog, pid, NULL, NULL, usdt, retprobe, offset, NULL };
	int ret;

	/* attach once even in sampled mode: a probe that cannot attach is reported now */
	st.path = strdup(path);
	st.name = strdup(name);
	if (!st.path || !st.name) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = site_attach(&st);
	if (ret)
		goto fail;
	pthread_mutex_lock(&a->mu);
	if (a->nsites == a->capsites) {
		size_t cap = a->capsites ? a->capsites * 2 : 64;
		struct site *n = realloc(a->sites, cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&a->mu);
			ret = -ENOMEM;
			goto fail;
		}
		a->sites = n;
		a->capsites = cap;
	}
	if (a->sampling && !a->on)
		site_detach(&st);
	a->sites[a->nsites++] = st;
	pthread_mutex_unlock(&a->mu);
	return 0;
fail:
	site_detach(&st);
	free(st.path);
	free(st.name);
	return ret;
}

static uint64_t hits_now(struct actors *a)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0, vals[ncpu > 0 ? ncpu : 1];
	__u32 key = 0;

	if (ncpu > 0 && !bpf_map__lookup_elem(a->skel->maps.actor_hits, &key, sizeof(key), vals,
					      sizeof(vals[0]) * ncpu, 0))
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	return sum;
}

static void sleep_ns(double ns)
{
	struct timespec ts = { (time_t)(ns / 1e9), (long)((uint64_t)ns % 1000000000) };

	nanosleep(&ts, NULL);
}

static void *detach_main(void *arg)
{
	site_detach(arg);
	return NULL;
}

/*
 * Detaching a uprobe removes its breakpoint at once but then waits for an RCU grace period
 * (tens of ms here); one after the other, the probes not yet detached would stay live all that
 * time. Detach them in parallel (a thread each; sites are few).
 */
#define DETACH_THREADS 16
static void set_all(struct actors *a, bool on)
{
	pthread_t th[DETACH_THREADS];

	pthread_mutex_lock(&a->mu);
	a->on = on;
	for (size_t i = 0; i < a->nsites;) {
		size_t n = 0;

		for (; i < a->nsites && n < DETACH_THREADS; i++) {
			if (on)
				site_attach(&a->sites[i]);
			else if (a->sites[i].link &&
				 pthread_create(&th[n], NULL, detach_main, &a->sites[i]) == 0)
				n++;
			else
				site_detach(&a->sites[i]);
		}
		while (n)
			pthread_join(th[--n], NULL);
	}
	pthread_mutex_unlock(&a->mu);
}

/*
 * Sampled mode: every PERIOD the probes are attached for a window, then detached. The window
 * is sized from the hit rate seen in the last one, so that hits x cost-per-hit stays within
 * the budget. A detached uprobe costs nothing: the breakpoint is gone from the target's text.
 */
#define SAMPLE_PERIOD_NS 200e6 /* shortest cycle; detaching makes most cycles longer */
#define HIT_COST_NS 15000.0 /* middle of the 6-24 us a uprobe hit costs on our VMs */
static void *sampler_main(void *arg)
{
	struct actors *a = arg;
	double duty = a->budget < 1 ? a->budget : 1;

	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		double target = SAMPLE_PERIOD_NS * duty, t0, t1, t2, t3, live, rate, cycle;
		uint64_t h0 = hits_now(a), h;

		/* records say which window they come from: the analysis pairs within one only */
		__atomic_add_fetch(&a->skel->bss->window, 1, __ATOMIC_RELAXED);
		t0 = (double)monotonic_ns();
		set_all(a, true);
		/* attaching takes time too, with the first probes already live: count it in */
		t1 = (double)monotonic_ns();
		if (target > t1 - t0)
			sleep_ns(target - (t1 - t0));
		/* Detaching removes the breakpoints at once, then waits for RCU (~0.5 s here): the
		 * probes are live until t2; the cycle lasts at least until t3. */
		t2 = (double)monotonic_ns();
		set_all(a, false);
		t3 = (double)monotonic_ns();
		h = hits_now(a) - h0;
		live = t2 - t0;
		rate = (double)h * HIT_COST_NS / live; /* CPU share while attached */
		duty = rate > 0 ? a->budget / rate : 1;
		if (duty > 1)
			duty = 1;
		if (duty < 0.01)
			duty = 0.01;
		/* off long enough that this window's cost, spread over the cycle, fits the budget */
		cycle = rate > a->budget ? live * rate / a->budget : SAMPLE_PERIOD_NS;
		if (cycle > t3 - t0)
			sleep_ns(cycle - (t3 - t0));
		a->on_ns += live;
		a->total_ns += (double)monotonic_ns() - t0;
	}
	return NULL;
}

/* Each (process, file) once: add_process() runs again after every exec. */
static bool first_time(struct actors *a, pid_t pid, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return false;
	for (size_t i = 0; i < a->ndone; i++)
		if (a->done[i].pid == pid && a->done[i].dev == st.st_dev &&
		    a->done[i].ino == st.st_ino)
			return false;
	if (a->ndone == a->capdone) {
		size_t cap = a->capdone ? a->capdone * 2 : 32;
		struct attached *n = realloc(a->done, cap * sizeof(*n));

		if (!n)
			return false;
		a->done = n;
		a->capdone = cap;
	}
	a->done[a->ndone++] = (struct attached){ pid, st.st_dev, st.st_ino };
	return true;
}

/*
 * The stapsdt notes of provider "weft" in an ELF file. Each note's descriptor is
 *   pc, base, semaphore (3 x 8 bytes) | provider\0 | name\0 | argument spec\0
 */
static int weft_note_names(Elf *elf, char names[][64], int max)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int n = 0;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		const char *sname;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!sname || strcmp(sname, ".note.stapsdt"))
			continue;
		d = elf_getdata(scn, NULL);
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const char *desc = (const char *)d->d_buf + desc_off;
			const char *prov, *name;
			bool dup = false;

			if (nh.n_type != 3 || nh.n_descsz < 3 * 8 + 2)
				continue;
			prov = desc + 3 * 8;
			if (strcmp(prov, "weft"))
				continue;
			name = prov + strlen(prov) + 1;
			for (int i = 0; i < n; i++)
				dup |= !strcmp(names[i], name);
			if (!dup && n < max)
				snprintf(names[n++], 64, "%.63s", name);
		}
	}
	return n;
}

static struct bpf_program *usdt_program(struct actors *a, const char *name)
{
	char prog[80];

	snprintf(prog, sizeof(prog), "weft_%.70s", name);
	return bpf_object__find_program_by_name(a->skel->obj, prog);
}

static int attach_usdt_file(struct actors *a, pid_t pid, const char *path, Elf *elf)
{
	char names[NOTE_NAMES_MAX][64];
	int n = weft_note_names(elf, names, NOTE_NAMES_MAX);
	int attached = 0;

	for (int i = 0; i < n; i++) {
		struct bpf_program *p = usdt_program(a, names[i]);
		int ret;

		if (!p)
			continue; /* a newer weft.h than this weft: skip what we do not know */
		ret = add_site(a, p, pid, path, names[i], true, false, 0);
		if (ret) {
			collector_message(a->c, COLLECTOR_MSG_VERBOSE, NULL, "actors: %s: weft:%s: %s",
					  path, names[i], strerror(-ret));
			continue;
		}
		attached++;
	}
	if (attached)
		collector_message(a->c, COLLECTOR_MSG_VERBOSE, NULL,
				  "actors: pid %d: %d annotation probes in %s", pid, attached, path);
	return attached;
}

/* Libraries the binary asks for, so probes go in before the dynamic loader maps them
 * (`weft run` attaches at exec, when only the executable and ld.so are mapped). */
static int needed_libs(Elf *elf, const char *exe, char out[][PATH_MAX], int max)
{
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					    "/usr/local/lib", "/lib", "/usr/lib", "/lib64" };
	char origin[PATH_MAX], runpath[PATH_MAX] = "";
	Elf_Scn *scn = NULL;
	int n = 0;

	snprintf(origin, sizeof(origin), "%s", exe);
	dirname(origin);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		const char *needed[64];
		int nn = 0;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(d, i, &dyn))
				break;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED && nn < 64)
				needed[nn++] = s;
			else if (dyn.d_tag == DT_RUNPATH || dyn.d_tag == DT_RPATH)
				snprintf(runpath, sizeof(runpath), "%s", s);
		}
		for (int i = 0; i < nn && n < max; i++) {
			char cand[PATH_MAX];
			bool found = false;

			/* Only a single $ORIGIN-relative runpath entry is understood. */
			if (!strncmp(runpath, "$ORIGIN", 7)) {
				if (snprintf(cand, sizeof(cand), "%s%s/%s", origin, runpath + 7,
					     needed[i]) < (int)sizeof(cand))
					found = !access(cand, R_OK);
			}
			for (size_t k = 0; !found && k < sizeof(dirs) / sizeof(dirs[0]); k++) {
				if (snprintf(cand, sizeof(cand), "%s/%s", dirs[k], needed[i]) <
				    (int)sizeof(cand))
					found = !access(cand, R_OK);
			}
			if (found)
				snprintf(out[n++], PATH_MAX, "%s", cand);
		}
	}
	return n;
}

/* Runtimes without annotations: uprobes on their exported functions. */
struct runtime_probe {
	const char *prog;
	const char *func;    /* exact dynamic symbol */
	bool retprobe;
};

static const struct runtime_probe beam_probes[] = {
	{ "beam_send", "erts_send_message", false },
	{ "beam_remove_message", "_Z23beam_jit_remove_messageP7processlPmS1_j", false },
	{ "beam_schedule", "erts_schedule", false },
	{ "beam_schedule_ret", "erts_schedule", true },
	{ "beam_exit", "erts_do_exit_process", false },
	{ NULL },
};

static const struct runtime_probe caf_probes[] = {
	{ "caf_enqueue",
	  "_ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_14execution_unitE",
	  false },
	{ "caf_consume", "_ZN3caf15scheduled_actor10reactivateERNS_15mailbox_elementE", false },
	{ "caf_consume_ret", "_ZN3caf15scheduled_actor10reactivateERNS_15mailbox_elementE", true },
	{ NULL },
};

/* File offset of a defined dynamic symbol (what a uprobe is attached at), or 0 if absent. */
static size_t dynsym_offset(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh, text;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(d, i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!n || strcmp(n, name))
				continue;
			if (!gelf_getshdr(elf_getscn(elf, sym.st_shndx), &text))
				return 0;
			return sym.st_value - text.sh_addr + text.sh_offset;
		}
	}
	return 0;
}

static int attach_runtime(struct actors *a, pid_t pid, const char *path, Elf *elf,
			  const struct runtime_probe *probes)
{
	int n = 0;

	for (const struct runtime_probe *p = probes; p->prog; p++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(a->skel->obj, p->prog);
		size_t off = dynsym_offset(elf, p->func);
		int ret;

		if (!prog)
			continue;
		ret = off ? add_site(a, prog, pid, path, p->func, false, p->retprobe, off) : -ENOENT;
		if (ret) {
			collector_message(a->c, COLLECTOR_MSG_VERBOSE, NULL, "actors: %s: %s: %s", path,
					  p->func, strerror(-ret));
			continue;
		}
		n++;
	}
	return n;
}

static void runtime_attach(struct actors *a, pid_t pid, const char *path, Elf *elf)
{
	const char *base = strrchr(path, '/');
	int n;

	base = base ? base + 1 : path;
	if (!strncmp(base, "beam", 4) && dynsym_offset(elf, "erts_send_message")) {
		n = attach_runtime(a, pid, path, elf, beam_probes);
		collector_message(a->c, COLLECTOR_MSG_VERBOSE, NULL,
				  "actors: pid %d: BEAM: %d probes in %s", pid, n, path);
	} else if (!strncmp(base, "libcaf_core.so.0.17", 19)) {
		/* the layouts read in bpf/actors.bpf.c are those of CAF 0.17 */
		n = attach_runtime(a, pid, path, elf, caf_probes);
		collector_message(a->c, COLLECTOR_MSG_VERBOSE, NULL,
				  "actors: pid %d: CAF: %d probes in %s", pid, n, path);
	}
}

static void inspect_file(struct actors *a, pid_t pid, const char *path, bool is_exe)
{
	char (*libs)[PATH_MAX] = NULL;
	Elf *elf;
	int fd, nlibs = 0;

	if (!first_time(a, pid, path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	attach_usdt_file(a, pid, path, elf);
	runtime_attach(a, pid, path, elf);
	if (is_exe) {
		libs = calloc(PATHS_MAX, PATH_MAX);
		if (libs)
			nlibs = needed_libs(elf, path, libs, PATHS_MAX);
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	for (int i = 0; i < nlibs; i++)
		inspect_file(a, pid, libs[i], false);
	free(libs);
}

static int actors_add_process(struct collector *c, void *state, pid_t pid)
{
	struct actors *a = state;
	char path[64], line[PATH_MAX + 128], exe[PATH_MAX];
	FILE *f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		inspect_file(a, pid, exe, true);
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char perms[8], *file;
		int pos = 0;

		if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %*u %n", perms, &pos) != 1 || !pos)
			continue;
		file = line + pos;
		file[strcspn(file, "\n")] = 0;
		if (perms[2] != 'x' || file[0] != '/')
			continue;
		inspect_file(a, pid, file, false);
	}
	fclose(f);
	return 0;
}

/* The sampler thread attaches and detaches probes: it stops before anything else is let go. */
static void sampler_stop(struct actors *a)
{
	if (!a->sampling || a->stop)
		return;
	__atomic_store_n(&a->stop, true, __ATOMIC_RELEASE);
	pthread_join(a->sampler, NULL);
}

static void actors_detach(void *state, struct detach_batch *b)
{
	struct actors *a = state;

	sampler_stop(a);
	for (size_t i = 0; i < a->nsites; i++)
		detach_add(b, &a->sites[i].link);
	detach_skeleton(b, a->skel->skeleton);
}

static void actors_close(void *state)
{
	struct actors *a = state;

	if (!a)
		return;
	if (a->sampling) {
		sampler_stop(a);
		/* The user asked for sampling: say how much of the time was seen. */
		if (a->total_ns > 0)
			collector_message(a->c, COLLECTOR_MSG_NOTICE, NULL,
					  "actors: sampled mode: probes attached %.0f%% of the time "
					  "(budget %.1f%% of one CPU)", 100 * a->on_ns / a->total_ns,
					  100 * a->budget);
	}
	for (size_t i = 0; i < a->nsites; i++) {
		site_detach(&a->sites[i]);
		free(a->sites[i].path);
		free(a->sites[i].name);
	}
	free(a->sites);
	free(a->done);
	actors_bpf__destroy(a->skel);
	free(a);
}

static int actors_open(struct collector *c, void **state, const struct collector_opts *o,
		       struct collector_error *err)
{
	struct actors *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	elf_version(EV_CURRENT);
	pthread_mutex_init(&a->mu, NULL);
	a->c = c;
	a->budget = o->actor_budget;
	a->skel = actors_bpf__open();
	if (!a->skel) {
		ret = -errno;
		snprintf(err->what, sizeof(err->what), "actors: opening BPF object: %s",
			 strerror(-ret));
		goto out;
	}
	ret = collector_reuse_maps(c, a->skel->obj);
	if (ret) {
		snprintf(err->what, sizeof(err->what), "actors: sharing maps: %s", strerror(-ret));
		goto out;
	}
	ret = actors_bpf__load(a->skel);
	if (ret) {
		/* the scheduler view still works: go on without actors, say why at -v */
		snprintf(err->what, sizeof(err->what),
			 "loading BPF programs: %s (uprobes/USDT unsupported? -vv shows why)",
			 strerror(-ret));
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (a->budget > 0) {
		ret = -pthread_create(&a->sampler, NULL, sampler_main, a);
		if (ret) {
			snprintf(err->what, sizeof(err->what), "actors: sampler thread: %s",
				 strerror(-ret));
			goto out;
		}
		a->sampling = true;
	}
	*state = a;
	return 0;
out:
	actors_close(a);
	return ret;
}

const struct collector_area collector_area_actors = {
	.name = "actors",
	.open = actors_open,
	.add_process = actors_add_process,
	.detach = actors_detach,
	.close = actors_close,
};
