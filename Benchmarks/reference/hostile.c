/*
 * hostile - a hostile UDP peer for Benchmarks/hostile-peer.sh (the script builds it).
 *
 * Build:  gcc -O2 -D_GNU_SOURCE -o hostile hostile.c
 *
 *   hostile tags   --target 127.0.0.1:PORT --count N [--sockets K]
 *       N stamped datagrams, datagram i with job tag i+1 (flow 0, sequence 0), sent round-robin
 *       from K sockets (K source ports, so SO_REUSEPORT spreads them over a sink's threads).
 *   hostile jumps  --target 127.0.0.1:PORT --count N --step S
 *       N stamped datagrams of one tag and flow, datagram i with sequence i*S.
 *   hostile spoof  --from 127.0.0.1:A --to 127.0.0.1:B
 *       One stamped datagram through a raw socket (IP_HDRINCL; root only) with the forged source A.
 *   hostile replay --listen 127.0.0.1:PORT --seconds S [--behind 2097152] [--keep 1024]
 *       An echo reflector: answers every datagram honestly and keeps the first --keep replies;
 *       once it has answered a sequence number more than --behind past the newest kept one, it
 *       also sends the kept replies again and again (each burst led by the newest reply, so the
 *       peer's window has moved) until --seconds are up.
 *
 * Each prints one JSON line of counts. The stamp is Volley's (Sources/VolleyEngine/Stamp.swift):
 * "VLY1", tag, flow, reserved, 64-bit sequence, 64-bit send time, all big-endian, 32 bytes.
 * Only IPv4 loopback (127.0.0.0/8) is accepted, and every loop ends by itself.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STAMP 32
#define PAYLOAD 64
#define BATCH 1024
#define SLOT 2048

static void die(const char *what) { perror(what); exit(1); }

/* SIGTERM ends `replay` early but still prints its counts. */
static volatile sig_atomic_t stopping;
static void on_term(int sig) { (void)sig; stopping = 1; }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void stamp(uint8_t *p, uint32_t tag, uint32_t flow, uint64_t seq) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint32_t w[4] = {htobe32(0x564C5931), htobe32(tag), htobe32(flow), 0};
    uint64_t q[2] = {htobe64(seq), htobe64((uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec)};
    memcpy(p, w, 16);
    memcpy(p + 16, q, 16);
}

/* "127.x.y.z:PORT" -> address; anything but IPv4 loopback is refused. */
static struct sockaddr_in endpoint(const char *text) {
    struct sockaddr_in a = {.sin_family = AF_INET};
    char host[64];
    const char *colon = text ? strrchr(text, ':') : NULL;
    if (!colon || colon - text >= (long)sizeof host) goto bad;
    memcpy(host, text, colon - text);
    host[colon - text] = 0;
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127) goto bad;
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    return a;
bad:
    fprintf(stderr, "hostile: '%s' is not 127.0.0.0/8:PORT; only IPv4 loopback is allowed\n", text ? text : "");
    exit(2);
}

static int udp_socket(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 64 << 20;
    if (fd < 0) die("socket");
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return fd;
}

/* Sends one datagram per (tag, seq) pair; a short pause every 100 lets a receiver on loopback keep up. */
static long send_stamped(struct sockaddr_in to, long count, int sockets, int distinct_tags, uint64_t step) {
    int fds[256];
    long sent = 0;
    uint8_t p[PAYLOAD] = {0};
    for (int i = 0; i < sockets; i++) fds[i] = udp_socket();
    for (long i = 0; i < count; i++) {
        stamp(p, distinct_tags ? (uint32_t)(i + 1) : 0x486f7374u, 0, distinct_tags ? 0 : (uint64_t)i * step);
        if (sendto(fds[i % sockets], p, sizeof p, 0, (struct sockaddr *)&to, sizeof to) == sizeof p) sent++;
        if (i % 100 == 99) usleep(1000);
    }
    return sent;
}

static uint16_t checksum(const void *data, size_t n) {
    const uint16_t *w = data;
    uint32_t sum = 0;
    for (; n > 1; n -= 2) sum += *w++;
    if (n) sum += *(const uint8_t *)w;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* IPv4 header + UDP header + stamped payload, written by hand; the UDP checksum 0 means "none" (IPv4). */
static int spoof(struct sockaddr_in from, struct sockaddr_in to) {
    uint8_t packet[sizeof(struct iphdr) + sizeof(struct udphdr) + PAYLOAD] = {0};
    struct iphdr *ip = (struct iphdr *)packet;
    struct udphdr *udp = (struct udphdr *)(ip + 1);
    stamp((uint8_t *)(udp + 1), 0x53706f6fu, 0, 0);
    *ip = (struct iphdr){.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
                         .tot_len = htons(sizeof packet), .saddr = from.sin_addr.s_addr, .daddr = to.sin_addr.s_addr};
    ip->check = checksum(ip, sizeof *ip);
    *udp = (struct udphdr){.source = from.sin_port, .dest = to.sin_port, .len = htons(sizeof packet - sizeof *ip)};
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) die("raw socket (needs root or CAP_NET_RAW)");
    long n = sendto(fd, packet, sizeof packet, 0, (struct sockaddr *)&to, sizeof to);
    if (n < 0) die("sendto (raw)");
    close(fd);
    return n == sizeof packet;
}

static uint64_t seq_of(const uint8_t *p, long n) {
    uint64_t s;
    if (n < STAMP || memcmp(p, "VLY1", 4) != 0) return UINT64_MAX;
    memcpy(&s, p + 16, 8);
    return be64toh(s);
}

/* A message header sending `iov` to `to`. */
static struct msghdr message(struct sockaddr_in *to, struct iovec *iov) {
    return (struct msghdr){.msg_name = to, .msg_namelen = sizeof *to, .msg_iov = iov, .msg_iovlen = 1};
}

static void replay(struct sockaddr_in at, double seconds, uint64_t behind, int keep) {
    static uint8_t in[BATCH][SLOT], kept[BATCH][SLOT];
    static struct mmsghdr msgs[BATCH], out[BATCH + 1];
    static struct iovec iov[BATCH], kiov[BATCH + 1];
    static struct sockaddr_in from[BATCH];
    static uint8_t newest[SLOT];
    struct sockaddr_in peer = {0};
    long received = 0, answered = 0, replayed = 0, kept_n = 0;
    uint64_t newest_seq = 0, kept_max = 0;
    if (keep < 1 || keep > BATCH) keep = BATCH;
    int fd = udp_socket();
    struct timeval tv = {0, 20000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(fd, (struct sockaddr *)&at, sizeof at)) die("bind");
    double end = now_s() + seconds;
    signal(SIGTERM, on_term);
    while (!stopping && now_s() < end) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){in[i], SLOT};
            msgs[i].msg_hdr = message(&from[i], &iov[i]);
        }
        int flags = kept_n && newest_seq > kept_max + behind ? MSG_DONTWAIT : MSG_WAITFORONE;
        int n = recvmmsg(fd, msgs, BATCH, flags, NULL);
        for (int i = 0; i < n; i++) {
            long len = msgs[i].msg_len;
            uint64_t s = seq_of(in[i], len);
            iov[i].iov_len = len;
            received++;
            if (s == UINT64_MAX) continue;
            peer = from[i];
            if (kept_n < keep) {
                memcpy(kept[kept_n], in[i], len);
                kiov[kept_n++].iov_len = len;
                if (s > kept_max) kept_max = s;
            }
            if (s >= newest_seq) { newest_seq = s; memcpy(newest, in[i], len); kiov[keep].iov_len = len; }
        }
        for (int off = 0; n > 0 && off < n;) {
            int m = sendmmsg(fd, msgs + off, n - off, 0);
            if (m <= 0) break;
            answered += m;
            off += m;
        }
        if (!kept_n || newest_seq <= kept_max + behind) continue;
        /* Replay burst: the newest reply first (so the window has moved), then every kept one. */
        out[0].msg_hdr = message(&peer, &kiov[keep]);
        kiov[keep].iov_base = newest;
        for (long k = 0; k < kept_n; k++) {
            kiov[k].iov_base = kept[k];
            out[k + 1].msg_hdr = message(&peer, &kiov[k]);
        }
        int m = sendmmsg(fd, out, kept_n + 1, 0);
        if (m > 1) replayed += m - 1;
    }
    printf("{\"received\":%ld,\"answered\":%ld,\"replayed\":%ld,\"kept\":%ld,"
           "\"kept_max_seq\":%llu,\"newest_seq\":%llu}\n",
           received, answered, replayed, kept_n, (unsigned long long)kept_max, (unsigned long long)newest_seq);
}

int main(int argc, char **argv) {
    const char *target = NULL, *listen = NULL, *from = NULL, *to = NULL;
    long count = 0, step = 1, sockets = 1, behind = 1 << 21, keep = BATCH;
    double seconds = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--target")) target = v;
        else if (!strcmp(k, "--listen")) listen = v;
        else if (!strcmp(k, "--from")) from = v;
        else if (!strcmp(k, "--to")) to = v;
        else if (!strcmp(k, "--count")) count = atol(v);
        else if (!strcmp(k, "--step")) step = atol(v);
        else if (!strcmp(k, "--sockets")) sockets = atol(v);
        else if (!strcmp(k, "--behind")) behind = atol(v);
        else if (!strcmp(k, "--keep")) keep = atol(v);
        else if (!strcmp(k, "--seconds")) seconds = atof(v);
        else { fprintf(stderr, "hostile: unknown option %s\n", k); return 2; }
    }
    const char *cmd = argc > 1 ? argv[1] : "";
    if (sockets < 1 || sockets > 256 || seconds <= 0 || seconds > 120) {
        fprintf(stderr, "hostile: --sockets is 1 to 256, --seconds more than 0 and at most 120\n");
        return 2;
    }
    if (!strcmp(cmd, "tags")) printf("{\"sent\":%ld}\n", send_stamped(endpoint(target), count, sockets, 1, 0));
    else if (!strcmp(cmd, "jumps")) printf("{\"sent\":%ld}\n", send_stamped(endpoint(target), count, 1, 0, step));
    else if (!strcmp(cmd, "spoof")) printf("{\"sent\":%d}\n", spoof(endpoint(from), endpoint(to)));
    else if (!strcmp(cmd, "replay")) replay(endpoint(listen), seconds, behind, keep);
    else {
        fprintf(stderr, "usage: hostile tags|jumps|spoof|replay ... (see the comment at the top of hostile.c)\n");
        return 2;
    }
    return 0;
}
