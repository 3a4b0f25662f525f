/*
 * udpref - a small C reference for Volley's benchmarks (Benchmarks/run.sh).
 *
 * Build:  gcc -O2 -D_GNU_SOURCE -o udpref udpref.c
 *
 *   udpref send --target 127.0.0.1:PORT --seconds S [--size 64] [--batch 64] [--gso] [--rate PPS]
 *       Connected UDP socket, sendmmsg() over a prepared batch of messages. With --gso every
 *       message is one super-datagram of up to 64 segments of --size bytes (at most 65000 bytes
 *       in all) cut by the kernel (UDP_SEGMENT control message). With --rate the sender is paced
 *       (absolute-time sleeps, bursts of at most --batch). Prints
 *       {"packets":N,"seconds":S,"pps":X,...}; packets counts datagrams on the wire.
 *
 *   udpref sink --listen 127.0.0.1:PORT --seconds S [--batch 64] [--sources] [--windows-ms W --expect-pps R]
 *   udpref sink --tap-port PORT --seconds S [--size N] [--windows-ms W --expect-pps R]
 *       Counts datagrams for S seconds with recvmmsg(MSG_WAITFORONE) (SO_RCVTIMEO 20 ms, large
 *       receive buffer). With --sources (not with --tap-port) every datagram's source address is
 *       asked for and read, as Volley's sink does for its per-sender accounting: the kernel then
 *       copies a sockaddr out per datagram (row c2 of the benchmarks); the count of datagrams that
 *       came with an IPv4 or IPv6 source is printed as "with_source". --tap-port watches the
 *       loopback interface with an AF_PACKET socket instead of binding the port (for traffic whose receiver is another program, e.g. the
 *       iperf3 server); it counts IPv4/IPv6 UDP datagrams to PORT (of payload --size if given).
 *       With --windows-ms every datagram is timestamped on arrival and counted in W-ms windows on
 *       a grid starting at the sink's start; over the active period (the window of the first
 *       datagram to the window of the last, both excluded as partial) it reports the fraction of
 *       windows whose count is within +-5% of R*W/1000. The arrival time is the kernel's receive
 *       timestamp (SO_TIMESTAMPNS, taken when the packet reaches the socket layer, so a late
 *       wake-up of this process does not move datagrams into the next window), mapped onto
 *       CLOCK_MONOTONIC; when a datagram has none, the CLOCK_MONOTONIC time the call returned.
 *       Prints
 *       {"packets":N,"seconds":S,"pps":X,"windows":W,"windows_within_5pct":F,...}
 *       where seconds is the active period (first to last datagram) and pps = packets/seconds.
 *
 *   udpref reflect --listen 127.0.0.1:PORT --seconds S
 *       Answers every datagram with itself (recvfrom, sendto), blocking in between. Prints
 *       {"answered":N}.
 *
 *   udpref ping --target 127.0.0.1:PORT --seconds S [--rate 1000] [--size 64]
 *       A ping-pong client that sleeps between requests, as Volley's echo does by default (and
 *       sockperf's client does not: it busy-waits): one request every 1/rate s on an absolute-time
 *       sleep, sent with send() on a connected socket, then a blocking recv() until the reply that
 *       carries its sequence number (lost after 100 ms; a 100 ms SIGALRM tick ends a receive to
 *       check). The round trip is the CLOCK_MONOTONIC time from just before send() to just after
 *       recv(); every one is kept (at most 10^8: --seconds x --rate beyond that is refused). Prints
 *       {"sent":N,"received":M,"p50_us":X,"p99_us":Y}.
 *
 *   udpref freeport
 *       Prints a port number that is free on 127.0.0.1 for both UDP and TCP.
 *
 * Only loopback addresses (127.0.0.0/8, ::1) are accepted. Every loop ends by itself after
 * --seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define MAX_GSO_SEGMENTS 64
#define MAX_GSO_BYTES 65000
#define SLOT_BYTES 2048

struct options {
    const char *target, *listen;
    double seconds, rate, windows_ms, expect_pps;
    int size, batch, gso, tap_port, sources;
};

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void usage(void) {
    fprintf(stderr,
            "usage: udpref send --target HOST:PORT --seconds S [--size N] [--batch N] [--gso] [--rate PPS]\n"
            "       udpref sink (--listen HOST:PORT [--sources] | --tap-port PORT) --seconds S [--batch N]\n"
            "                   [--size N] [--windows-ms W --expect-pps R]\n"
            "       udpref reflect --listen HOST:PORT --seconds S\n"
            "       udpref ping --target HOST:PORT --seconds S [--rate PPS] [--size N]\n"
            "       udpref freeport\n");
    exit(2);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t) {
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* "127.0.0.1:9000" or "[::1]:9000" -> a loopback socket address; anything else is refused. */
static socklen_t parse_endpoint(const char *text, struct sockaddr_storage *out) {
    char host[128];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof host) goto bad;
    size_t n = (size_t)(colon - text);
    memcpy(host, text, n);
    host[n] = 0;
    if (host[0] == '[' && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) goto bad;
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) goto not_loopback;
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return sizeof *v4;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) goto not_loopback;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return sizeof *v6;
    }
bad:
    fprintf(stderr, "udpref: '%s' is not IPv4:PORT or [IPv6]:PORT\n", text);
    exit(2);
not_loopback:
    fprintf(stderr, "udpref: '%s' is not a loopback address; only loopback is allowed\n", text);
    exit(2);
}

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, to map kernel receive timestamps onto the monotonic clock. */
static int64_t realtime_offset_ns(void) {
    struct timespec r;
    uint64_t m1 = now_ns();
    clock_gettime(CLOCK_REALTIME, &r);
    uint64_t m2 = now_ns();
    return ((int64_t)r.tv_sec * 1000000000 + r.tv_nsec) - (int64_t)(m1 + (m2 - m1) / 2);
}

static void set_buffer(int fd, int force_opt, int opt, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) != 0) /* needs CAP_NET_ADMIN */
        setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

/* A UDP socket for a loopback endpoint (parse_endpoint): connected to it, or bound to it. */
static int udp_socket(const char *endpoint, int bound) {
    struct sockaddr_storage addr;
    socklen_t addrlen = parse_endpoint(endpoint, &addr);
    int fd = socket(addr.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    if (bound ? bind(fd, (struct sockaddr *)&addr, addrlen) != 0 : connect(fd, (struct sockaddr *)&addr, addrlen) != 0)
        die(bound ? "bind" : "connect");
    return fd;
}

/* ---------------------------------------------------------------- send */

static int cmd_send(const struct options *o) {
    if (!o->target || o->seconds <= 0) usage();
    if (o->gso && o->rate > 0) {
        fprintf(stderr, "udpref: --gso and --rate together are not supported\n");
        return 2;
    }
    int fd = udp_socket(o->target, 0);
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, 4 << 20);

    /* Datagrams per message: 1, or with --gso as many segments as fit (at most 64). */
    int segments = 1;
    if (o->gso && o->size > 0) {
        segments = MAX_GSO_BYTES / o->size;
        if (segments > MAX_GSO_SEGMENTS) segments = MAX_GSO_SEGMENTS;
        if (segments < 1) segments = 1;
    }
    size_t msg_bytes = (size_t)o->size * (size_t)segments;

    /* Prepared once: one payload buffer, iovec and control block per message. */
    int n = o->batch;
    char *payload = malloc(msg_bytes * (size_t)n + 1);
    struct iovec *iov = calloc((size_t)n, sizeof *iov);
    struct mmsghdr *msgs = calloc((size_t)n, sizeof *msgs);
    size_t ctl_space = CMSG_SPACE(sizeof(uint16_t));
    char *ctl = calloc((size_t)n, ctl_space);
    if (!payload || !iov || !msgs || !ctl) die("malloc");
    for (size_t i = 0; i < msg_bytes * (size_t)n; i++) payload[i] = (char)('a' + i % 26);
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = payload + (size_t)i * msg_bytes;
        iov[i].iov_len = msg_bytes;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (o->gso) {
            char *c = ctl + (size_t)i * ctl_space;
            msgs[i].msg_hdr.msg_control = c;
            msgs[i].msg_hdr.msg_controllen = ctl_space;
            struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
            cm->cmsg_level = SOL_UDP;
            cm->cmsg_type = UDP_SEGMENT;
            cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t seg = (uint16_t)o->size;
            memcpy(CMSG_DATA(cm), &seg, sizeof seg);
        }
    }
    if (o->rate > 0) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake up on time when pacing */

    uint64_t packets = 0, messages = 0, syscalls = 0, errors = 0;
    uint64_t start = now_ns(), deadline = start + (uint64_t)(o->seconds * 1e9), t = start;
    while (t < deadline) {
        int want = n;
        if (o->rate > 0) {
            /* Datagram k is due at start + k/rate; send all that are due, at most a batch. */
            uint64_t due = (uint64_t)((double)(t - start) * o->rate / 1e9) + 1;
            if (due <= packets) {
                uint64_t next = start + (uint64_t)((double)packets * 1e9 / o->rate);
                sleep_until(next < deadline ? next : deadline);
                t = now_ns();
                continue;
            }
            if (due - packets < (uint64_t)want) want = (int)(due - packets);
        }
        int r = sendmmsg(fd, msgs, (unsigned)want, 0);
        syscalls++;
        if (r > 0) {
            messages += (uint64_t)r;
            packets += (uint64_t)r * (uint64_t)segments;
        } else if (errno == EAGAIN || errno == ENOBUFS || errno == ECONNREFUSED || errno == EINTR) {
            errors++; /* kernel push-back or an earlier ICMP error: try again */
        } else {
            die("sendmmsg");
        }
        t = now_ns();
    }
    double secs = (double)(t - start) / 1e9;
    printf("{\"packets\":%llu,\"seconds\":%.6f,\"pps\":%.1f,\"messages\":%llu,\"segments_per_message\":%d,"
           "\"syscalls\":%llu,\"errors\":%llu}\n",
           (unsigned long long)packets, secs, (double)packets / secs, (unsigned long long)messages, segments,
           (unsigned long long)syscalls, (unsigned long long)errors);
    return 0;
}

/* ---------------------------------------------------------------- sink */

/* In tap mode: does this IP packet carry a UDP datagram to `port` (with `size` payload bytes)? */
static int tap_matches(const unsigned char *p, size_t len, int port, int size) {
    const struct udphdr *udp;
    if (len >= sizeof(struct iphdr) && (p[0] >> 4) == 4) {
        const struct iphdr *ip = (const void *)p;
        size_t hl = (size_t)ip->ihl * 4;
        if (ip->protocol != IPPROTO_UDP || len < hl + sizeof *udp) return 0;
        udp = (const void *)(p + hl);
    } else if (len >= sizeof(struct ip6_hdr) + sizeof *udp && (p[0] >> 4) == 6) {
        const struct ip6_hdr *ip6 = (const void *)p;
        if (ip6->ip6_nxt != IPPROTO_UDP) return 0; /* extension headers are not followed */
        udp = (const void *)(p + sizeof *ip6);
    } else {
        return 0;
    }
    if (ntohs(udp->uh_dport) != port) return 0;
    return size < 0 || ntohs(udp->uh_ulen) == size + (int)sizeof *udp;
}

static int cmd_sink(const struct options *o) {
    if ((!o->listen && !o->tap_port) || o->seconds <= 0 || (o->sources && o->tap_port)) usage();
    int windows_on = o->windows_ms > 0;
    if (windows_on && o->expect_pps <= 0) {
        fprintf(stderr, "udpref: --windows-ms needs --expect-pps\n");
        return 2;
    }
    int fd;
    if (o->tap_port) {
        /* Every packet on lo is seen twice: as sent (PACKET_OUTGOING, skipped below) and as received. */
        fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
        if (fd < 0) die("socket(AF_PACKET) (needs root)");
        struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
        ll.sll_ifindex = (int)if_nametoindex("lo");
        if (!ll.sll_ifindex) die("if_nametoindex(lo)");
        if (bind(fd, (struct sockaddr *)&ll, sizeof ll) != 0) die("bind(lo)");
    } else {
        fd = udp_socket(o->listen, 1);
    }
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, 64 << 20);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    int n = o->batch;
    char *slots = malloc((size_t)n * SLOT_BYTES);
    struct iovec *iov = calloc((size_t)n, sizeof *iov);
    struct mmsghdr *msgs = calloc((size_t)n, sizeof *msgs);
    struct sockaddr_ll *from = calloc((size_t)n, sizeof *from);
    struct sockaddr_storage *source = o->sources ? calloc((size_t)n, sizeof *source) : NULL;
    size_t ctl_space = CMSG_SPACE(sizeof(struct timespec));
    char *ctl = calloc((size_t)n, ctl_space);
    if (!slots || !iov || !msgs || !from || !ctl || (o->sources && !source)) die("malloc");
    int on = 1;
    if (windows_on && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) perror("SO_TIMESTAMPNS");
    int64_t offset = realtime_offset_ns();
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = slots + (size_t)i * SLOT_BYTES;
        iov[i].iov_len = SLOT_BYTES;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (o->tap_port) {
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        } else if (source) {
            msgs[i].msg_hdr.msg_name = &source[i];
            msgs[i].msg_hdr.msg_namelen = sizeof source[i];
        }
    }

    uint64_t start = now_ns(), deadline = start + (uint64_t)(o->seconds * 1e9);
    uint64_t window_ns = windows_on ? (uint64_t)(o->windows_ms * 1e6) : 1;
    size_t nwindows = windows_on ? (size_t)((deadline - start) / window_ns) + 2 : 0;
    uint64_t *counts = windows_on ? calloc(nwindows, sizeof *counts) : NULL;
    if (windows_on && !counts) die("malloc");
    uint64_t packets = 0, syscalls = 0, first = 0, last = 0, with_source = 0;

    for (uint64_t t = start; t < deadline; t = now_ns()) {
        if (windows_on)
            for (int i = 0; i < n; i++) {
                msgs[i].msg_hdr.msg_control = ctl + (size_t)i * ctl_space;
                msgs[i].msg_hdr.msg_controllen = ctl_space;
            }
        int r = recvmmsg(fd, msgs, (unsigned)n, MSG_WAITFORONE, NULL);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue; /* idle */
            die("recvmmsg");
        }
        syscalls++;
        uint64_t now = now_ns();
        for (int i = 0; i < r; i++) {
            if (o->tap_port) {
                int match = from[i].sll_pkttype != PACKET_OUTGOING &&
                            tap_matches(iov[i].iov_base, msgs[i].msg_len, o->tap_port, o->size);
                msgs[i].msg_hdr.msg_namelen = sizeof from[i];
                if (!match) continue;
            } else if (source) {
                sa_family_t family = source[i].ss_family;
                with_source += family == AF_INET || family == AF_INET6;
                msgs[i].msg_hdr.msg_namelen = sizeof source[i];
            }
            uint64_t arrival = now;
            if (windows_on) {
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
                for (; cm; cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm))
                    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                        struct timespec ts;
                        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                        int64_t mono = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - offset;
                        if (mono >= (int64_t)start && (uint64_t)mono <= now) arrival = (uint64_t)mono;
                    }
                size_t w = (size_t)((arrival - start) / window_ns);
                if (w < nwindows) counts[w]++;
            }
            if (packets == 0 || arrival < first) first = arrival;
            if (arrival > last) last = arrival;
            packets++;
        }
    }

    double active = packets > 1 ? (double)(last - first) / 1e9 : 0;
    printf("{\"packets\":%llu,\"seconds\":%.6f,\"pps\":%.1f,\"syscalls\":%llu", (unsigned long long)packets, active,
           active > 0 ? (double)packets / active : 0.0, (unsigned long long)syscalls);
    if (source) printf(",\"with_source\":%llu", (unsigned long long)with_source);
    if (windows_on) {
        uint64_t within = 0, total_windows = 0, lo = UINT64_MAX, hi = 0;
        double expected = o->expect_pps * o->windows_ms / 1000.0;
        if (packets > 0) {
            size_t wfirst = (size_t)((first - start) / window_ns), wlast = (size_t)((last - start) / window_ns);
            for (size_t w = wfirst + 1; w < wlast && w < nwindows; w++) {
                total_windows++;
                double c = (double)counts[w];
                if (c >= expected * 0.95 && c <= expected * 1.05) within++;
                if (counts[w] < lo) lo = counts[w];
                if (counts[w] > hi) hi = counts[w];
            }
        }
        if (total_windows == 0) lo = 0;
        printf(",\"windows\":%llu,\"windows_within_5pct\":%.6f,\"window_expected\":%.1f,\"window_min\":%llu,"
               "\"window_max\":%llu",
               (unsigned long long)total_windows, total_windows ? (double)within / (double)total_windows : 0.0,
               expected, (unsigned long long)lo, (unsigned long long)hi);
    }
    printf("}\n");
    return 0;
}

/* ---------------------------------------------------------------- reflect and ping */

/* A SIGALRM every 100 ms, without SA_RESTART, ends a blocking receive with EINTR so the loop can check
 * its deadline; unlike SO_RCVTIMEO it puts no timer on the kernel's path of every receive. */
static void on_alarm(int sig) { (void)sig; }
static void start_ticks(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0) die("sigaction");
    struct itimerval every = {.it_interval = {.tv_sec = 0, .tv_usec = 100000}, .it_value = {.tv_sec = 0, .tv_usec = 100000}};
    if (setitimer(ITIMER_REAL, &every, NULL) != 0) die("setitimer");
}

static int cmd_reflect(const struct options *o) {
    if (!o->listen || o->seconds <= 0) usage();
    int fd = udp_socket(o->listen, 1);
    start_ticks();
    char buf[SLOT_BYTES];
    uint64_t answered = 0, deadline = now_ns() + (uint64_t)(o->seconds * 1e9);
    while (now_ns() < deadline) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
        if (r < 0) continue; /* EINTR: the deadline is checked */
        if (sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&from, fromlen) == r) answered++;
    }
    printf("{\"answered\":%llu}\n", (unsigned long long)answered);
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmd_ping(const struct options *o) {
    double rate = o->rate > 0 ? o->rate : 1000;
    if (!o->target || o->seconds <= 0) usage();
    if (rate > 1e6 || o->seconds * rate > 1e8 || o->size < 8 || o->size > SLOT_BYTES) {
        fprintf(stderr, "udpref ping: --rate at most 1000000, --seconds x --rate at most 10^8, --size 8-%d\n", SLOT_BYTES);
        return 2;
    }
    int fd = udp_socket(o->target, 0);
    start_ticks();
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    size_t cap = (size_t)(o->seconds * rate) + 1;
    uint64_t *rtt = malloc(cap * sizeof *rtt);
    char out[SLOT_BYTES] = {0}, in[SLOT_BYTES];
    if (!rtt) die("malloc");
    uint64_t sent = 0, received = 0, start = now_ns(), deadline = start + (uint64_t)(o->seconds * 1e9);
    for (uint64_t seq = 0;; seq++) {
        uint64_t due = start + (uint64_t)((double)seq * 1e9 / rate);
        if (due >= deadline || sent >= cap) break;
        sleep_until(due);
        memcpy(out, &seq, sizeof seq);
        uint64_t t0 = now_ns();
        if (send(fd, out, (size_t)o->size, 0) != o->size) continue; /* an earlier ICMP error: next one */
        sent++;
        /* Until the reply, for at most 100 ms (checked after every datagram too, so a stream of
         * stale replies cannot hold the loop). */
        while (now_ns() - t0 < 100000000u) {
            ssize_t r = recv(fd, in, sizeof in, 0);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) break; /* an ICMP error: lost */
            uint64_t got;
            if (r < (ssize_t)sizeof got) continue;
            memcpy(&got, in, sizeof got);
            if (got != seq) continue; /* a late reply to an earlier request */
            rtt[received++] = now_ns() - t0;
            break;
        }
    }
    if (received == 0) {
        printf("{\"sent\":%llu,\"received\":0}\n", (unsigned long long)sent);
        return 1;
    }
    qsort(rtt, received, sizeof *rtt, cmp_u64);
    printf("{\"sent\":%llu,\"received\":%llu,\"p50_us\":%.3f,\"p99_us\":%.3f}\n", (unsigned long long)sent,
           (unsigned long long)received, (double)rtt[received / 2] / 1e3, (double)rtt[received * 99 / 100] / 1e3);
    free(rtt);
    return 0;
}

/* ---------------------------------------------------------------- freeport */

static int cmd_freeport(void) {
    for (int attempt = 0; attempt < 50; attempt++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
        if (u < 0 || t < 0) die("socket");
        if (bind(u, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(u, (struct sockaddr *)&a, &len) != 0)
            die("bind");
        int ok = bind(t, (struct sockaddr *)&a, sizeof a) == 0; /* same port free for TCP too? */
        close(u);
        close(t);
        if (ok) {
            printf("%d\n", ntohs(a.sin_port));
            return 0;
        }
    }
    fprintf(stderr, "udpref: no free port found\n");
    return 1;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    if (argc < 2) usage();
    struct options o = {.seconds = 0, .size = 64, .batch = 64};
    int size_given = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--gso")) { o.gso = 1; continue; }
        if (!strcmp(a, "--sources")) { o.sources = 1; continue; }
        if (!v) usage();
        if (!strcmp(a, "--target")) o.target = v;
        else if (!strcmp(a, "--listen")) o.listen = v;
        else if (!strcmp(a, "--tap-port")) o.tap_port = atoi(v);
        else if (!strcmp(a, "--seconds")) o.seconds = atof(v);
        else if (!strcmp(a, "--size")) { o.size = atoi(v); size_given = 1; }
        else if (!strcmp(a, "--batch")) o.batch = atoi(v);
        else if (!strcmp(a, "--rate")) o.rate = atof(v);
        else if (!strcmp(a, "--windows-ms")) o.windows_ms = atof(v);
        else if (!strcmp(a, "--expect-pps")) o.expect_pps = atof(v);
        else usage();
        i++;
    }
    if (o.batch < 1 || o.batch > 1024 || o.size < 0 || o.size > 65507 || o.seconds > 3600) usage();
    if (o.tap_port < 0 || o.tap_port > 65535) usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(argv[1], "send")) return cmd_send(&o);
    if (!strcmp(argv[1], "sink")) {
        if (!size_given) o.size = -1; /* the sink counts every size unless asked */
        return cmd_sink(&o);
    }
    if (!strcmp(argv[1], "reflect")) return cmd_reflect(&o);
    if (!strcmp(argv[1], "ping")) return cmd_ping(&o);
    if (!strcmp(argv[1], "freeport")) return cmd_freeport();
    usage();
}
