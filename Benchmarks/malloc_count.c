/*
 * malloc_count - an LD_PRELOAD shim that counts heap allocations of a whole process.
 *
 * Build:  gcc -O2 -D_GNU_SOURCE -shared -fPIC -o malloc_count.so malloc_count.c
 * Use:    LD_PRELOAD=$PWD/malloc_count.so some-program ...
 *
 * malloc, calloc, realloc and the aligned allocators (posix_memalign, aligned_alloc, memalign,
 * valloc, pvalloc; Swift uses them for over-aligned objects) are counted with atomic counters
 * (any thread may allocate) and passed on to glibc's own implementations (__libc_malloc and
 * friends, so no dlsym() and no recursion). free is not intercepted. When the process exits
 * normally (exit() or a return from main) a destructor prints one line to stderr:
 *
 *   malloc_count: program=volley pid=123 malloc=N calloc=N realloc=N aligned=N total=N
 *
 * A process that SIGTERM would kill outright (no handler, signal not blocked in the thread it is
 * delivered to) gets the same line from a SIGTERM handler installed at start-up, which then
 * restores the default action and re-raises the signal, so the process still dies as before.
 * A program that handles or sigwait()s for SIGTERM itself is not affected.
 *
 * Benchmarks/run.sh runs the same Volley job for a short and a long time and divides the
 * difference in `total` by the difference in datagrams: an allocation per datagram or per batch
 * would show up there, fixed set-up costs cancel out.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern char *program_invocation_short_name;

static uint64_t n_malloc, n_calloc, n_realloc, n_aligned;

#define COUNT(counter) __atomic_fetch_add(&(counter), 1, __ATOMIC_RELAXED)

void *malloc(size_t size) {
    COUNT(n_malloc);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    COUNT(n_calloc);
    return __libc_calloc(count, size);
}

void *realloc(void *old, size_t size) {
    COUNT(n_realloc);
    return __libc_realloc(old, size);
}

void *memalign(size_t alignment, size_t size) {
    COUNT(n_aligned);
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    COUNT(n_aligned);
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    COUNT(n_aligned);
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(alignment, size);
    if (!p && size) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size) {
    COUNT(n_aligned);
    return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

void *pvalloc(size_t size) {
    COUNT(n_aligned);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return __libc_memalign(page, (size + page - 1) / page * page);
}

/* Appends text or a decimal number to a buffer; async-signal-safe (used from the SIGTERM handler). */
static size_t put_text(char *buf, size_t at, size_t cap, const char *text) {
    while (*text && at + 1 < cap) buf[at++] = *text++;
    return at;
}

static size_t put_number(char *buf, size_t at, size_t cap, uint64_t value) {
    char digits[24];
    int n = 0;
    do digits[n++] = (char)('0' + value % 10); while ((value /= 10) && n < (int)sizeof digits);
    while (n > 0 && at + 1 < cap) buf[at++] = digits[--n];
    return at;
}

static void report(void) {
    uint64_t m = __atomic_load_n(&n_malloc, __ATOMIC_RELAXED), c = __atomic_load_n(&n_calloc, __ATOMIC_RELAXED),
             r = __atomic_load_n(&n_realloc, __ATOMIC_RELAXED), a = __atomic_load_n(&n_aligned, __ATOMIC_RELAXED);
    char line[256]; /* built on the stack and written with write(2): no allocation here */
    size_t at = 0, cap = sizeof line;
    at = put_text(line, at, cap, "malloc_count: program=");
    at = put_text(line, at, cap, program_invocation_short_name);
    at = put_text(line, at, cap, " pid=");
    at = put_number(line, at, cap, (uint64_t)getpid());
    at = put_text(line, at, cap, " malloc=");
    at = put_number(line, at, cap, m);
    at = put_text(line, at, cap, " calloc=");
    at = put_number(line, at, cap, c);
    at = put_text(line, at, cap, " realloc=");
    at = put_number(line, at, cap, r);
    at = put_text(line, at, cap, " aligned=");
    at = put_number(line, at, cap, a);
    at = put_text(line, at, cap, " total=");
    at = put_number(line, at, cap, m + c + r + a);
    at = put_text(line, at, cap, "\n");
    ssize_t ignored = write(STDERR_FILENO, line, at);
    (void)ignored;
}

static void on_sigterm(int sig) {
    report();
    signal(sig, SIG_DFL);
    raise(sig);
}

__attribute__((constructor)) static void start(void) {
    struct sigaction old;
    if (sigaction(SIGTERM, NULL, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGTERM, on_sigterm);
}

__attribute__((destructor)) static void at_exit(void) { report(); }
