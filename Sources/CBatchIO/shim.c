// Keep this file free of logic Swift can do: wrappers, a fallback loop and feature probes only.
#include "CBatchIO.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/timex.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <sys/syscall.h>

#if !defined(__linux__)
#error "Volley builds on Linux only (README: Before you start); the fallback loop is for sendmmsg-less Linux builds."
#endif

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sock_diag.h>

#if !defined(CBATCHIO_FORCE_FALLBACK)
#define CBATCHIO_HAVE_MMSG 1
_Static_assert(sizeof(CBatchIO_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr mirror has the wrong size");
_Static_assert(offsetof(CBatchIO_mmsghdr, msg_hdr) == offsetof(struct mmsghdr, msg_hdr), "msg_hdr offset");
_Static_assert(offsetof(CBatchIO_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "msg_len offset");
#else
#define CBATCHIO_HAVE_MMSG 0
#endif

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

const int CBatchIO_MSG_WAITFORONE = 0x10000;  // MSG_WAITFORONE; only recvmmsg reads it.
const int CBatchIO_MSG_TRUNC = MSG_TRUNC;
const int CBatchIO_MSG_DONTWAIT = MSG_DONTWAIT;
const int CBatchIO_SOL_UDP = SOL_UDP;
const int CBatchIO_UDP_SEGMENT = UDP_SEGMENT;
const int CBatchIO_UDP_GRO = UDP_GRO;
const int CBatchIO_SO_RXQ_OVFL = SO_RXQ_OVFL;

bool CBatchIO_built_with_mmsg(void) { return CBATCHIO_HAVE_MMSG; }

int CBatchIO_sendmsg_loop(int fd, CBatchIO_mmsghdr *vec, unsigned int vlen, int flags) {
    unsigned int i = 0;
    while (i < vlen) {
        ssize_t n = sendmsg(fd, &vec[i].msg_hdr, flags);
        if (n < 0) return i > 0 ? (int)i : -errno;  // EINTR too, as sendmmsg: SendPolicy decides
        vec[i++].msg_len = (unsigned int)n;
    }
    return (int)i;
}

int CBatchIO_recvmsg_loop(int fd, CBatchIO_mmsghdr *vec, unsigned int vlen, int flags) {
    unsigned int i = 0;
    int first = flags & ~CBatchIO_MSG_WAITFORONE;
    while (i < vlen) {
        ssize_t n = recvmsg(fd, &vec[i].msg_hdr, i == 0 ? first : (first | MSG_DONTWAIT));
        if (n < 0) return i > 0 ? (int)i : -errno;  // EINTR too: recvmmsg returns it, and a wake timer relies on it
        vec[i++].msg_len = (unsigned int)n;
    }
    return (int)i;
}

// One message goes through sendmsg/recvmsg (the loops below, with the same return convention): the
// same work for the kernel without the vector's extra copies. A paced echo and its reflector move
// one datagram per call, on the round trip's path (Benchmarks/README.md, echo's microseconds).
int CBatchIO_sendmmsg(int fd, CBatchIO_mmsghdr *vec, unsigned int vlen, int flags) {
#if CBATCHIO_HAVE_MMSG
    if (vlen == 1) return CBatchIO_sendmsg_loop(fd, vec, 1, flags);
    int n = sendmmsg(fd, (struct mmsghdr *)vec, vlen, flags);
    return n < 0 ? -errno : n;
#else
    return CBatchIO_sendmsg_loop(fd, vec, vlen, flags);
#endif
}

int CBatchIO_recvmmsg(int fd, CBatchIO_mmsghdr *vec, unsigned int vlen, int flags) {
#if CBATCHIO_HAVE_MMSG
    if (vlen == 1) return CBatchIO_recvmsg_loop(fd, vec, 1, flags);
    int n = recvmmsg(fd, (struct mmsghdr *)vec, vlen, flags, NULL);
    return n < 0 ? -errno : n;
#else
    return CBatchIO_recvmsg_loop(fd, vec, vlen, flags);
#endif
}

static int probe_socket(void) { return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }

bool CBatchIO_probe_sendmmsg(void) {
#if CBATCHIO_HAVE_MMSG
    int fd = probe_socket();
    if (fd < 0) return false;
    int rc = sendmmsg(fd, NULL, 0, 0);  // zero messages: 0 when implemented, ENOSYS when not
    bool ok = rc >= 0 || errno != ENOSYS;
    close(fd);
    return ok;
#else
    return false;
#endif
}

bool CBatchIO_probe_recvmmsg(void) {
#if CBATCHIO_HAVE_MMSG
    int fd = probe_socket();
    if (fd < 0) return false;
    struct mmsghdr m = {0};
    int rc = recvmmsg(fd, &m, 1, MSG_DONTWAIT, NULL);  // EAGAIN when implemented, ENOSYS when not
    bool ok = rc >= 0 || errno != ENOSYS;
    close(fd);
    return ok;
#else
    return false;
#endif
}

static bool probe_udp_option(int option, int value) {
    int fd = probe_socket();
    if (fd < 0) return false;
    int rc = setsockopt(fd, SOL_UDP, option, &value, sizeof(value));
    close(fd);
    return rc == 0;
}

bool CBatchIO_probe_udp_segment(void) { return probe_udp_option(UDP_SEGMENT, 1400); }
bool CBatchIO_probe_udp_gro(void) { return probe_udp_option(UDP_GRO, 1); }

size_t CBatchIO_segment_control_size(void) { return CMSG_SPACE(sizeof(uint16_t)); }

void CBatchIO_put_segment_size(struct msghdr *msg, void *control, uint16_t segment_size) {
    memset(control, 0, CMSG_SPACE(sizeof(uint16_t)));
    msg->msg_control = control;
    msg->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    struct cmsghdr *cm = CMSG_FIRSTHDR(msg);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(cm), &segment_size, sizeof(segment_size));
}

size_t CBatchIO_gro_control_size(void) { return CMSG_SPACE(sizeof(int)); }

int CBatchIO_gro_segment_size(const struct msghdr *msg) {
    for (struct cmsghdr *cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
        if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
            int size;
            memcpy(&size, CMSG_DATA(cm), sizeof(size));
            return size;
        }
    }
    return 0;
}

int CBatchIO_wait_readable(struct pollfd *pfds, unsigned int count, int64_t timeout_ns) {
    if (timeout_ns < 0) timeout_ns = 0;
    struct timespec ts = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
    int n = ppoll(pfds, (nfds_t)count, &ts, NULL);
    return n < 0 ? -errno : n;
}

// SIGRTMIN + 6: clear of the ones glibc keeps for itself (below SIGRTMIN) and of the low real-time
// signals other libraries tend to pick.
static int wake_signal(void) { return SIGRTMIN + 6; }

static void wake_handler(int sig) { (void)sig; }
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static int wake_install_errno = 0;

static void wake_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = wake_handler;  // no SA_RESTART: the interrupted call returns EINTR
    sigemptyset(&action.sa_mask);
    if (sigaction(wake_signal(), &action, NULL) != 0) wake_install_errno = errno;
}

int CBatchIO_wake_timer_create(CBatchIO_wake_timer *timer) {
    timer->live = false;
    pthread_once(&wake_once, wake_install);
    if (wake_install_errno != 0) return -wake_install_errno;
    // A thread spawned from one that blocks signals (a libdispatch worker) inherits the mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, wake_signal());
    int rc = pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    if (rc != 0) return -rc;
    struct sigevent event;
    memset(&event, 0, sizeof(event));
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = wake_signal();
    event._sigev_un._tid = gettid();
    if (timer_create(CLOCK_MONOTONIC, &event, &timer->id) != 0) return -errno;
    timer->live = true;
    return 0;
}

int CBatchIO_wake_timer_arm(CBatchIO_wake_timer *timer, uint64_t at_ns, uint64_t repeat_ns) {
    if (!timer->live) return -EINVAL;
    struct itimerspec spec = {
        .it_value = { .tv_sec = (time_t)(at_ns / 1000000000u), .tv_nsec = (long)(at_ns % 1000000000u) },
        .it_interval = { .tv_sec = (time_t)(repeat_ns / 1000000000u), .tv_nsec = (long)(repeat_ns % 1000000000u) },
    };
    if (at_ns == 0) spec.it_interval = spec.it_value;  // both zero: disarmed
    return timer_settime(timer->id, TIMER_ABSTIME, &spec, NULL) == 0 ? 0 : -errno;
}

void CBatchIO_wake_timer_delete(CBatchIO_wake_timer *timer) {
    if (!timer->live) return;
    timer_delete(timer->id);
    timer->live = false;
}

size_t CBatchIO_rxq_control_size(void) { return CMSG_SPACE(sizeof(uint32_t)); }

int64_t CBatchIO_rxq_drops(const struct msghdr *msg) {
    for (struct cmsghdr *cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL && cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
            uint32_t drops;
            memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
            return drops;
        }
    }
    return -1;
}

int64_t CBatchIO_socket_drops(int fd) {
    uint32_t info[SK_MEMINFO_VARS] = {0};
    socklen_t len = sizeof(info);
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) != 0) return -errno;
    if (len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) return -ENOPROTOOPT;
    return info[SK_MEMINFO_DROPS];
}

int CBatchIO_warm_up(int fd) {
    char out[32] = {0}, in[64];
    if (send(fd, out, sizeof out, 0) < 0) return -errno;
    for (int i = 0; i < 8; i++) {
        if (recv(fd, in, sizeof in, MSG_DONTWAIT | MSG_TRUNC) < 0) return errno == EAGAIN ? 0 : -errno;
    }
    return 0;
}

int CBatchIO_enable_rx_timestamps(int fd) {
    int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) == 0 ? 0 : -errno;
}

size_t CBatchIO_timestamping_control_size(void) { return CMSG_SPACE(sizeof(struct scm_timestamping)); }

int64_t CBatchIO_rx_timestamp_ns(const struct msghdr *msg) {
    for (struct cmsghdr *cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPING &&
            cm->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
            struct scm_timestamping ts;
            memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
            if (ts.ts[0].tv_sec == 0 && ts.ts[0].tv_nsec == 0) return -1;  // software slot empty
            return (int64_t)ts.ts[0].tv_sec * 1000000000 + ts.ts[0].tv_nsec;
        }
    }
    return -1;
}

int64_t CBatchIO_realtime_offset_ns(void) {
    struct timespec real, mono;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000 + ((int64_t)real.tv_nsec - mono.tv_nsec);
}

int CBatchIO_path_mtu(int fd, int family) {
    int mtu = 0;
    socklen_t len = sizeof(mtu);
    int rc = family == AF_INET6 ? getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len)
                                : getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len);
    return rc == 0 ? mtu : -errno;
}

int CBatchIO_get_thread_usage(CBatchIO_thread_usage *out) {
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0) return -errno;
    uint64_t user = (uint64_t)ru.ru_utime.tv_sec * 1000000000u + (uint64_t)ru.ru_utime.tv_usec * 1000u;
    uint64_t sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000u + (uint64_t)ru.ru_stime.tv_usec * 1000u;
    out->cpu_ns = user + sys;
    out->voluntary_switches = (uint64_t)ru.ru_nvcsw;
    out->involuntary_switches = (uint64_t)ru.ru_nivcsw;
    return 0;
}

int CBatchIO_cpu_latency_open(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

int CBatchIO_cpu_latency_set(int fd, int32_t us) {
    // Exactly four bytes: the device reads them as a binary s32 (other lengths as hex text).
    ssize_t n = write(fd, &us, sizeof(us));
    if (n < 0) return -errno;
    return n == (ssize_t)sizeof(us) ? 0 : -EIO;
}

int64_t CBatchIO_cpu_latency_read(int fd) {
    int32_t value = 0;
    ssize_t n = pread(fd, &value, sizeof(value), 0);
    if (n < 0) return -errno;
    return n == (ssize_t)sizeof(value) ? (int64_t)value : -EIO;
}

void CBatchIO_set_timer_slack(unsigned long ns) { prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0); }

int CBatchIO_enable_recv_ttl(int fd) {
    int on = 1;
    int v4 = setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) == 0 ? 0 : -errno;
    int v6 = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) == 0 ? 0 : -errno;
    return v4 == 0 || v6 == 0 ? 0 : v4;
}

size_t CBatchIO_ttl_control_size(void) { return CMSG_SPACE(sizeof(int)); }

int CBatchIO_received_ttl(const struct msghdr *msg) {
    for (struct cmsghdr *cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
        if (((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
             (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) &&
            cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int ttl;
            memcpy(&ttl, CMSG_DATA(cm), sizeof(ttl));
            return ttl >= 0 && ttl <= 255 ? ttl : -1;
        }
    }
    return -1;
}

int64_t CBatchIO_realtime_ns(void) {
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    return (int64_t)real.tv_sec * 1000000000 + real.tv_nsec;
}

int CBatchIO_clock_status(int64_t *error_us, int32_t *tai_s) {
    struct timex tx;
    memset(&tx, 0, sizeof(tx));  // modes 0: read only
    int state = adjtimex(&tx);
    if (state < 0) return -errno;
    int synchronized = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
    *error_us = synchronized ? tx.esterror : tx.maxerror;
    *tai_s = tx.tai;
    return synchronized;
}

/* struct sched_attr as the kernel reads it (glibc 2.36 has neither the type nor a wrapper). */
struct cbatchio_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

int64_t CBatchIO_request_slice(uint64_t slice_ns) {
#if defined(__linux__) && defined(SYS_sched_setattr) && defined(SYS_sched_getattr)
    struct cbatchio_sched_attr attr;
    memset(&attr, 0, sizeof(attr));
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0) return -errno;
    if (attr.sched_policy != SCHED_OTHER) return -EPERM;
    attr.size = sizeof(attr);
    attr.sched_flags = 0;
    attr.sched_runtime = slice_ns;  // the nice value read above goes back unchanged
    if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return -errno;
    memset(&attr, 0, sizeof(attr));
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0) return -errno;
    return (int64_t)attr.sched_runtime;
#else
    (void)slice_ns;
    return -ENOSYS;
#endif
}
