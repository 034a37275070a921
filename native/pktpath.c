// SPDX-License-Identifier: GPL-2.0
/*
 * pktpath.node — the thin native edge between Node and libbpf.
 *
 * It does only what JavaScript cannot: call libbpf (open, configure, load, attach),
 * map the BPF ring buffer's pages into ArrayBuffers so JavaScript reads events in
 * place (no FFI crossing per event), and register the ring buffer's fd with libuv
 * so a JavaScript callback runs once per wake-up, not once per event.
 * Everything else (BTF, decoding, filters, formatting) lives in TypeScript.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Kernel 6.4+ values that Debian 12's headers and libbpf 1.1 do not know. */
#define PP_BPF_PROG_TYPE_NETFILTER 32
#define PP_BPF_NETFILTER 45
#define PP_BPF_TRACE_KPROBE_SESSION 56 /* Linux 6.10 */
#define MAX_MODULE_BTFS 32

#define MAX_LINKS 16384
#define LOG_CAP (64 * 1024)
/* Threads that detach links at once (fentry: each link is one trampoline to take down) */
#define MAX_DETACH_THREADS 64

/* ---- libbpf log capture: kept for error messages, echoed with verbose ---- */
static char g_log[LOG_CAP];
static size_t g_log_len;
static int g_verbose;
/* libbpf may print from the detach threads */
static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	/* libbpf prints a whole verifier log in one call: keep its end, where the verdict is */
	static __thread char line[LOG_CAP];
	int n = vsnprintf(line, sizeof(line), fmt, args);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (level == LIBBPF_DEBUG && !g_verbose)
		return 0;
	pthread_mutex_lock(&g_log_lock);
	if (g_log_len + n >= LOG_CAP) { /* keep the tail: the verifier's verdict is at the end */
		size_t drop = g_log_len + n - LOG_CAP + 1;
		if (drop > g_log_len)
			drop = g_log_len;
		memmove(g_log, g_log + drop, g_log_len - drop);
		g_log_len -= drop;
	}
	memcpy(g_log + g_log_len, line, n);
	g_log_len += n;
	g_log[g_log_len] = 0;
	if (g_verbose > 1)
		fputs(line, stderr);
	pthread_mutex_unlock(&g_log_lock);
	return 0;
}

/* ---- helpers ---- */
#define CHECK(call)                                                   \
	do {                                                          \
		if ((call) != napi_ok) {                              \
			napi_throw_error(env, NULL, "napi: " #call);  \
			return NULL;                                  \
		}                                                     \
	} while (0)

static napi_value throw_errno(napi_env env, const char *what, int err)
{
	char msg[512];
	char code[32];
	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
	snprintf(code, sizeof(code), "%d", err);
	napi_value m, c, e;
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
	napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
	napi_create_error(env, c, m, &e);
	napi_value errno_v;
	napi_create_int32(env, err, &errno_v);
	napi_set_named_property(env, e, "errno", errno_v);
	napi_throw(env, e);
	return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t cap)
{
	size_t len;
	return napi_get_value_string_utf8(env, v, buf, cap, &len) == napi_ok ? 0 : -1;
}

/*
 * One attachment: a libbpf link, or a link fd we created ourselves (fentry/fexit clones,
 * netfilter hooks) with, for a clone, the program fd it runs. Its index is its id.
 */
struct link_rec {
	struct bpf_link *link;
	int fd;
	int prog_fd;
};

/* A module's BTF object, open for fentry/fexit clones of its functions. */
struct module_btf {
	char name[64];
	int fd;
};

struct obj_handle {
	struct bpf_object *obj;
	struct link_rec *links;
	int nlinks;
	int cap;
	int closing; /* closeAsync is detaching: no other call may touch the handle */
	struct module_btf mods[MAX_MODULE_BTFS];
	int nmods;
};

static int g_detach_threads = 16;
static char **get_strings(napi_env env, napi_value arr, uint32_t *n);
static void free_strings(char **v, uint32_t n);

static struct obj_handle *get_obj(napi_env env, napi_value v)
{
	void *p = NULL;
	if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
		napi_throw_type_error(env, NULL, "expected a BPF object handle");
		return NULL;
	}
	struct obj_handle *h = p;
	if (!h->obj || h->closing) {
		napi_throw_error(env, NULL, "BPF object already closed");
		return NULL;
	}
	return h;
}

/* A new empty record; its index, or -1 (too many links, or no memory). */
static int add_link(struct obj_handle *h)
{
	if (h->nlinks >= MAX_LINKS)
		return -1;
	if (h->nlinks == h->cap) {
		int cap = h->cap ? 2 * h->cap : 64;
		struct link_rec *l = realloc(h->links, cap * sizeof(*l));
		if (!l)
			return -1;
		h->links = l;
		h->cap = cap;
	}
	h->links[h->nlinks] = (struct link_rec){ .link = NULL, .fd = -1, .prog_fd = -1 };
	return h->nlinks++;
}

static void destroy_one(struct link_rec *r)
{
	if (r->link)
		bpf_link__destroy(r->link);
	if (r->fd >= 0)
		close(r->fd); /* the link first, then the program it runs */
	if (r->prog_fd >= 0)
		close(r->prog_fd);
	r->link = NULL;
	r->fd = r->prog_fd = -1;
}

struct detach_job {
	struct link_rec **recs;
	int n;
	int next;
};

static void *detach_worker(void *arg)
{
	struct detach_job *job = arg;
	for (;;) {
		int i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
		if (i >= job->n)
			return NULL;
		destroy_one(job->recs[i]);
	}
}

/*
 * Destroys these links from several threads at once. Taking down a fentry trampoline
 * waits for RCU grace periods; one thread per link lets those waits overlap instead of
 * adding up (about 15 s for 120 trampolines under QEMU TCG when done one by one).
 */
static void destroy_links(struct link_rec **recs, int n)
{
	int threads = n < g_detach_threads ? n : g_detach_threads;
	struct detach_job job = { .recs = recs, .n = n, .next = 0 };
	pthread_t tid[MAX_DETACH_THREADS];
	int started = 0;
	for (int i = 1; i < threads; i++)
		if (pthread_create(&tid[started], NULL, detach_worker, &job) == 0)
			started++;
	detach_worker(&job); /* this thread takes its share (all of it when no thread started) */
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
}

/* Every live link of the handle, for destroy_links; NULL when there are none (or no memory: then one by one). */
static void destroy_all_links(struct obj_handle *h)
{
	struct link_rec **recs = h->nlinks ? malloc(h->nlinks * sizeof(*recs)) : NULL;
	int n = 0;
	for (int i = 0; i < h->nlinks; i++) {
		struct link_rec *r = &h->links[i];
		if (!r->link && r->fd < 0 && r->prog_fd < 0)
			continue;
		if (recs)
			recs[n++] = r;
		else
			destroy_one(r);
	}
	if (recs)
		destroy_links(recs, n);
	free(recs);
}

static void free_links(struct obj_handle *h)
{
	free(h->links);
	h->links = NULL;
	h->nlinks = h->cap = 0;
}

static void destroy_handle(struct obj_handle *h)
{
	destroy_all_links(h);
	free_links(h);
	for (int i = 0; i < h->nmods; i++)
		close(h->mods[i].fd);
	h->nmods = 0;
	if (h->obj)
		bpf_object__close(h->obj);
	h->obj = NULL;
}

static void finalize_obj(napi_env env, void *data, void *hint)
{
	struct obj_handle *h = data;
	destroy_handle(h);
	free(h);
}

/* The handle JavaScript holds for an opened object (closed by its finalizer or close()). */
static napi_value wrap_obj(napi_env env, struct bpf_object *obj)
{
	struct obj_handle *h = calloc(1, sizeof(*h));
	if (!h) {
		bpf_object__close(obj);
		return throw_errno(env, "open", ENOMEM);
	}
	h->obj = obj;
	napi_value ext;
	CHECK(napi_create_external(env, h, finalize_obj, NULL, &ext));
	return ext;
}

/* setDetachThreads(n): how many threads close() uses to detach links (1: one by one) */
static napi_value set_detach_threads(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	int32_t n;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_int32(env, argv[0], &n));
	g_detach_threads = n < 1 ? 1 : n > MAX_DETACH_THREADS ? MAX_DETACH_THREADS : n;
	return NULL;
}

/* setVerbose(level) */
static napi_value set_verbose(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_int32(env, argv[0], &g_verbose));
	return NULL;
}

/* takeLog(): string — libbpf messages since the last call */
static napi_value take_log(napi_env env, napi_callback_info info)
{
	napi_value s;
	pthread_mutex_lock(&g_log_lock);
	napi_status st = napi_create_string_utf8(env, g_log, g_log_len, &s);
	g_log_len = 0;
	g_log[0] = 0;
	pthread_mutex_unlock(&g_log_lock);
	if (st != napi_ok) {
		napi_throw_error(env, NULL, "napi: takeLog");
		return NULL;
	}
	return s;
}

/* open(path): handle */
static napi_value obj_open(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	char path[4096];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || get_string(env, argv[0], path, sizeof(path)))
		return throw_errno(env, "open: path expected", EINVAL);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return throw_errno(env, "open BPF object", errno);
	return wrap_obj(env, obj);
}

/* programs(h): [{name, section}] */
static napi_value obj_programs(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], arr;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct obj_handle *h = get_obj(env, argv[0]);
	if (!h)
		return NULL;
	CHECK(napi_create_array(env, &arr));
	struct bpf_program *p;
	uint32_t i = 0;
	bpf_object__for_each_program(p, h->obj) {
		napi_value o, n, s;
		CHECK(napi_create_object(env, &o));
		CHECK(napi_create_string_utf8(env, bpf_program__name(p), NAPI_AUTO_LENGTH, &n));
		CHECK(napi_create_string_utf8(env, bpf_program__section_name(p), NAPI_AUTO_LENGTH, &s));
		CHECK(napi_set_named_property(env, o, "name", n));
		CHECK(napi_set_named_property(env, o, "section", s));
		CHECK(napi_set_element(env, arr, i++, o));
	}
	return arr;
}

static struct bpf_program *find_prog(napi_env env, struct obj_handle *h, napi_value name_v)
{
	char name[256];
	if (get_string(env, name_v, name, sizeof(name))) {
		throw_errno(env, "program name expected", EINVAL);
		return NULL;
	}
	struct bpf_program *p = bpf_object__find_program_by_name(h->obj, name);
	if (!p) {
		char msg[320];
		snprintf(msg, sizeof(msg), "no program %s in the BPF object", name);
		napi_throw_error(env, "ENOENT", msg);
	}
	return p;
}

static struct bpf_map *find_map(napi_env env, struct obj_handle *h, napi_value name_v)
{
	char name[256];
	if (get_string(env, name_v, name, sizeof(name))) {
		throw_errno(env, "map name expected", EINVAL);
		return NULL;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(h->obj, name);
	if (!m) {
		char msg[320];
		snprintf(msg, sizeof(msg), "no map %s in the BPF object", name);
		napi_throw_error(env, "ENOENT", msg);
	}
	return m;
}

/* The (handle, program name, ...) arguments most calls start with; NULL after throwing. */
static struct bpf_program *prog_args(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
				     struct obj_handle **h)
{
	if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 2) {
		napi_throw_type_error(env, NULL, "expected a BPF object handle and a program name");
		return NULL;
	}
	*h = get_obj(env, argv[0]);
	return *h ? find_prog(env, *h, argv[1]) : NULL;
}

/* The (handle, map name, ...) arguments; NULL after throwing. */
static struct bpf_map *map_args(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
				struct obj_handle **h)
{
	if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 2) {
		napi_throw_type_error(env, NULL, "expected a BPF object handle and a map name");
		return NULL;
	}
	*h = get_obj(env, argv[0]);
	return *h ? find_map(env, *h, argv[1]) : NULL;
}

/* setAutoload(h, prog, bool) */
static napi_value prog_set_autoload(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	bool on;
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	CHECK(napi_get_value_bool(env, argv[2], &on));
	int err = bpf_program__set_autoload(p, on);
	if (err)
		return throw_errno(env, "set autoload", -err);
	return NULL;
}

/* setAttachTarget(h, prog, funcName) — retargets fentry/tp_btf/kprobe programs before load */
static napi_value prog_set_attach_target(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	char fn[256];
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	if (get_string(env, argv[2], fn, sizeof(fn)))
		return throw_errno(env, "attach target expected", EINVAL);
	int err = bpf_program__set_attach_target(p, 0, fn);
	if (err)
		return throw_errno(env, "set attach target", -err);
	return NULL;
}

/* mapInitialValue(h, map): ArrayBuffer copy of .rodata/.data/.bss initial bytes */
static napi_value map_initial_value(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], ab;
	struct obj_handle *h;
	struct bpf_map *m = map_args(env, info, &argc, argv, &h);
	if (!m)
		return NULL;
	size_t sz = 0;
	const void *v = bpf_map__initial_value(m, &sz);
	if (!v)
		return throw_errno(env, "map has no initial value", EINVAL);
	void *dst;
	CHECK(napi_create_arraybuffer(env, sz, &dst, &ab));
	memcpy(dst, v, sz);
	return ab;
}

/* setMapInitialValue(h, map, Uint8Array) */
static napi_value map_set_initial_value(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	struct obj_handle *h;
	struct bpf_map *m = map_args(env, info, &argc, argv, &h);
	if (!m)
		return NULL;
	napi_typedarray_type t;
	size_t len, off;
	void *data;
	napi_value ab;
	CHECK(napi_get_typedarray_info(env, argv[2], &t, &len, &data, &ab, &off));
	int err = bpf_map__set_initial_value(m, data, len);
	if (err)
		return throw_errno(env, "set map initial value", -err);
	return NULL;
}

/* setMaxEntries(h, map, n) */
static napi_value map_set_max_entries(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	uint32_t n;
	struct obj_handle *h;
	struct bpf_map *m = map_args(env, info, &argc, argv, &h);
	if (!m)
		return NULL;
	CHECK(napi_get_value_uint32(env, argv[2], &n));
	int err = bpf_map__set_max_entries(m, n);
	if (err)
		return throw_errno(env, "set max entries", -err);
	return NULL;
}

/* load(h) — throws with the libbpf/verifier log */
static napi_value obj_load(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct obj_handle *h = get_obj(env, argv[0]);
	if (!h)
		return NULL;
	int err = bpf_object__load(h->obj);
	/* libbpf has freed the kernel's BTF and the relocation state: give those pages back
	 * to the system (glibc keeps freed heap otherwise; tens of MB for the whole run) */
	malloc_trim(0);
	if (err)
		return throw_errno(env, "load BPF object", -err);
	return NULL;
}

/* Records a libbpf link; its id, or throws (and destroys it) when the table is full. */
static napi_value keep_link(napi_env env, struct obj_handle *h, struct bpf_link *l)
{
	napi_value r;
	int i = add_link(h);
	if (i < 0) {
		bpf_link__destroy(l);
		return throw_errno(env, "attach: too many links", E2BIG);
	}
	h->links[i].link = l;
	CHECK(napi_create_int32(env, i, &r));
	return r;
}

/* Records a link fd (and the clone program fd it runs, or -1); its id, or throws (and closes them). */
static napi_value keep_fds(napi_env env, struct obj_handle *h, int lfd, int pfd)
{
	napi_value r;
	int i = add_link(h);
	if (i < 0) {
		close(lfd);
		if (pfd >= 0)
			close(pfd);
		return throw_errno(env, "attach: too many links", E2BIG);
	}
	h->links[i].fd = lfd;
	h->links[i].prog_fd = pfd;
	CHECK(napi_create_int32(env, i, &r));
	return r;
}

/* attach(h, prog): link id */
static napi_value prog_attach(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	struct bpf_link *l = bpf_program__attach(p);
	if (!l)
		return throw_errno(env, "attach", errno);
	return keep_link(env, h, l);
}

/* The JavaScript array of numbers arr as u64 cookies (free it); NULL when absent or out of memory. */
static __u64 *get_cookies(napi_env env, napi_value arr, uint32_t n)
{
	napi_valuetype t;
	if (napi_typeof(env, arr, &t) != napi_ok || t != napi_object)
		return NULL;
	__u64 *out = calloc(n ? n : 1, sizeof(__u64));
	for (uint32_t i = 0; out && i < n; i++) {
		napi_value v;
		double d = 0;
		napi_get_element(env, arr, i, &v);
		napi_get_value_double(env, v, &d);
		out[i] = (__u64)d;
	}
	return out;
}

/* attachKprobeMulti(h, prog, [syms], retprobe, [cookies]?): link index */
static napi_value prog_attach_kprobe_multi(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5];
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	uint32_t n = 0;
	bool ret = false;
	if (argc > 3)
		CHECK(napi_get_value_bool(env, argv[3], &ret));
	char **syms = get_strings(env, argv[2], &n);
	if (!syms)
		return throw_errno(env, "attach", ENOMEM);
	__u64 *cookies = argc > 4 ? get_cookies(env, argv[4], n) : NULL;
	LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = (const char **)syms, .cnt = n, .retprobe = ret, .cookies = cookies);
	struct bpf_link *l = bpf_program__attach_kprobe_multi_opts(p, NULL, &opts);
	int err = errno;
	free_strings(syms, n);
	free(cookies);
	if (!l)
		return throw_errno(env, "attach kprobe.multi", err);
	return keep_link(env, h, l);
}

/* attachKprobe(h, prog, func, retprobe): link index */
static napi_value prog_attach_kprobe(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	char fn[256];
	bool ret = false;
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	if (get_string(env, argv[2], fn, sizeof(fn)))
		return throw_errno(env, "function name expected", EINVAL);
	if (argc > 3)
		CHECK(napi_get_value_bool(env, argv[3], &ret));
	struct bpf_link *l = bpf_program__attach_kprobe(p, ret, fn);
	if (!l)
		return throw_errno(env, "attach kprobe", errno);
	return keep_link(env, h, l);
}

/*
 * The fd of module `name`'s BTF object (kept open in the handle), found by walking the
 * kernel's BTF objects; -errno when there is none.
 */
static int module_btf_fd(struct obj_handle *h, const char *name)
{
	for (int i = 0; i < h->nmods; i++)
		if (!strcmp(h->mods[i].name, name))
			return h->mods[i].fd;
	if (h->nmods >= MAX_MODULE_BTFS)
		return -E2BIG;
	__u32 id = 0;
	while (!bpf_btf_get_next_id(id, &id)) {
		int fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0)
			continue;
		char bname[64] = "";
		struct bpf_btf_info info = { .name = (__u64)(unsigned long)bname, .name_len = sizeof(bname) };
		__u32 len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf && !strcmp(bname, name)) {
			snprintf(h->mods[h->nmods].name, sizeof(h->mods[h->nmods].name), "%s", name);
			h->mods[h->nmods++].fd = fd;
			return fd;
		}
		close(fd);
	}
	return -ENOENT;
}

/* The verifier's last words for a failed clone load (asked for only when it failed). */
static void clone_log(const struct bpf_insn *insns, size_t cnt, const char *name, struct bpf_prog_load_opts *opts,
		      char *vlog)
{
	if (vlog[0])
		return;
	opts->log_level = 1;
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, name, "GPL", insns, cnt, opts);
	if (fd >= 0)
		close(fd);
}

/*
 * attachClone(h, prog, btfId, module?, cookie?): loads a copy of an already loaded
 * fentry/fexit program for another kernel function and attaches it. btfId is the
 * function's id in vmlinux BTF, or in module's BTF (split BTF) when a module is named.
 * libbpf loads one program per target; this keeps one template and re-verifies it per
 * function.
 */
static napi_value prog_attach_clone(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	uint32_t btf_id;
	char module[64] = "";
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	CHECK(napi_get_value_uint32(env, argv[2], &btf_id));
	if (argc > 3) {
		napi_valuetype t;
		CHECK(napi_typeof(env, argv[3], &t));
		if (t == napi_string && get_string(env, argv[3], module, sizeof(module)))
			return throw_errno(env, "clone: module name too long", EINVAL);
	}
	int obj_fd = 0;
	if (module[0]) {
		obj_fd = module_btf_fd(h, module);
		if (obj_fd < 0)
			return throw_errno(env, "clone: module BTF", -obj_fd);
	}
	const struct bpf_insn *insns = bpf_program__insns(p);
	size_t cnt = bpf_program__insn_cnt(p);
	if (!insns || !cnt)
		return throw_errno(env, "clone: template has no instructions", EINVAL);
	static char vlog[16384];
	vlog[0] = 0;
	enum bpf_attach_type at = bpf_program__expected_attach_type(p);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = at, .attach_btf_id = btf_id,
		    .attach_btf_obj_fd = obj_fd, .log_buf = vlog, .log_size = sizeof(vlog), .log_level = 0);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, bpf_program__name(p), "GPL", insns, cnt, &opts);
	if (fd < 0) {
		int err = errno;
		clone_log(insns, cnt, bpf_program__name(p), &opts, vlog);
		size_t n = strlen(vlog);
		const char *tail = vlog + (n > 300 ? n - 300 : 0);
		char msg[512];
		snprintf(msg, sizeof(msg), "load clone (%.300s)", tail);
		return throw_errno(env, msg, err);
	}
	int lfd = bpf_link_create(fd, 0, at, NULL);
	if (lfd < 0)
		lfd = bpf_raw_tracepoint_open(NULL, fd);
	if (lfd < 0) {
		int err = errno;
		close(fd);
		return throw_errno(env, "attach clone", err);
	}
	return keep_fds(env, h, lfd, fd);
}

/* setKprobeSession(h, prog): makes a SEC("?kprobe.multi") program a kprobe session program (Linux 6.10+); before load */
static napi_value prog_set_kprobe_session(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	int err = bpf_program__set_expected_attach_type(p, PP_BPF_TRACE_KPROBE_SESSION);
	if (err)
		return throw_errno(env, "set kprobe session attach type", -err);
	return NULL;
}

/* The JavaScript array of strings argv as a C array (free with free_strings); NULL when out of memory. */
static char **get_strings(napi_env env, napi_value arr, uint32_t *n)
{
	if (napi_get_array_length(env, arr, n) != napi_ok)
		return NULL;
	char **out = calloc(*n ? *n : 1, sizeof(char *));
	for (uint32_t i = 0; out && i < *n; i++) {
		napi_value s;
		size_t len;
		napi_get_element(env, arr, i, &s);
		napi_get_value_string_utf8(env, s, NULL, 0, &len);
		out[i] = malloc(len + 1);
		if (out[i])
			napi_get_value_string_utf8(env, s, out[i], len + 1, &len);
	}
	return out;
}

static void free_strings(char **v, uint32_t n)
{
	for (uint32_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * attachKprobeSession(h, prog, [syms], [cookies]?): link index. One kprobe.multi link whose program
 * runs at each function's entry and, when the entry returned 0, at its return, with a
 * cookie shared by the two. libbpf 1.1 knows no session links: the attr is laid out
 * with Debian's (6.1) uapi header, which has the kprobe_multi fields, and the 6.10
 * attach type.
 */
static napi_value prog_attach_kprobe_session(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	int pfd = bpf_program__fd(p);
	if (pfd < 0)
		return throw_errno(env, "attach kprobe session: program not loaded", EINVAL);
	uint32_t n = 0;
	char **syms = get_strings(env, argv[2], &n);
	if (!syms)
		return throw_errno(env, "attach kprobe session", ENOMEM);
	__u64 *cookies = argc > 3 ? get_cookies(env, argv[3], n) : NULL;
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = pfd;
	attr.link_create.attach_type = PP_BPF_TRACE_KPROBE_SESSION;
	attr.link_create.kprobe_multi.cnt = n;
	attr.link_create.kprobe_multi.syms = (__u64)(unsigned long)syms;
	attr.link_create.kprobe_multi.cookies = (__u64)(unsigned long)cookies;
	int lfd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	int err = errno;
	free_strings(syms, n);
	free(cookies);
	if (lfd < 0)
		return throw_errno(env, "attach kprobe session", err);
	return keep_fds(env, h, lfd, -1);
}

/* Enters the network namespace at path for the calling thread; *self gets the way back. */
static int enter_netns(const char *path, int *self)
{
	*self = -1;
	if (!path[0])
		return 0;
	int me = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (me < 0 || target < 0 || setns(target, CLONE_NEWNET)) {
		int err = errno;
		if (me >= 0)
			close(me);
		if (target >= 0)
			close(target);
		return err ? err : EINVAL;
	}
	close(target);
	*self = me;
	return 0;
}

static void leave_netns(int self)
{
	if (self < 0)
		return;
	if (setns(self, CLONE_NEWNET)) {
		/* the thread would stay in the wrong namespace: nothing sane is left to do */
		fprintf(stderr, "pktpath: cannot return to the original network namespace: %s\n", strerror(errno));
		abort();
	}
	close(self);
}

/* setNetfilter(h, prog): makes a SEC("?netfilter") program a BPF netfilter hook program */
static napi_value prog_set_netfilter(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	int err = bpf_program__set_type(p, PP_BPF_PROG_TYPE_NETFILTER);
	if (!err)
		err = bpf_program__set_expected_attach_type(p, PP_BPF_NETFILTER);
	if (err)
		return throw_errno(env, "set netfilter program type", -err);
	return NULL;
}

/*
 * attachNetfilter(h, prog, pf, hook, priority, netnsPath|null): link index. A netfilter
 * link hooks into the network namespace of the calling thread, so for another namespace
 * this thread enters it (setns) for the one bpf() call and comes straight back.
 * libbpf 1.1 has no netfilter link options: the attr is laid out by hand
 * (link_create: prog_fd, target_fd, attach_type, flags, then netfilter {pf, hooknum,
 * priority, flags}).
 */
static napi_value prog_attach_netfilter(napi_env env, napi_callback_info info)
{
	size_t argc = 6;
	napi_value argv[6];
	uint32_t pf, hook;
	int32_t prio;
	char path[512] = "";
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	if (argc < 5)
		return throw_errno(env, "attachNetfilter(h, prog, pf, hook, priority, netns)", EINVAL);
	CHECK(napi_get_value_uint32(env, argv[2], &pf));
	CHECK(napi_get_value_uint32(env, argv[3], &hook));
	CHECK(napi_get_value_int32(env, argv[4], &prio));
	if (argc > 5) {
		napi_valuetype t;
		CHECK(napi_typeof(env, argv[5], &t));
		if (t == napi_string && get_string(env, argv[5], path, sizeof(path)))
			return throw_errno(env, "netns path too long", EINVAL);
	}
	int pfd = bpf_program__fd(p);
	if (pfd < 0)
		return throw_errno(env, "attach netfilter: program not loaded", EINVAL);
	int self;
	int nserr = enter_netns(path, &self);
	if (nserr)
		return throw_errno(env, "attach netfilter: enter netns", nserr);
	uint32_t attr[32];
	memset(attr, 0, sizeof(attr));
	attr[0] = (uint32_t)pfd;
	attr[2] = PP_BPF_NETFILTER;
	attr[4] = pf;
	attr[5] = hook;
	memcpy(&attr[6], &prio, sizeof(prio));
	int lfd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, attr, sizeof(attr));
	int err = errno;
	leave_netns(self);
	if (lfd < 0)
		return throw_errno(env, "attach netfilter", err);
	return keep_fds(env, h, lfd, -1);
}

/*
 * readInNetns(netnsPath|null, file): the first 64 KiB of a file as seen from another
 * network namespace (per-namespace /proc files such as
 * /proc/thread-self/net/ip_tables_names), without starting a process there.
 */
static napi_value read_in_netns(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], r;
	char path[512] = "", file[512];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 2)
		return throw_errno(env, "readInNetns(netns, file)", EINVAL);
	napi_valuetype t;
	CHECK(napi_typeof(env, argv[0], &t));
	if (t == napi_string && get_string(env, argv[0], path, sizeof(path)))
		return throw_errno(env, "netns path too long", EINVAL);
	if (get_string(env, argv[1], file, sizeof(file)))
		return throw_errno(env, "file name expected", EINVAL);
	int self;
	int err = enter_netns(path, &self);
	if (err)
		return throw_errno(env, "enter netns", err);
	static char buf[65536];
	ssize_t n = -1;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	err = errno;
	if (fd >= 0) {
		size_t len = 0;
		while (len < sizeof(buf)) {
			ssize_t k = read(fd, buf + len, sizeof(buf) - len);
			if (k <= 0)
				break;
			len += (size_t)k;
		}
		n = (ssize_t)len;
		close(fd);
	}
	leave_netns(self);
	if (n < 0)
		return throw_errno(env, file, err);
	CHECK(napi_create_string_utf8(env, buf, (size_t)n, &r));
	return r;
}

/* detach(h, [ids]): destroys these links (in parallel); unknown or gone ids are ignored */
static napi_value obj_detach(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct obj_handle *h = get_obj(env, argv[0]);
	if (!h)
		return NULL;
	uint32_t n = 0;
	if (argc > 1)
		CHECK(napi_get_array_length(env, argv[1], &n));
	struct link_rec **recs = calloc(n ? n : 1, sizeof(*recs));
	if (!recs)
		return throw_errno(env, "detach", ENOMEM);
	int k = 0;
	for (uint32_t i = 0; i < n; i++) {
		napi_value v;
		int32_t id;
		if (napi_get_element(env, argv[1], i, &v) != napi_ok || napi_get_value_int32(env, v, &id) != napi_ok)
			continue;
		if (id >= 0 && id < h->nlinks)
			recs[k++] = &h->links[id];
	}
	destroy_links(recs, k);
	free(recs);
	return NULL;
}

/* close(h) — detach everything (in parallel) and free the object; idempotent */
static napi_value obj_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	void *p = NULL;
	if (napi_get_value_external(env, argv[0], &p) != napi_ok || !p)
		return NULL;
	struct obj_handle *h = p;
	if (h->closing)
		return NULL; /* closeAsync owns it now */
	destroy_handle(h);
	return NULL;
}

/* closeAsync: the links are destroyed on a worker thread, the object freed back on this one. */
struct close_work {
	napi_async_work work;
	napi_deferred deferred;
	napi_ref keep; /* the handle's external, alive until the work is done */
	struct obj_handle *h;
};

static void close_execute(napi_env env, void *data)
{
	struct close_work *w = data;
	destroy_all_links(w->h);
}

static void close_complete(napi_env env, napi_status status, void *data)
{
	struct close_work *w = data;
	struct obj_handle *h = w->h;
	free_links(h);
	if (h->obj)
		bpf_object__close(h->obj);
	h->obj = NULL;
	h->closing = 0;
	napi_value undef;
	napi_get_undefined(env, &undef);
	napi_resolve_deferred(env, w->deferred, undef);
	napi_delete_reference(env, w->keep);
	napi_delete_async_work(env, w->work);
	free(w);
}

/* closeAsync(h): Promise — close() without blocking the event loop while links detach */
static napi_value obj_close_async(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], promise, name;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	void *p = NULL;
	if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p)
		return throw_errno(env, "closeAsync: handle expected", EINVAL);
	struct obj_handle *h = p;
	struct close_work *w = calloc(1, sizeof(*w));
	if (!w)
		return throw_errno(env, "closeAsync", ENOMEM);
	CHECK(napi_create_promise(env, &w->deferred, &promise));
	if (!h->obj || h->closing) { /* closed, or closing: the caller keeps the first promise */
		napi_value undef;
		napi_get_undefined(env, &undef);
		napi_resolve_deferred(env, w->deferred, undef);
		free(w);
		return promise;
	}
	w->h = h;
	h->closing = 1;
	CHECK(napi_create_reference(env, argv[0], 1, &w->keep));
	CHECK(napi_create_string_utf8(env, "pktpath-detach", NAPI_AUTO_LENGTH, &name));
	CHECK(napi_create_async_work(env, NULL, name, close_execute, close_complete, w, &w->work));
	CHECK(napi_queue_async_work(env, w->work));
	return promise;
}

/* mapFd(h, name) / progFd(h, name) */
static napi_value map_fd(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], r;
	struct obj_handle *h;
	struct bpf_map *m = map_args(env, info, &argc, argv, &h);
	if (!m)
		return NULL;
	CHECK(napi_create_int32(env, bpf_map__fd(m), &r));
	return r;
}

static napi_value prog_fd(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], r;
	struct obj_handle *h;
	struct bpf_program *p = prog_args(env, info, &argc, argv, &h);
	if (!p)
		return NULL;
	CHECK(napi_create_int32(env, bpf_program__fd(p), &r));
	return r;
}

/* mapLookup(fd, key: Uint8Array, valueSize): ArrayBuffer | null */
static napi_value map_lookup(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], ab, nul;
	int32_t fd;
	uint32_t vsz;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_int32(env, argv[0], &fd));
	napi_typedarray_type t;
	size_t klen, off;
	void *key;
	napi_value kab;
	CHECK(napi_get_typedarray_info(env, argv[1], &t, &klen, &key, &kab, &off));
	CHECK(napi_get_value_uint32(env, argv[2], &vsz));
	void *dst;
	CHECK(napi_create_arraybuffer(env, vsz, &dst, &ab));
	if (bpf_map_lookup_elem(fd, key, dst)) {
		if (errno == ENOENT) {
			napi_get_null(env, &nul);
			return nul;
		}
		return throw_errno(env, "map lookup", errno);
	}
	return ab;
}

/* ---- pktpath drops: whole-map reads and program statistics ---- */

/* Copies every entry with get_next_key + lookup (kernels before 5.6, or maps without batch ops). */
static int dump_one_by_one(int fd, uint32_t ksz, uint32_t vsz, uint32_t max, char *keys, char *vals, uint32_t *count)
{
	char *prev = NULL;
	uint32_t n = 0;
	while (n < max && bpf_map_get_next_key(fd, prev, keys + (size_t)n * ksz) == 0) {
		prev = keys + (size_t)n * ksz;
		if (bpf_map_lookup_elem(fd, prev, vals + (size_t)n * vsz) == 0)
			n++; /* an entry deleted meanwhile is skipped */
		else if (errno != ENOENT)
			return -errno;
		else if (n > 0)
			prev = keys + (size_t)(n - 1) * ksz;
		else
			prev = NULL;
	}
	*count = n;
	return 0;
}

/* Copies every entry with BPF_MAP_LOOKUP_BATCH (5.6+); -EINVAL/-ENOTSUP when the map has none. */
static int dump_batched(int fd, uint32_t ksz, uint32_t vsz, uint32_t max, char *keys, char *vals, uint32_t *count)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint64_t batch[8] = {0}; /* a hash map's batch token is a bucket index */
	uint32_t total = 0;
	int first = 1;
	while (total < max) {
		uint32_t n = max - total;
		int err = bpf_map_lookup_batch(fd, first ? NULL : batch, batch, keys + (size_t)total * ksz,
					       vals + (size_t)total * vsz, &n, &opts);
		int e = err ? errno : 0;
		total += n;
		first = 0;
		if (err && e == ENOENT)
			break; /* the end of the map */
		if (err) {
			*count = total;
			return -e;
		}
	}
	*count = total;
	return 0;
}

/*
 * mapDump(fd, keySize, valueSize, maxEntries): { keys, values, count, batched }: every
 * entry of a map in one call. valueSize is what the kernel copies per entry (per-CPU
 * maps: the value rounded up to 8 bytes, times the possible CPUs).
 */
static napi_value map_dump(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], out, kab, vab, v;
	int32_t fd;
	uint32_t ksz, vsz, max, count = 0;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_int32(env, argv[0], &fd));
	CHECK(napi_get_value_uint32(env, argv[1], &ksz));
	CHECK(napi_get_value_uint32(env, argv[2], &vsz));
	CHECK(napi_get_value_uint32(env, argv[3], &max));
	char *keys = calloc(max ? max : 1, ksz), *vals = calloc(max ? max : 1, vsz);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return throw_errno(env, "map dump", ENOMEM);
	}
	int batched = 1;
	int err = dump_batched(fd, ksz, vsz, max, keys, vals, &count);
	if (err && count == 0 && (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP)) {
		batched = 0;
		err = dump_one_by_one(fd, ksz, vsz, max, keys, vals, &count);
	}
	if (err) {
		free(keys);
		free(vals);
		return throw_errno(env, "map dump", -err);
	}
	void *dk, *dv;
	CHECK(napi_create_arraybuffer(env, (size_t)count * ksz, &dk, &kab));
	CHECK(napi_create_arraybuffer(env, (size_t)count * vsz, &dv, &vab));
	memcpy(dk, keys, (size_t)count * ksz);
	memcpy(dv, vals, (size_t)count * vsz);
	free(keys);
	free(vals);
	CHECK(napi_create_object(env, &out));
	CHECK(napi_set_named_property(env, out, "keys", kab));
	CHECK(napi_set_named_property(env, out, "values", vab));
	CHECK(napi_create_uint32(env, count, &v));
	CHECK(napi_set_named_property(env, out, "count", v));
	CHECK(napi_get_boolean(env, batched, &v));
	CHECK(napi_set_named_property(env, out, "batched", v));
	return out;
}

/* progInfo(fd): { id, runCount, runTimeNs, recursionMisses } (run_* need kernel.bpf_stats_enabled) */
static napi_value prog_info(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out, v;
	int32_t fd;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_int32(env, argv[0], &fd));
	struct bpf_prog_info pi;
	uint32_t len = sizeof(pi);
	memset(&pi, 0, sizeof(pi));
	if (bpf_obj_get_info_by_fd(fd, &pi, &len))
		return throw_errno(env, "program info", errno);
	CHECK(napi_create_object(env, &out));
	CHECK(napi_create_uint32(env, pi.id, &v));
	CHECK(napi_set_named_property(env, out, "id", v));
	CHECK(napi_create_double(env, (double)pi.run_cnt, &v));
	CHECK(napi_set_named_property(env, out, "runCount", v));
	CHECK(napi_create_double(env, (double)pi.run_time_ns, &v));
	CHECK(napi_set_named_property(env, out, "runTimeNs", v));
	CHECK(napi_create_double(env, (double)pi.recursion_misses, &v));
	CHECK(napi_set_named_property(env, out, "recursionMisses", v));
	return out;
}

/* possibleCpus(): how many per-CPU slots a per-CPU map has */
static napi_value possible_cpus(napi_env env, napi_callback_info info)
{
	napi_value v;
	int n = libbpf_num_possible_cpus();
	if (n < 0)
		return throw_errno(env, "possible CPUs", -n);
	CHECK(napi_create_int32(env, n, &v));
	return v;
}

/* mapUpdate(fd, key: Uint8Array, value: Uint8Array, flags): BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2 */
static napi_value map_update(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	int32_t fd;
	uint32_t flags;
	napi_typedarray_type t;
	size_t klen, vlen, off;
	void *key, *value;
	napi_value ab;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_int32(env, argv[0], &fd));
	CHECK(napi_get_typedarray_info(env, argv[1], &t, &klen, &key, &ab, &off));
	CHECK(napi_get_typedarray_info(env, argv[2], &t, &vlen, &value, &ab, &off));
	if (argc < 4)
		flags = BPF_ANY;
	else
		CHECK(napi_get_value_uint32(env, argv[3], &flags));
	if (bpf_map_update_elem(fd, key, value, flags))
		return throw_errno(env, "map update", errno);
	return NULL;
}

/* ---- ring buffer pages as ArrayBuffers ---- */
struct mapping {
	void *addr;
	size_t len;
};

static void finalize_mapping(napi_env env, void *data, void *hint)
{
	struct mapping *m = hint;
	munmap(m->addr, m->len);
	free(m);
}

static napi_value external_mapping(napi_env env, void *addr, size_t len)
{
	struct mapping *m = malloc(sizeof(*m));
	napi_value ab;
	if (!m) {
		munmap(addr, len);
		return throw_errno(env, "ringbuf", ENOMEM);
	}
	m->addr = addr;
	m->len = len;
	if (napi_create_external_arraybuffer(env, addr, len, finalize_mapping, m, &ab) != napi_ok) {
		munmap(addr, len);
		free(m);
		napi_throw_error(env, NULL, "cannot wrap ring buffer pages");
		return NULL;
	}
	return ab;
}

/*
 * ringbuf(fd): { consumer, producer, size, pageSize }
 * consumer: the read-write consumer page (consumer_pos at offset 0).
 * producer: the read-only producer page (producer_pos at 0) followed by the data
 * area mapped twice, so a record that wraps is contiguous (as libbpf does).
 */
static napi_value ringbuf_map(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], o, v;
	int32_t fd;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_int32(env, argv[0], &fd));
	struct bpf_map_info mi = {};
	uint32_t len = sizeof(mi);
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return throw_errno(env, "ringbuf map info", errno);
	if (mi.type != BPF_MAP_TYPE_RINGBUF)
		return throw_errno(env, "not a ring buffer map", EINVAL);
	size_t page = sysconf(_SC_PAGESIZE);
	size_t size = mi.max_entries;
	void *cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return throw_errno(env, "mmap ring buffer consumer page", errno);
	void *prod = mmap(NULL, page + 2 * size, PROT_READ, MAP_SHARED, fd, page);
	if (prod == MAP_FAILED) {
		int err = errno;
		munmap(cons, page);
		return throw_errno(env, "mmap ring buffer data", err);
	}
	CHECK(napi_create_object(env, &o));
	v = external_mapping(env, cons, page);
	if (!v)
		return NULL;
	CHECK(napi_set_named_property(env, o, "consumer", v));
	v = external_mapping(env, prod, page + 2 * size);
	if (!v)
		return NULL;
	CHECK(napi_set_named_property(env, o, "producer", v));
	CHECK(napi_create_double(env, (double)size, &v));
	CHECK(napi_set_named_property(env, o, "size", v));
	CHECK(napi_create_double(env, (double)page, &v));
	CHECK(napi_set_named_property(env, o, "pageSize", v));
	return o;
}

/* ---- readiness: libuv poll on an fd, one JS call per wake-up ---- */
struct poller {
	uv_poll_t handle;
	napi_env env;
	napi_ref cb;
	int closed;
};

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct poller *p = h->data;
	napi_handle_scope scope;
	napi_value cb, global, st;
	if (p->closed)
		return;
	napi_open_handle_scope(p->env, &scope);
	napi_get_reference_value(p->env, p->cb, &cb);
	napi_get_global(p->env, &global);
	napi_create_int32(p->env, status, &st);
	napi_value result;
	if (napi_make_callback(p->env, NULL, global, cb, 1, &st, &result) == napi_pending_exception) {
		napi_value exc;
		napi_get_and_clear_last_exception(p->env, &exc);
		napi_fatal_exception(p->env, exc);
	}
	napi_close_handle_scope(p->env, scope);
}

static void poll_closed(uv_handle_t *h)
{
	struct poller *p = h->data;
	napi_delete_reference(p->env, p->cb);
	free(p);
}

/* pollStart(fd, cb): poller */
static napi_value poll_start(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], ext;
	int32_t fd;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_int32(env, argv[0], &fd));
	uv_loop_t *loop;
	CHECK(napi_get_uv_event_loop(env, &loop));
	struct poller *p = calloc(1, sizeof(*p));
	if (!p)
		return throw_errno(env, "poll", ENOMEM);
	p->env = env;
	CHECK(napi_create_reference(env, argv[1], 1, &p->cb));
	int err = uv_poll_init(loop, &p->handle, fd);
	if (err) {
		napi_delete_reference(env, p->cb);
		free(p);
		return throw_errno(env, "uv_poll_init", -err);
	}
	p->handle.data = p;
	err = uv_poll_start(&p->handle, UV_READABLE, poll_cb);
	if (err) {
		uv_close((uv_handle_t *)&p->handle, poll_closed);
		return throw_errno(env, "uv_poll_start", -err);
	}
	CHECK(napi_create_external(env, p, NULL, NULL, &ext));
	return ext;
}

/* pollStop(poller) — idempotent */
static napi_value poll_stop(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	void *v;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	CHECK(napi_get_value_external(env, argv[0], &v));
	struct poller *p = v;
	if (!p || p->closed)
		return NULL;
	p->closed = 1;
	uv_poll_stop(&p->handle);
	uv_close((uv_handle_t *)&p->handle, poll_closed);
	return NULL;
}

/*
 * trimHeap(): gives the C heap's free pages back to the system (malloc_trim). What the
 * load freed is trimmed by load() itself; the run calls this now and then for what the
 * garbage collector frees later (the load's buffers).
 */
static napi_value trim_heap(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	malloc_trim(0);
	return NULL;
}

/* libbpfVersion(): "1.1" */
static napi_value libbpf_ver(napi_env env, napi_callback_info info)
{
	char v[32];
	napi_value s;
	snprintf(v, sizeof(v), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	CHECK(napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &s));
	return s;
}

/* probeProgType(typeName): bool — can this kernel load programs of that type */
static napi_value probe_prog_type(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], r;
	char t[64];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (get_string(env, argv[0], t, sizeof(t)))
		return throw_errno(env, "type expected", EINVAL);
	enum bpf_prog_type pt;
	if (!strcmp(t, "kprobe"))
		pt = BPF_PROG_TYPE_KPROBE;
	else if (!strcmp(t, "tracing"))
		pt = BPF_PROG_TYPE_TRACING;
	else if (!strcmp(t, "raw_tracepoint"))
		pt = BPF_PROG_TYPE_RAW_TRACEPOINT;
	else if (!strcmp(t, "tracepoint"))
		pt = BPF_PROG_TYPE_TRACEPOINT;
	else
		return throw_errno(env, "unknown program type", EINVAL);
	int ok = libbpf_probe_bpf_prog_type(pt, NULL);
	CHECK(napi_get_boolean(env, ok == 1, &r));
	return r;
}

/* ---- libpcap: pcap-filter(7) expressions to classic BPF, and objects from memory ---- */

/* libpcap's struct bpf_program / bpf_insn clash with libbpf's names: renamed for its header */
#define bpf_program pcap_bpf_program
#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_program
#undef bpf_insn

/*
 * pcapCompile(expr, linktype, snaplen): Uint8Array of classic BPF instructions (8 bytes
 * each, host order: u16 code, u8 jt, u8 jf, u32 k), compiled on a dead handle as
 * tcpdump -r does (optimizer on, netmask unknown). Throws an Error whose message is
 * libpcap's own text and whose code is "EPCAP".
 */
static napi_value pcap_compile_expr(napi_env env, napi_callback_info info)
{
	size_t argc = 3, len;
	napi_value argv[3];
	int32_t linktype, snaplen;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok)
		return throw_errno(env, "pcapCompile: expression expected", EINVAL);
	CHECK(napi_get_value_int32(env, argv[1], &linktype));
	CHECK(napi_get_value_int32(env, argv[2], &snaplen));
	char *expr = malloc(len + 1);
	if (!expr)
		return throw_errno(env, "pcapCompile", ENOMEM);
	CHECK(napi_get_value_string_utf8(env, argv[0], expr, len + 1, &len));
	pcap_t *p = pcap_open_dead(linktype, snaplen);
	if (!p) {
		free(expr);
		return throw_errno(env, "pcap_open_dead", ENOMEM);
	}
	struct pcap_bpf_program prog;
	napi_value result = NULL;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		napi_value m, c, e;
		napi_create_string_utf8(env, pcap_geterr(p), NAPI_AUTO_LENGTH, &m);
		napi_create_string_utf8(env, "EPCAP", NAPI_AUTO_LENGTH, &c);
		napi_create_error(env, c, m, &e);
		napi_throw(env, e);
	} else {
		void *data;
		napi_value ab;
		size_t bytes = (size_t)prog.bf_len * sizeof(struct pcap_bpf_insn);
		if (napi_create_arraybuffer(env, bytes, &data, &ab) == napi_ok &&
		    napi_create_typedarray(env, napi_uint8_array, bytes, ab, 0, &result) == napi_ok)
			memcpy(data, prog.bf_insns, bytes);
		pcap_freecode(&prog);
	}
	pcap_close(p);
	free(expr);
	return result;
}

/* openMem(bytes, name): handle — a BPF object from an ELF image in memory (a patched copy of the file) */
static napi_value obj_open_mem(napi_env env, napi_callback_info info)
{
	size_t argc = 2, len;
	napi_value argv[2];
	void *data;
	char name[256];
	napi_typedarray_type type;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 2 || napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok ||
	    type != napi_uint8_array || get_string(env, argv[1], name, sizeof(name)))
		return throw_errno(env, "openMem: bytes and name expected", EINVAL);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	/* libbpf copies what it keeps (programs, BTF, map images) before it returns */
	struct bpf_object *obj = bpf_object__open_mem(data, len, &opts);
	if (!obj)
		return throw_errno(env, "open BPF object", errno);
	return wrap_obj(env, obj);
}

/*
 * openPatched(path, name, offsets, bodies): handle — the object file read into memory
 * that is freed as soon as libbpf has opened it, with bodies[i] written at file offset
 * offsets[i] first (a pcap-filter expression over its placeholders). The image never
 * lives in the JavaScript heap, so it costs no memory after the open.
 */
static napi_value obj_open_patched(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	char path[4096], name[256];
	uint32_t n = 0, m = 0;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 4 || get_string(env, argv[0], path, sizeof(path)) || get_string(env, argv[1], name, sizeof(name)) ||
	    napi_get_array_length(env, argv[2], &n) != napi_ok || napi_get_array_length(env, argv[3], &m) != napi_ok || n != m)
		return throw_errno(env, "openPatched: path, name, offsets and bodies expected", EINVAL);
	FILE *f = fopen(path, "rb");
	if (!f)
		return throw_errno(env, "open BPF object", errno);
	long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	char *buf = size > 0 ? malloc(size) : NULL;
	int ok = buf && fseek(f, 0, SEEK_SET) == 0 && fread(buf, 1, size, f) == (size_t)size;
	int err = ok ? 0 : (errno ? errno : EIO);
	fclose(f);
	for (uint32_t i = 0; ok && i < n; i++) {
		napi_value off_v, body_v;
		int64_t off;
		void *data;
		size_t len;
		napi_typedarray_type type;
		ok = napi_get_element(env, argv[2], i, &off_v) == napi_ok && napi_get_value_int64(env, off_v, &off) == napi_ok &&
		     napi_get_element(env, argv[3], i, &body_v) == napi_ok &&
		     napi_get_typedarray_info(env, body_v, &type, &len, &data, NULL, NULL) == napi_ok && type == napi_uint8_array &&
		     off >= 0 && off + (int64_t)len <= size;
		if (ok)
			memcpy(buf + off, data, len);
		else
			err = EINVAL;
	}
	struct bpf_object *obj = NULL;
	if (ok) {
		LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
		obj = bpf_object__open_mem(buf, size, &opts); /* libbpf copies what it keeps */
		err = obj ? 0 : errno;
	}
	free(buf);
	if (!obj)
		return throw_errno(env, "open BPF object", err);
	return wrap_obj(env, obj);
}

/*
 * testRun(progFd, data, repeat): {retval, duration} — BPF_PROG_TEST_RUN on a loaded
 * program (XDP here) with `data` as the packet; duration is ns per run.
 */
static napi_value prog_test_run(napi_env env, napi_callback_info info)
{
	size_t argc = 3, len;
	napi_value argv[3], r, v;
	int32_t fd, repeat;
	void *data;
	napi_typedarray_type type;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3 || napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) != napi_ok ||
	    type != napi_uint8_array)
		return throw_errno(env, "testRun: fd, bytes, repeat expected", EINVAL);
	CHECK(napi_get_value_int32(env, argv[0], &fd));
	CHECK(napi_get_value_int32(env, argv[2], &repeat));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = len, .repeat = repeat);
	if (bpf_prog_test_run_opts(fd, &opts))
		return throw_errno(env, "BPF_PROG_TEST_RUN", errno);
	CHECK(napi_create_object(env, &r));
	CHECK(napi_create_uint32(env, opts.retval, &v));
	CHECK(napi_set_named_property(env, r, "retval", v));
	CHECK(napi_create_uint32(env, opts.duration, &v));
	CHECK(napi_set_named_property(env, r, "duration", v));
	return r;
}

/* ---- host view: netlink requests and ethtool statistics inside a network namespace ---- */
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#define NL_RECV_CHUNK (64 * 1024)
#define NL_DEFAULT_MAX (64 * 1024 * 1024)

/*
 * A socket created inside the network namespace at path ("" = this one). A socket keeps
 * the namespace it was created in, so the thread comes straight back after socket().
 */
static int socket_in_netns(const char *path, int domain, int type, int proto, int *err)
{
	int self;
	*err = enter_netns(path, &self);
	if (*err)
		return -1;
	int fd = socket(domain, type | SOCK_CLOEXEC, proto);
	*err = fd < 0 ? errno : 0;
	leave_netns(self);
	return fd;
}

/* Optional netns path argument: a string, or null/undefined for this namespace. */
static int netns_arg(napi_env env, napi_value v, char *path, size_t cap)
{
	napi_valuetype t;
	path[0] = 0;
	if (napi_typeof(env, v, &t) != napi_ok)
		return -1;
	return t == napi_string ? get_string(env, v, path, cap) : 0;
}

struct nl_buf {
	char *data;
	size_t len, cap, max;
};

static int nl_append(struct nl_buf *b, const char *src, size_t n)
{
	if (b->len + n > b->max)
		return E2BIG;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : NL_RECV_CHUNK;
		while (cap < b->len + n)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, src, n);
	b->len += n;
	return 0;
}

/* 1 when a chunk ends the reply: DONE or ERROR (dumps), or any message of a plain request. */
static int nl_chunk_ends(const char *chunk, size_t n, uint32_t seq, int dump)
{
	for (const struct nlmsghdr *h = (const void *)chunk; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
			return 1;
		if (!dump && !(h->nlmsg_flags & NLM_F_MULTI))
			return 1;
	}
	return 0;
}

/* Sends req on fd and gathers the replies into b; 0 or an errno. */
static int nl_exchange(int fd, const void *req, size_t req_len, struct nl_buf *b)
{
	const struct nlmsghdr *rh = req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	static char chunk[NL_RECV_CHUNK];
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, req, req_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return errno;
	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? ETIMEDOUT : errno;
		if ((size_t)n > sizeof(chunk))
			return EMSGSIZE;
		int err = nl_append(b, chunk, (size_t)n);
		if (err)
			return err;
		if (n == 0 || nl_chunk_ends(chunk, (size_t)n, rh->nlmsg_seq, !!(rh->nlmsg_flags & NLM_F_DUMP)))
			return 0;
	}
}

/*
 * netlinkRequest(netnsPath|null, protocol, request: Uint8Array, maxBytes?): ArrayBuffer.
 * Sends one netlink request (sock_diag, rtnetlink, ...) from a socket opened in that
 * namespace and returns every reply message, raw, up to NLMSG_DONE or NLMSG_ERROR for a
 * dump, or the reply of a plain request. The parsing is TypeScript's.
 */
static napi_value netlink_request(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], ab;
	char path[512];
	int32_t proto;
	double max = NL_DEFAULT_MAX;
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3)
		return throw_errno(env, "netlinkRequest(netns, protocol, request)", EINVAL);
	if (netns_arg(env, argv[0], path, sizeof(path)))
		return throw_errno(env, "netns path too long", EINVAL);
	CHECK(napi_get_value_int32(env, argv[1], &proto));
	napi_typedarray_type t;
	size_t req_len, off;
	void *req;
	napi_value req_ab;
	CHECK(napi_get_typedarray_info(env, argv[2], &t, &req_len, &req, &req_ab, &off));
	if (t != napi_uint8_array || req_len < sizeof(struct nlmsghdr))
		return throw_errno(env, "netlink request: a Uint8Array holding a netlink message expected", EINVAL);
	if (argc > 3)
		CHECK(napi_get_value_double(env, argv[3], &max));
	int err;
	int fd = socket_in_netns(path, AF_NETLINK, SOCK_RAW, proto, &err);
	if (fd < 0)
		return throw_errno(env, path[0] ? "netlink socket in netns" : "netlink socket", err);
	struct nl_buf b = { .max = max > 0 ? (size_t)max : NL_DEFAULT_MAX };
	err = nl_exchange(fd, req, req_len, &b);
	close(fd);
	void *dst;
	if (!err && napi_create_arraybuffer(env, b.len, &dst, &ab) != napi_ok)
		err = ENOMEM;
	if (!err && b.len)
		memcpy(dst, b.data, b.len);
	free(b.data);
	if (err)
		return throw_errno(env, "netlink request", err);
	return ab;
}

static int ethtool_ioctl(int fd, const char *ifname, void *data)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? errno : 0;
}

/* How many ETH_SS_STATS strings the driver has: >= 0, or -errno. */
static int64_t ethtool_stat_count(int fd, const char *ifname)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t count;
	} s = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS } };
	int err = ethtool_ioctl(fd, ifname, &s);
	if (err)
		return -err;
	return (s.hdr.sset_mask & (1ULL << ETH_SS_STATS)) ? s.count : 0;
}

/* GSTRINGS then GSTATS for n statistics into two fresh ArrayBuffers; 0 or an errno. */
static int ethtool_read(napi_env env, int fd, const char *ifname, uint32_t n, napi_value *names, napi_value *values)
{
	struct ethtool_gstrings *gs;
	struct ethtool_stats *st;
	size_t gs_len = sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN;
	size_t st_len = sizeof(*st) + (size_t)n * sizeof(uint64_t);
	if (napi_create_arraybuffer(env, gs_len, (void **)&gs, names) != napi_ok ||
	    napi_create_arraybuffer(env, st_len, (void **)&st, values) != napi_ok)
		return ENOMEM;
	memset(gs, 0, gs_len);
	memset(st, 0, st_len);
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = n;
	int err = ethtool_ioctl(fd, ifname, gs);
	if (err)
		return err;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = n;
	err = ethtool_ioctl(fd, ifname, st);
	if (!err && (gs->len != n || st->n_stats != n))
		err = EAGAIN; /* the driver's count changed between the calls */
	return err;
}

/*
 * ethtoolStats(netnsPath|null, ifname): { strings, stats } | null. The driver's own
 * statistics (what `ethtool -S` prints) through the SIOCETHTOOL ioctl: strings is the
 * raw struct ethtool_gstrings (ETH_SS_STATS), stats the raw struct ethtool_stats.
 * null when the device has no driver statistics.
 */
static napi_value ethtool_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], o, names, values, nul;
	char path[512], ifname[IFNAMSIZ];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 2 || netns_arg(env, argv[0], path, sizeof(path)) || get_string(env, argv[1], ifname, sizeof(ifname)))
		return throw_errno(env, "ethtoolStats(netns, ifname)", EINVAL);
	int err;
	int fd = socket_in_netns(path, AF_INET, SOCK_DGRAM, 0, &err);
	if (fd < 0)
		return throw_errno(env, path[0] ? "ethtool socket in netns" : "ethtool socket", err);
	int64_t n = ethtool_stat_count(fd, ifname);
	if (n > 0 && n <= 65536)
		err = ethtool_read(env, fd, ifname, (uint32_t)n, &names, &values);
	close(fd);
	if (n == 0 || n == -EOPNOTSUPP) {
		napi_get_null(env, &nul);
		return nul;
	}
	if (n < 0)
		return throw_errno(env, ifname, (int)-n);
	if (n > 65536)
		return throw_errno(env, ifname, E2BIG);
	if (err)
		return throw_errno(env, ifname, err);
	CHECK(napi_create_object(env, &o));
	CHECK(napi_set_named_property(env, o, "strings", names));
	CHECK(napi_set_named_property(env, o, "stats", values));
	return o;
}

#define EXPORT(name, fn)                                                        \
	do {                                                                    \
		napi_value f;                                                   \
		CHECK(napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f)); \
		CHECK(napi_set_named_property(env, exports, name, f));          \
	} while (0)

static napi_value init(napi_env env, napi_value exports)
{
	libbpf_set_print(print_fn);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	EXPORT("setVerbose", set_verbose);
	EXPORT("takeLog", take_log);
	EXPORT("open", obj_open);
	EXPORT("programs", obj_programs);
	EXPORT("setAutoload", prog_set_autoload);
	EXPORT("setAttachTarget", prog_set_attach_target);
	EXPORT("mapInitialValue", map_initial_value);
	EXPORT("setMapInitialValue", map_set_initial_value);
	EXPORT("setMaxEntries", map_set_max_entries);
	EXPORT("load", obj_load);
	EXPORT("attach", prog_attach);
	EXPORT("attachKprobeMulti", prog_attach_kprobe_multi);
	EXPORT("attachKprobe", prog_attach_kprobe);
	EXPORT("attachClone", prog_attach_clone);
	EXPORT("setKprobeSession", prog_set_kprobe_session);
	EXPORT("attachKprobeSession", prog_attach_kprobe_session);
	EXPORT("setNetfilter", prog_set_netfilter);
	EXPORT("attachNetfilter", prog_attach_netfilter);
	EXPORT("readInNetns", read_in_netns);
	EXPORT("detach", obj_detach);
	EXPORT("close", obj_close);
	EXPORT("closeAsync", obj_close_async);
	EXPORT("setDetachThreads", set_detach_threads);
	EXPORT("mapFd", map_fd);
	EXPORT("progFd", prog_fd);
	EXPORT("mapLookup", map_lookup);
	EXPORT("mapUpdate", map_update);
	EXPORT("ringbuf", ringbuf_map);
	EXPORT("pollStart", poll_start);
	EXPORT("pollStop", poll_stop);
	EXPORT("libbpfVersion", libbpf_ver);
	EXPORT("trimHeap", trim_heap);
	EXPORT("probeProgType", probe_prog_type);
	EXPORT("netlinkRequest", netlink_request);
	EXPORT("ethtoolStats", ethtool_stats);
	EXPORT("mapDump", map_dump);
	EXPORT("progInfo", prog_info);
	EXPORT("possibleCpus", possible_cpus);
	EXPORT("pcapCompile", pcap_compile_expr);
	EXPORT("openMem", obj_open_mem);
	EXPORT("openPatched", obj_open_patched);
	EXPORT("testRun", prog_test_run);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
